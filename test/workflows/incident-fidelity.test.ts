import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseWorkflowId } from '../../domain/case-types';
import type { CaseState } from '../../domain/case-state';
import { addWorkingDays } from '../../domain/working-calendar';
import type { IncidentInput } from '../../workflows/incident';
import { actUpdate, stateQuery } from '../../workflows/protocol';
import type { TestDatabase } from '../support/database';
import { eventually, incidentInput, seedRegion, testCalendar, testTimeZone } from '../support/incidents';
import { startTimeSkippingBed, type TimeSkippingBed } from '../support/time-skipping-bed';
import { days, hours, minutes } from '../support/durations';

// Issue 9 on the time-skipping server, at the real lengths of the incident policy: O4 "told means
// told" and C14 review reminders after the breach. New incidents get every later rule.
const taskQueue = 'incident-fidelity';
const agent = { id: 'agent/test', role: 'agent' as const };
const region = { services: ['broadband'], regions: ['fidelity-region'] };
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let bed: TimeSkippingBed;
let caseSequence = 0;

beforeAll(async () => {
  bed = await startTimeSkippingBed({ postgresPort: 55452, taskQueue });
  ({ env, db } = bed);
  // 4 customers: 4 inboxes, 2 e-mail addresses.
  await seedRegion(db.sql, 'fid', 'fidelity-region', 4);
});

afterAll(() => bed?.stop());

const nextCaseId = () => `INC-2026-${String(900 + ++caseSequence).padStart(6, '0')}`;

async function start(input: IncidentInput) {
  return env.client.workflow.start('incident', { taskQueue, workflowId: caseWorkflowId('incident', input.caseId), args: [input] });
}

type Handle = Awaited<ReturnType<typeof start>>;
const notice = (state: CaseState) => state.details.notice as { publishedAt: string | null; auto: boolean | null; late: boolean | null; latenessMinutes: number | null; dueAt: string };
const deadline = (state: CaseState, name: string) => state.deadlines.find((candidate) => candidate.name === name)!;
const act = (handle: Handle, action: string, input: Record<string, unknown> = {}) => handle.executeUpdate(actUpdate, { args: [{ action, input, actor: agent }] });

async function events(caseId: string) {
  return db.sql<{ type: string; data: Record<string, unknown>; occurred_at: Date }[]>`select type, data, occurred_at from case_events where case_id = ${caseId} order by step`;
}

async function staffMessages(caseId: string, kind: string) {
  return db.sql<{ role: string; kind: string; body: string; occurred_at: Date }[]>`
    select role, kind, body, occurred_at from staff_notifications where case_id = ${caseId} and kind = ${kind} order by occurred_at`;
}

async function notices(caseId: string, template: string) {
  return db.sql<{ customer_id: string; channel: string }[]>`select customer_id, channel from notifications where case_id = ${caseId} and template = ${template} order by customer_id, channel`;
}

describe('O4: "told" means someone was told (time-skipping, real lengths)', () => {
  it('O4: an auto-publish at start + 1 h 45 min to an empty scope does not meet the notice clock and escalates once; set-scope at 2 h 10 min delivers the notice at once, 10 min late', async () => {
    const startedAtMs = await env.currentTimeMs();
    const handle = await start(incidentInput({ caseId: nextCaseId(), startedAtMs, scope: null }));
    const caseId = (await handle.query(stateQuery)).caseId;

    await env.sleep(minutes(104));
    const before = await handle.query(stateQuery);
    expect(notice(before).publishedAt).toBeNull();
    expect((await events(caseId)).map((event) => event.type)).not.toContain('incident.notice-held');

    await env.sleep(minutes(1));
    const held = await eventually(
      () => events(caseId),
      (rows) => rows.some((event) => event.type === 'incident.notice-held'),
    );
    const holding = held.find((event) => event.type === 'incident.notice-held')!;
    expect(holding.data).toMatchObject({ reason: 'empty-scope', affectedCount: 0, escalatedTo: 'supervisor' });
    const heldAfterMs = holding.occurred_at.getTime() - startedAtMs;
    expect(heldAfterMs).toBeGreaterThanOrEqual(minutes(105));
    expect(heldAfterMs).toBeLessThan(minutes(106));
    expect(held.map((event) => event.type)).not.toContain('incident.notice-published');
    const whenHeld = await handle.query(stateQuery);
    expect(notice(whenHeld).publishedAt).toBeNull();
    expect(deadline(whenHeld, 'notice').state).toBe('pending');
    expect(whenHeld.nextStep).toMatch(/set the scope/);
    const escalations = await eventually(
      () => staffMessages(caseId, 'notice-held'),
      (rows) => rows.length === 1,
    );
    expect(escalations).toMatchObject([{ role: 'supervisor' }]);
    expect(escalations[0]!.body).toContain('set-scope');

    // The deadline passes with nobody told: breached and escalated, the notice still pending.
    await env.sleep(minutes(25));
    const breached = await eventually(
      () => handle.query(stateQuery),
      (state) => deadline(state, 'notice').state === 'breached',
    );
    expect(breached.slaBreached).toBe(true);
    expect(notice(breached).publishedAt).toBeNull();
    expect(await notices(caseId, 'incident.outage-notice')).toHaveLength(0);

    // Staff set the scope at start + 2 h 10 min: the users in it are told at once, recorded 10 min late.
    const scoped = await act(handle, 'set-scope', region);
    expect(scoped.details.affectedCount).toBe(4);
    expect(notice(scoped)).toMatchObject({ auto: true, late: true, latenessMinutes: 10 });
    const publishedAfterMs = Date.parse(notice(scoped).publishedAt!) - startedAtMs;
    expect(publishedAfterMs).toBeGreaterThanOrEqual(minutes(130));
    expect(publishedAfterMs).toBeLessThan(minutes(131));
    expect(deadline(scoped, 'notice').state).toBe('breached');
    const sent = await eventually(
      () => notices(caseId, 'incident.outage-notice'),
      (rows) => rows.length === 6,
    );
    expect(new Set(sent.map((row) => row.customer_id))).toEqual(new Set(['fid-000001', 'fid-000002', 'fid-000003', 'fid-000004']));
    const trail = await events(caseId);
    const types = trail.map((event) => event.type);
    expect(types.indexOf('incident.notice-published')).toBe(types.indexOf('incident.scope-set') + 1);
    expect(trail.find((event) => event.type === 'incident.notice-published')!.data).toMatchObject({ auto: true, late: true, latenessMinutes: 10, affectedCount: 4 });
    expect(trail.find((event) => event.type === 'sla.met')!.data).toEqual({ clock: 'notice', late: true });
    // Escalated once: one notice-held message, one breach message.
    expect(await staffMessages(caseId, 'notice-held')).toHaveLength(1);
    expect(await staffMessages(caseId, 'notice-breached')).toHaveLength(1);
    expect(types.filter((type) => type === 'incident.notice-held')).toHaveLength(1);
  });
});

describe('C14: incidents waiting for their review keep reminding (time-skipping, real lengths)', () => {
  it('C14: after the review breach a reminder every 24 h, escalated to supervisors, until the review is submitted', async () => {
    const now = await env.currentTimeMs();
    const handle = await start(incidentInput({ caseId: nextCaseId(), startedAtMs: now - minutes(30), scope: region }));
    const resolved = await act(handle, 'resolve', { summary: 'Trunk spliced' });
    const caseId = resolved.caseId;
    const resolvedAtMs = Date.parse(resolved.updatedAt);
    const reviewDueMs = addWorkingDays(testCalendar(now), resolvedAtMs, 5, testTimeZone).dueAtMs;
    expect(Date.parse(deadline(resolved, 'review').dueAt!)).toBe(reviewDueMs);
    const remindersBeforeDue = Math.ceil((reviewDueMs - resolvedAtMs) / days(1)) - 1;

    // Up to 2 days and 1 hour past the last reminder due after the breach.
    const firstOverdueMs = resolvedAtMs + days(remindersBeforeDue + 1);
    await env.sleep(firstOverdueMs + days(2) + hours(1) - (await env.currentTimeMs()));
    const trail = await eventually(
      () => events(caseId),
      (rows) => rows.filter((event) => event.type === 'incident.review-reminder').length === remindersBeforeDue + 3,
      30_000,
    );
    const reminders = trail.filter((event) => event.type === 'incident.review-reminder');
    expect(reminders).toHaveLength(remindersBeforeDue + 3);
    const overdue = reminders.filter((event) => event.data.overdue === true);
    expect(overdue).toHaveLength(3);
    expect(overdue.map((event) => event.data.at)).toEqual([0, 1, 2].map((day) => new Date(firstOverdueMs + days(day)).toISOString()));
    expect(overdue.every((event) => Date.parse(String(event.data.at)) >= reviewDueMs && event.data.escalatedTo === 'supervisor')).toBe(true);
    expect(trail.some((event) => event.type === 'sla.breached' && event.data.clock === 'review')).toBe(true);

    const toSupervisors = await eventually(
      () => staffMessages(caseId, 'review-overdue'),
      (rows) => rows.length === 3,
    );
    expect(toSupervisors.map((row) => row.role)).toEqual(['supervisor', 'supervisor', 'supervisor']);
    expect(toSupervisors[0]!.body).toMatch(/overdue: submit it/);
    expect(await staffMessages(caseId, 'review-reminder')).toHaveLength(remindersBeforeDue);
    expect(await staffMessages(caseId, 'review-breached')).toMatchObject([{ role: 'supervisor' }]);

    const closed = await act(handle, 'submit-review', { summary: 'A digger cut the trunk', rootCause: 'Unmarked trunk route' });
    expect(closed.status).toBe('closed');
    expect(await handle.result()).toMatchObject({ status: 'closed' });
    const submitted = (await events(caseId)).find((event) => event.type === 'incident.review-submitted')!;
    expect(submitted.data).toMatchObject({ late: true });
  });
});

describe('O4: a wider scope after the notice', () => {
  it('O4: customers added to the scope after the notice went out are told at once; those already told are not told twice', async () => {
    await seedRegion(db.sql, 'wide', 'widened-region', 3);
    const startedAtMs = await env.currentTimeMs();
    const handle = await start(incidentInput({ caseId: nextCaseId(), startedAtMs, scope: region }));
    const { caseId } = await handle.query(stateQuery);
    await act(handle, 'publish-notice');
    const notices = () =>
      db.sql<{ customer_id: string }[]>`select customer_id from notifications where case_id = ${caseId} and template = 'incident.outage-notice' and channel = 'inbox' order by customer_id`;
    await eventually(notices, (rows) => rows.length === 4);
    await act(handle, 'set-scope', { services: ['broadband'], regions: ['fidelity-region', 'widened-region'] });
    const told = await eventually(notices, (rows) => rows.length === 7);
    expect(told.map((row) => row.customer_id)).toEqual(['fid-000001', 'fid-000002', 'fid-000003', 'fid-000004', 'wide-000001', 'wide-000002', 'wide-000003']);
  });
});
