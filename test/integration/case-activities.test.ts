import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import type { IncidentPageInput } from '../../activities/incidents';
import type { CaseState } from '../../domain/case-state';
import { defaultCompensationPolicy } from '../../domain/compensation-policy';
import type { RecordStepsInput, StepEvent } from '../../domain/messages';
import { seedCustomer, startTestDatabase, type TestDatabase } from '../support/database';
import { seedRegion } from '../support/incidents';

// The activities against real Postgres: recordSteps (D1, one transaction per transition), fan-out
// pages over a fixed recipient snapshot (O4, O7, P5), and failures that stop (issue 8, item 6).
let db: TestDatabase;
let activities: ReturnType<typeof createActivities>;
const logLines: string[] = [];

beforeAll(async () => {
  db = await startTestDatabase(55471);
  activities = createActivities({ sql: db.sql, log: (line) => logLines.push(line) });
  await seedCustomer(db.sql, { id: 'cust-rs', locale: 'en', email: 'rs@example.test', channels: ['inbox', 'email'] });
});

afterAll(async () => {
  await db?.stop();
});

const workflowId = 'complaint-CMP-2026-000101';
const caseId = 'CMP-2026-000101';

function state(status: string, updatedAt: string): CaseState {
  return {
    caseId,
    workflowId,
    type: 'complaint',
    status,
    priority: 'normal',
    customerId: 'cust-rs',
    summary: 'Slow line',
    openedAt: '2026-11-20T08:00:00.000Z',
    updatedAt,
    slaBreached: false,
    deadlines: [],
    nextStep: null,
    expectedCompletionAt: null,
    allowedActions: [],
    details: {} as CaseState['details'],
  };
}

function event(type: string, key?: string): StepEvent {
  return {
    type,
    actor: { id: 'agent/lin', role: 'agent' },
    occurredAt: '2026-11-20T08:00:00.000Z',
    data: { note: type },
    notifications: key ? [{ idempotencyKey: key, customerId: 'cust-rs', caseId, templateId: 'complaint.received', params: { caseId, summary: 'Slow line' } }] : [],
    staffNotifications: key
      ? [{ idempotencyKey: `${key}:staff`, role: 'supervisor', kind: 'info', subject: type, body: type, occurredAt: '2026-11-20T08:00:00.000Z', deliverAfter: '2026-11-20T08:00:00.000Z' }]
      : [],
  };
}

async function counts() {
  const [row] = await db.sql`
    select (select count(*)::int from case_events where workflow_id = ${workflowId}) as events,
           (select count(*)::int from notifications where case_id = ${caseId}) as notifications,
           (select count(*)::int from staff_notifications where case_id = ${caseId}) as staff,
           (select last_step from cases where case_id = ${caseId}) as last_step,
           (select status from cases where case_id = ${caseId}) as status`;
  return row!;
}

describe('recordSteps', () => {
  const intake: RecordStepsInput = { workflowId, firstStep: 1, state: state('received', '2026-11-20T08:00:00.000Z'), events: [event('complaint.opened', `${workflowId}:1`), event('sla.started')] };

  it('appends every event, moves the read model and queues their messages in one call', async () => {
    expect(await activities.recordSteps(intake)).toEqual({ recorded: 2 });
    // Inbox and e-mail for the customer, one staff message.
    expect(await counts()).toMatchObject({ events: 2, notifications: 2, staff: 1, last_step: 2, status: 'received' });
    const steps = await db.sql`select step, type, data from case_events where workflow_id = ${workflowId} order by step`;
    expect(steps.map((row) => [row.step, row.type, row.data])).toEqual([
      [1, 'complaint.opened', { note: 'complaint.opened' }],
      [2, 'sla.started', { note: 'sla.started' }],
    ]);
  });

  it('a retry records nothing and queues nothing twice', async () => {
    expect(await activities.recordSteps(intake)).toEqual({ recorded: 0 });
    expect(await counts()).toMatchObject({ events: 2, notifications: 2, staff: 1, last_step: 2 });
  });

  it('a transition overlapping recorded steps queues only the messages of the steps it appended', async () => {
    const overlapping: RecordStepsInput = {
      workflowId,
      firstStep: 2,
      state: state('acknowledged', '2026-11-20T09:00:00.000Z'),
      events: [event('sla.started', `${workflowId}:2-again`), event('complaint.acknowledged', `${workflowId}:3`)],
    };
    expect(await activities.recordSteps(overlapping)).toEqual({ recorded: 1 });
    expect(await counts()).toMatchObject({ events: 3, notifications: 4, staff: 2, last_step: 3, status: 'acknowledged' });
    const keys = await db.sql`select idempotency_key from notifications where case_id = ${caseId} order by idempotency_key`;
    expect(keys.map((row) => row.idempotency_key)).not.toContain(`${workflowId}:2-again:inbox`);
  });

  it('never moves the read model back', async () => {
    await activities.recordSteps({ ...intake, state: state('received', '2026-11-20T10:00:00.000Z') });
    expect(await counts()).toMatchObject({ last_step: 3, status: 'acknowledged' });
  });

  it('fails for good, naming the case, on data Postgres refuses (SQLSTATE class 22)', async () => {
    const bad: RecordStepsInput = { workflowId, firstStep: 4, state: state('acknowledged', '2026-11-20T11:00:00.000Z'), events: [{ ...event('complaint.noted'), occurredAt: 'not a time' }] };
    const failure = await activities.recordSteps(bad).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'DataError', nonRetryable: true });
    expect(JSON.parse(logLines.at(-1)!)).toMatchObject({ activity: 'recordSteps', type: 'DataError', workflowId, caseId, sqlState: expect.stringMatching(/^22/) });
    expect(await counts()).toMatchObject({ events: 3, last_step: 3 });
  });
});

describe('fan-out pages over a fixed recipient snapshot', () => {
  const incidentWorkflowId = 'incident-INC-2026-000201';
  const page = (afterCustomerId: string | null, overrides: Partial<IncidentPageInput> = {}): IncidentPageInput => ({
    incidentWorkflowId,
    caseId: 'INC-2026-000201',
    notificationKeyPrefix: `${incidentWorkflowId}:recovery`,
    kind: 'recovery',
    scopes: [{ services: ['broadband'], regions: ['fan-east'] }],
    afterCustomerId,
    pageSize: 2,
    timeZone: 'Asia/Shanghai',
    message: { title: 'Fibre cut', startedAt: '2026-11-20T06:00:00.000Z', endedAt: '2026-11-20T08:00:00.000Z', outageMinutes: 120 },
    compensation: defaultCompensationPolicy,
    ...overrides,
  });

  it('fixes the recipients once: customers who join the scope later are not told, a second snapshot changes nothing', async () => {
    await seedRegion(db.sql, 'east', 'fan-east', 5);
    expect(await activities.snapshotFanoutRecipients({ fanoutKey: `${incidentWorkflowId}:recovery`, scopes: page(null).scopes })).toEqual({ customers: 5 });
    await seedRegion(db.sql, 'east', 'fan-east', 7);
    expect(await activities.snapshotFanoutRecipients({ fanoutKey: `${incidentWorkflowId}:recovery`, scopes: page(null).scopes })).toEqual({ customers: 5 });
    expect(await activities.countAffectedCustomers({ scopes: page(null).scopes })).toMatchObject({ count: 7 });
  });

  it('pages through the snapshot in id order; a retried page reports the rows by key, not the rows it inserted', async () => {
    const first = await activities.deliverIncidentPage(page(null));
    expect(first).toMatchObject({ customers: 2, lastCustomerId: 'east-000002', remediesPaid: 2, done: false });
    // east-000002 chose e-mail too: 2 inbox rows + 1 e-mail row.
    expect(first.notificationsQueued).toBe(3);
    expect(first.remedyAmountCents).toBeGreaterThan(0);
    const retried = await activities.deliverIncidentPage(page(null));
    expect(retried).toEqual(first);
    const second = await activities.deliverIncidentPage(page(first.lastCustomerId));
    const third = await activities.deliverIncidentPage(page(second.lastCustomerId));
    expect([second.lastCustomerId, third.lastCustomerId, third.customers, third.done]).toEqual(['east-000004', 'east-000005', 1, true]);
    const told = await db.sql`select distinct customer_id from notifications where idempotency_key like ${`${incidentWorkflowId}:recovery:%`} order by customer_id`;
    expect(told.map((row) => row.customer_id)).toEqual(['east-000001', 'east-000002', 'east-000003', 'east-000004', 'east-000005']);
    const [ledger] = await db.sql`select count(*)::int as n from ledger where case_id = 'INC-2026-000201'`;
    expect(ledger!.n).toBe(5);
  });

  it('a fan-out that started before snapshots existed takes its snapshot at its next page', async () => {
    const result = await activities.deliverIncidentPage(
      page(null, {
        notificationKeyPrefix: `${incidentWorkflowId}:update`,
        kind: 'update',
        pageSize: 10,
        message: { title: 'Fibre cut', startedAt: '2026-11-20T06:00:00.000Z', message: 'Crews on site' },
      }),
    );
    expect(result).toMatchObject({ customers: 7, remediesPaid: 0, done: true });
  });

  it('a message that cannot be rendered fails the page for good (TemplateError)', async () => {
    const failure = await activities
      .deliverIncidentPage(page(null, { notificationKeyPrefix: `${incidentWorkflowId}:broken`, message: { title: 'x', startedAt: 'garbage' } }))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'TemplateError', nonRetryable: true });
    expect(JSON.parse(logLines.at(-1)!)).toMatchObject({ activity: 'deliverIncidentPage', type: 'TemplateError', workflowId: incidentWorkflowId, caseId: 'INC-2026-000201' });
  });
});
