import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../domain/actors';
import { caseWorkflowId } from '../../domain/case-types';
import { defaultCompensationPolicy } from '../../domain/compensation-policy';
import { defaultIncidentPolicy } from '../../domain/incident-policy';
import { defaultRenewalPolicy, renewalSendTimes, type RenewalInput } from '../../domain/renewal';
import { defaultServiceChangePolicy } from '../../domain/service-change';
import type { ServiceChangeInput } from '../../domain/service-change-case';
import { actUpdate, stateQuery } from '../../workflows/protocol';
import type { TestDatabase } from '../support/database';
import { seedCustomer } from '../support/database';
import { days, hours, minutes } from '../support/durations';
import { eventually } from '../support/eventually';
import { seedRegion, testCalendar } from '../support/incidents';
import { startTimeSkippingBed, type TimeSkippingBed } from '../support/time-skipping-bed';

// Service changes and renewal notices on the time-skipping server with real Postgres, at their real
// lengths: the 48-hour notice (N1), the reminder 24 hours before (N2), who is told (N3), renewal
// sends 30 and 7 days before (N4), and an overrunning window becoming an incident.
const taskQueue = 'service-changes';
const timeZone = 'Asia/Shanghai';
const agent: Actor = { id: 'agent/test', role: 'agent' };
const supervisor: Actor = { id: 'supervisor/test', role: 'supervisor' };
const inScope = 5;
let bed: TimeSkippingBed;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let sequence = 0;

beforeAll(async () => {
  bed = await startTimeSkippingBed({ postgresPort: 55477, taskQueue });
  ({ env, db } = bed);
  // In scope: broadband in chg-east. Out of scope: another region, and the same region without broadband.
  await seedRegion(db.sql, 'chg', 'chg-east', inScope);
  await seedRegion(db.sql, 'other', 'chg-west', 3);
  await seedCustomer(db.sql, { id: 'iptv-only', region: 'chg-east', services: ['iptv'] });
}, 180_000);
afterAll(() => bed?.stop());

const iso = (ms: number) => new Date(ms).toISOString();
const nextCaseId = () => `CHG-2026-${String(800 + ++sequence).padStart(6, '0')}`;

function changeInput(caseId: string, effectiveAtMs: number, overrides: Partial<ServiceChangeInput> = {}): ServiceChangeInput {
  return {
    caseId,
    changeType: 'maintenance',
    title: 'Core router upgrade in chg-east',
    whatChanges: 'New firmware on the core routers',
    impact: { services: ['broadband'], regions: ['chg-east'], downtime: { startsAt: iso(effectiveAtMs), endsAt: iso(effectiveAtMs + hours(2)) } },
    userAction: 'Nothing: your router reconnects by itself',
    contacts: 'Call 10000',
    appealChannel: 'https://isp.example/appeal',
    effectiveAt: iso(effectiveAtMs),
    emergency: null,
    openedBy: agent,
    policy: defaultServiceChangePolicy,
    incidentTerms: { policy: defaultIncidentPolicy, compensation: defaultCompensationPolicy },
    timeZone,
    calendar: testCalendar(effectiveAtMs),
    ...overrides,
  };
}

const startChange = (input: ServiceChangeInput) => env.client.workflow.start('serviceChange', { taskQueue, workflowId: caseWorkflowId('service-change', input.caseId), args: [input] });
const act = (handle: WorkflowHandle, action: string, input: Record<string, unknown>, actor: Actor = agent) => handle.executeUpdate(actUpdate, { args: [{ action, input, actor }] });
const details = async (handle: WorkflowHandle) => (await handle.query(stateQuery)).details as Record<string, any>;
const fanoutsDone = (handle: WorkflowHandle, count: number) =>
  eventually(
    () => details(handle),
    (current) => current.fanouts.length >= count,
  );
const eventsOf = (caseId: string, type: string) =>
  db.sql<{ occurred_at: Date; data: Record<string, any> }[]>`select occurred_at, data from case_events where case_id = ${caseId} and type = ${type} order by step`;
const inboxOf = (caseId: string, template: string) =>
  db.sql<{ customer_id: string }[]>`select customer_id from notifications where case_id = ${caseId} and template = ${template} and channel = 'inbox' order by customer_id`;

async function refusal(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return (error as WorkflowUpdateFailedError).cause as ApplicationFailure;
}

describe('service changes (N1–N3)', () => {
  it('N1, N2, N3: announced 48 h ahead, every user in scope is told once (and only they), and reminded at exactly 24 h before', async () => {
    const caseId = nextCaseId();
    const openedAtMs = await env.currentTimeMs();
    const effectiveAtMs = openedAtMs + hours(48);
    const handle = await startChange(changeInput(caseId, effectiveAtMs));
    const opened = await fanoutsDone(handle, 1);
    expect(opened.fanouts[0]).toMatchObject({ kind: 'notice', customers: inScope });
    const told = await inboxOf(caseId, 'change.notice');
    expect(told.map((row) => row.customer_id)).toEqual(['chg-000001', 'chg-000002', 'chg-000003', 'chg-000004', 'chg-000005']);
    const keys = await db.sql<{ idempotency_key: string }[]>`select idempotency_key from notifications where case_id = ${caseId} and channel = 'inbox'`;
    expect(keys.map((row) => row.idempotency_key)).toContain(`service-change-${caseId}:notice:chg-000001:inbox`);
    // N3: the e-mail of those who chose it, queued with the inbox copy.
    const emails = await db.sql`select customer_id from notifications where case_id = ${caseId} and template = 'change.notice' and channel = 'email'`;
    expect(emails.length).toBe(2);

    const reminderAtMs = effectiveAtMs - hours(24);
    await env.sleep(reminderAtMs - minutes(1) - (await env.currentTimeMs()));
    expect(await eventsOf(caseId, 'change.reminder-sent')).toEqual([]);
    await env.sleep(minutes(2));
    await fanoutsDone(handle, 2);
    // The durable timer is laid for the due time; the event keeps it, and its own time lies within the timer's resolution.
    const [reminder] = await eventsOf(caseId, 'change.reminder-sent');
    expect(reminder!.data.dueAt).toBe(iso(reminderAtMs));
    expect(reminder!.occurred_at.getTime() - reminderAtMs).toBeGreaterThanOrEqual(0);
    expect(reminder!.occurred_at.getTime() - reminderAtMs).toBeLessThan(1000);
    expect((await inboxOf(caseId, 'change.reminder')).length).toBe(inScope);

    await env.sleep(effectiveAtMs + hours(1) - (await env.currentTimeMs()));
    expect((await handle.query(stateQuery)).status).toBe('in-progress');
    await act(handle, 'complete', { summary: 'Firmware upgraded' });
    expect(await handle.result()).toMatchObject({ status: 'completed', incidentId: null });
    expect((await inboxOf(caseId, 'change.done')).length).toBe(inScope);
    const perCustomer = await db.sql<{ customer_id: string; notices: number }[]>`
      select customer_id, count(*)::int as notices from notifications where case_id = ${caseId} and channel = 'inbox' group by customer_id`;
    expect(perCustomer.every((row) => row.notices === 3)).toBe(true);
  });

  it('N1: on the server clock, reschedule is refused at 47 h 59 min from now (naming the earliest time) and accepted at 48 h; the reminder moves', async () => {
    const caseId = nextCaseId();
    const handle = await startChange(changeInput(caseId, (await env.currentTimeMs()) + days(3)));
    await fanoutsDone(handle, 1);
    await env.sleep(hours(30));
    // One second before a whole minute: the 48 h count from the notice's minute (rounded up), one second away.
    const before = await env.currentTimeMs();
    await env.sleep((2 * minutes(1) - 1000 - (before % minutes(1))) % minutes(1));
    const nowMs = Math.ceil((await env.currentTimeMs()) / minutes(1)) * minutes(1);
    const early = await refusal(act(handle, 'reschedule', { effectiveAt: iso(nowMs + hours(47) + minutes(59)), reason: 'Parts arrive late' }));
    expect(early.type).toBe('InvalidActionInput');
    expect(early.details?.[0]).toEqual([{ field: 'input.effectiveAt', message: expect.stringContaining(`the earliest allowed is ${iso(nowMs + hours(48))}`) }]);
    const moved = await act(handle, 'reschedule', { effectiveAt: iso(nowMs + hours(48)), reason: 'Parts arrive late' });
    expect(moved.details).toMatchObject({ effectiveAt: iso(nowMs + hours(48)), reminder: { dueAt: iso(nowMs + hours(24)), sentAt: null } });
    await fanoutsDone(handle, 2);
    expect((await inboxOf(caseId, 'change.rescheduled')).length).toBe(inScope);
    // The old reminder time (3 days − 24 h after opening) passes without a reminder; the new one fires.
    await env.sleep(hours(23));
    expect(await eventsOf(caseId, 'change.reminder-sent')).toEqual([]);
    await env.sleep(hours(2));
    await fanoutsDone(handle, 3);
    const [reminder] = await eventsOf(caseId, 'change.reminder-sent');
    expect(reminder!.data.dueAt).toBe(iso(nowMs + hours(24)));
    await act(handle, 'cancel', { reason: 'Done in another window' });
    expect(await handle.result()).toMatchObject({ status: 'cancelled' });
  });

  it('N1: an emergency reschedule needs a supervisor and a justification; it is recorded and shown in the details', async () => {
    const caseId = nextCaseId();
    const handle = await startChange(changeInput(caseId, (await env.currentTimeMs()) + days(5)));
    const soon = iso((await env.currentTimeMs()) + hours(6));
    const justification = 'Exploited firmware flaw';
    expect((await refusal(act(handle, 'reschedule', { effectiveAt: soon, reason: 'Security fix', emergency: { justification } }))).type).toBe('ActionForbidden');
    expect((await refusal(act(handle, 'reschedule', { effectiveAt: soon, reason: 'Security fix', emergency: {} }, supervisor))).type).toBe('InvalidActionInput');
    const moved = await act(handle, 'reschedule', { effectiveAt: soon, reason: 'Security fix', emergency: { justification } }, supervisor);
    expect(moved.details).toMatchObject({ emergency: true, emergencies: [{ justification, by: supervisor.id, on: 'reschedule' }], reminder: { dueAt: null } });
    const [emergency] = await eventsOf(caseId, 'change.emergency');
    expect(emergency!.data).toMatchObject({ justification, on: 'reschedule' });
    expect([359, 360]).toContain(emergency!.data.leadMinutes);
    await fanoutsDone(handle, 2);
    expect((await inboxOf(caseId, 'change.emergency')).length).toBe(inScope);
    await act(handle, 'cancel', { reason: 'Patched remotely instead' });
    await handle.result();
  });

  it('O4, O5: a downtime window that ends before complete opens an incident from the window end, with the change scope', async () => {
    const caseId = nextCaseId();
    const effectiveAtMs = (await env.currentTimeMs()) + hours(48);
    const handle = await startChange(changeInput(caseId, effectiveAtMs));
    await env.sleep(effectiveAtMs + hours(2) + minutes(1) - (await env.currentTimeMs()));
    const outcome = await handle.result();
    expect(outcome).toMatchObject({ status: 'overran', incidentId: expect.stringMatching(/^INC-\d{4}-\d{6}$/) });
    const incident = env.client.workflow.getHandle(caseWorkflowId('incident', outcome.incidentId));
    const state = await eventually(
      () => incident.query(stateQuery),
      (current) => current.status === 'open' && current.details.affectedCount === inScope,
    );
    expect(state.details).toMatchObject({ startedAt: iso(effectiveAtMs + hours(2)), scope: { services: ['broadband'], regions: ['chg-east'] }, affectedCount: inScope });
    expect(state.deadlines.find((deadline) => deadline.name === 'notice')?.dueAt).toBe(iso(effectiveAtMs + hours(4)));
    const [overran] = await eventsOf(caseId, 'change.incident-opened');
    expect(overran!.data.incidentId).toBe(outcome.incidentId);
    // Closed the ordinary way (a terminated workflow's activity in flight would hold the test server's clock).
    await act(incident, 'dismiss', { reason: 'test over' }, supervisor);
    await incident.result();
  });
});

describe('renewal notices (N4)', () => {
  it('N4: a segment is told 30 days and 7 days before the renewal date, each send recorded with its outbox rows', async () => {
    const caseId = nextCaseId();
    const renewalDate = DateTime.fromMillis((await env.currentTimeMs()) + days(40), { zone: timeZone }).toISODate()!;
    const [thirty, seven] = renewalSendTimes(renewalDate, [30, 7], timeZone, '10:00').map((send) => send.dueAtMs) as [number, number];
    const input: RenewalInput = {
      caseId,
      audience: { segment: { services: ['broadband'], regions: ['chg-east'] } },
      service: 'Home broadband 500M',
      fees: '¥99.00 per month',
      term: '12 months',
      conditions: 'Renews automatically unless cancelled',
      contacts: 'Call 10000',
      renewalDate,
      openedBy: agent,
      policy: defaultRenewalPolicy,
      timeZone,
      calendar: testCalendar(await env.currentTimeMs()),
    };
    const handle = await env.client.workflow.start('renewalNotice', { taskQueue, workflowId: caseWorkflowId('service-change', caseId), args: [input] });
    await env.sleep(thirty - minutes(1) - (await env.currentTimeMs()));
    expect(await eventsOf(caseId, 'renewal.sent')).toEqual([]);
    await env.sleep(minutes(2));
    await eventually(
      () => eventsOf(caseId, 'renewal.notified'),
      (rows) => rows.length === 1,
    );
    await env.sleep(seven + minutes(1) - (await env.currentTimeMs()));
    await eventually(
      () => eventsOf(caseId, 'renewal.notified'),
      (rows) => rows.length === 2,
    );
    const sent = await eventsOf(caseId, 'renewal.sent');
    expect(sent.map((row) => [row.data.dueAt, row.data.daysBefore, row.data.daysLeft, row.data.late])).toEqual([
      [iso(thirty), 30, 30, false],
      [iso(seven), 7, 7, false],
    ]);
    expect(sent.map((row) => row.occurred_at.getTime() - Date.parse(row.data.dueAt)).every((lateByMs) => lateByMs >= 0 && lateByMs < 1000)).toBe(true);
    const rows = await db.sql<{ customer_id: string; idempotency_key: string; body: string }[]>`
      select customer_id, idempotency_key, body from notifications where case_id = ${caseId} and channel = 'inbox' order by idempotency_key`;
    expect(rows.length).toBe(2 * inScope);
    expect(rows[0]!.idempotency_key).toBe(`service-change-${caseId}:renewal-30:chg-000001:inbox`);
    expect(rows.find((row) => row.idempotency_key.includes(':renewal-7:'))!.body).toMatch(/¥99\.00/);
    await env.sleep(days(8));
    expect(await handle.result()).toMatchObject({ status: 'completed', sends: 2 });
  });
});
