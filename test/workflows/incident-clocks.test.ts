import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseWorkflowId } from '../../domain/case-types';
import type { CaseState } from '../../domain/case-state';
import { addWorkingDays } from '../../domain/working-calendar';
import type { IncidentInput } from '../../workflows/incident';
import { alertsSignal } from '../../workflows/incident-messages';
import { actUpdate, stateQuery } from '../../workflows/protocol';
import { caseSearchAttributes } from '../../workflows/search-attributes';
import type { TestDatabase } from '../support/database';
import { eventually, incidentInput, seedRegion, testCalendar, testTimeZone } from '../support/incidents';
import { startTimeSkippingBed, type TimeSkippingBed } from '../support/time-skipping-bed';
import { minutes } from '../support/durations';

const taskQueue = 'incident-clocks';
const agent = { id: 'agent/test', role: 'agent' as const };
const region = { services: ['broadband'], regions: ['clock-region'] };
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let bed: TimeSkippingBed;
let caseSequence = 0;

beforeAll(async () => {
  bed = await startTimeSkippingBed({ postgresPort: 55440, taskQueue });
  ({ env, db } = bed);
  await seedRegion(db.sql, 'clk', 'clock-region', 4);
});

afterAll(() => bed?.stop());

const nextCaseId = () => `INC-2026-${String(++caseSequence).padStart(6, '0')}`;

async function start(input: IncidentInput) {
  return env.client.workflow.start('incident', { taskQueue, workflowId: caseWorkflowId('incident', input.caseId), args: [input] });
}

type Handle = Awaited<ReturnType<typeof start>>;
const notice = (state: CaseState) => state.details.notice as { publishedAt: string | null; auto: boolean | null; late: boolean | null; latenessMinutes: number | null; dueAt: string };
const deadline = (state: CaseState, name: string) => state.deadlines.find((candidate) => candidate.name === name)!;
const act = (handle: Handle, action: string, input: Record<string, unknown> = {}) => handle.executeUpdate(actUpdate, { args: [{ action, input, actor: agent }] });

async function events(caseId: string) {
  return db.sql<{ type: string; data: Record<string, unknown> }[]>`select type, data from case_events where case_id = ${caseId} order by step`;
}

async function notices(caseId: string, template: string) {
  return db.sql<{ customer_id: string; channel: string }[]>`select customer_id, channel from notifications where case_id = ${caseId} and template like ${template} order by customer_id, channel`;
}

describe('incident clocks on the time-skipping server', () => {
  it('O4: nobody acts, the notice auto-publishes at start + 1 h 45 min and not a minute earlier', async () => {
    const startedAtMs = await env.currentTimeMs();
    const handle = await start(incidentInput({ caseId: nextCaseId(), startedAtMs, scope: region }));
    const opened = await handle.query(stateQuery);
    expect(Date.parse(notice(opened).dueAt) - startedAtMs).toBe(minutes(120));

    await env.sleep(minutes(104));
    const before = await handle.query(stateQuery);
    expect(notice(before).publishedAt).toBeNull();
    expect(await notices(before.caseId, 'incident.%')).toHaveLength(0);

    await env.sleep(minutes(1));
    const after = await eventually(
      () => handle.query(stateQuery),
      (state) => notice(state).publishedAt !== null,
    );
    expect(notice(after)).toMatchObject({ auto: true, late: false, latenessMinutes: 0 });
    const publishedAfterMs = Date.parse(notice(after).publishedAt!) - startedAtMs;
    expect(publishedAfterMs).toBeGreaterThanOrEqual(minutes(105));
    expect(publishedAfterMs).toBeLessThan(minutes(106));
    expect(deadline(after, 'notice').state).toBe('met');
    expect(after.slaBreached).toBe(false);
    // Every affected user, once per channel: 4 inboxes + 2 e-mail addresses.
    const sent = await eventually(
      () => notices(after.caseId, 'incident.outage-notice'),
      (rows) => rows.length === 6,
    );
    expect(sent).toHaveLength(6);
    const published = (await events(after.caseId)).find((event) => event.type === 'incident.notice-published')!;
    expect(published.data).toMatchObject({ auto: true, late: false, affectedCount: 4 });
  });

  it('O4: an alert that starts 3 h before it reaches Pledge is notified at once and recorded late with its lateness', async () => {
    const now = await env.currentTimeMs();
    const startsAt = new Date(now - minutes(180)).toISOString();
    const input = { ...incidentInput({ caseId: nextCaseId(), startedAtMs: now - minutes(180), scope: null, source: 'alertmanager' }), dedupKey: 'alertmanager|{}:{alertname="Late"}' };
    const handle = await env.client.workflow.signalWithStart('incident', {
      taskQueue,
      workflowId: caseWorkflowId('incident', input.caseId),
      args: [input],
      signal: alertsSignal,
      signalArgs: [
        {
          source: 'alertmanager',
          sentBy: { id: 'key test', role: 'alert-source' },
          receivedAt: new Date(now).toISOString(),
          groupKey: '{}:{alertname="Late"}',
          alerts: [
            { fingerprint: 'late1', status: 'firing', labels: { alertname: 'Late', service: 'broadband', region: 'clock-region', severity: 'critical' }, annotations: {}, startsAt, endsAt: null },
          ],
        },
      ],
    });
    const state = await eventually(
      () => handle.query(stateQuery),
      (current) => notice(current).publishedAt !== null,
    );
    expect(Date.parse(notice(state).publishedAt!)).toBeLessThan(now + minutes(1));
    expect(notice(state)).toMatchObject({ auto: true, late: true, latenessMinutes: 60 });
    expect(state.priority).toBe('SEV1');
    expect(deadline(state, 'notice')).toMatchObject({ state: 'breached' });
    expect(state.slaBreached).toBe(true);
    const recorded = await events(state.caseId);
    expect(recorded.find((event) => event.type === 'incident.notice-published')!.data).toMatchObject({ late: true, latenessMinutes: 60, alertDelayMinutes: 180 });
    expect(recorded.some((event) => event.type === 'sla.breached' && event.data.clock === 'notice')).toBe(true);
    expect(
      await eventually(
        () => notices(state.caseId, 'incident.outage-notice'),
        (rows) => rows.length === 6,
      ),
    ).toHaveLength(6);
  });

  it('O5: repair escalates at exactly 48 h (not at 47 h 59 min), warns at 80 %, and reminds to post an update every 4 h', async () => {
    const startedAtMs = await env.currentTimeMs();
    const handle = await start(incidentInput({ caseId: nextCaseId(), startedAtMs, scope: region }));
    await act(handle, 'publish-notice');
    await env.sleep(minutes(47 * 60 + 59));
    const before = await handle.query(stateQuery);
    expect(deadline(before, 'repair').state).toBe('pending');
    expect(before.slaBreached).toBe(false);
    const beforeEvents = (await events(before.caseId)).map((event) => event.type);
    expect(beforeEvents.filter((type) => type === 'incident.update-reminder')).toHaveLength(11);
    expect(beforeEvents).toContain('sla.warned');

    await env.sleep(minutes(1));
    const after = await eventually(
      () => handle.query(stateQuery),
      (state) => state.slaBreached,
    );
    expect(deadline(after, 'repair')).toMatchObject({ state: 'breached', breachedAt: new Date(startedAtMs + minutes(48 * 60)).toISOString() });
    expect((await handle.describe()).typedSearchAttributes.get(caseSearchAttributes.slaBreached)).toBe(true);
    const escalation = await eventually(
      () => db.sql`select role, kind from staff_notifications where case_id = ${after.caseId} and kind = 'repair-breached'`,
      (rows) => rows.length === 1,
    );
    expect(escalation[0]).toMatchObject({ role: 'supervisor' });
  });

  it('O6, O7, O8: a recovery before the notice tells users once with their remedy; the review is due 5 working days later with daily reminders and closes the incident', async () => {
    const now = await env.currentTimeMs();
    const handle = await start(incidentInput({ caseId: nextCaseId(), startedAtMs: now - minutes(90), scope: region }));
    const resolved = await act(handle, 'resolve', { summary: 'Trunk spliced' });
    expect(resolved.status).toBe('resolved');
    const resolvedAtMs = Date.parse(resolved.updatedAt);
    expect(Date.parse(deadline(resolved, 'review').dueAt!)).toBe(addWorkingDays(testCalendar(now), resolvedAtMs, 5, testTimeZone).dueAtMs);
    expect(resolved.details.review).toMatchObject({ dueAt: deadline(resolved, 'review').dueAt });

    const recovered = await eventually(
      () => handle.query(stateQuery),
      (state) => (state.details.recovery as { completedAt: string | null }).completedAt !== null,
    );
    expect(recovered.details.recovery).toMatchObject({ customers: 4, remediesPaid: 4 });
    expect(await notices(recovered.caseId, 'incident.outage-notice')).toHaveLength(0);
    expect(await notices(recovered.caseId, 'incident.recovered-with-remedy')).toHaveLength(6);
    const ledger = await db.sql`select customer_id, amount_cents, policy_version from ledger where case_id = ${recovered.caseId}`;
    expect(ledger).toHaveLength(4);
    expect(ledger.every((row) => row.policy_version === 'compensation/2026.1' && Number(row.amount_cents) > 0)).toBe(true);

    await env.sleep(minutes(24 * 60 + 1));
    const reminded = await eventually(
      () => events(recovered.caseId),
      (rows) => rows.some((event) => event.type === 'incident.review-reminder'),
    );
    expect(reminded.filter((event) => event.type === 'incident.review-reminder')).toHaveLength(1);
    expect((await handle.query(stateQuery)).status).toBe('resolved');

    const closed = await act(handle, 'submit-review', { summary: 'A digger cut the trunk', rootCause: 'Unmarked trunk route', followUps: ['Mark the route'] });
    expect(closed.status).toBe('closed');
    expect(deadline(closed, 'review').state).toBe('met');
    expect(await handle.result()).toMatchObject({ status: 'closed', remediesPaid: 4, outageMinutes: 90 });
  });

  it('O6: refuses a second publication before it reaches history, naming the reason', async () => {
    const handle = await start(incidentInput({ caseId: nextCaseId(), startedAtMs: await env.currentTimeMs(), scope: region }));
    await act(handle, 'publish-notice');
    const refusal = await act(handle, 'publish-notice').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((refusal as WorkflowUpdateFailedError).cause?.message)).toMatch(/already published/);
    const history = await handle.fetchHistory();
    expect(history.events?.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(1);
  });
});

describe('alert groups (O2)', () => {
  it('O2: an alert that raced the resolution is released with the group, so its next re-send opens a new incident', async () => {
    const now = await env.currentTimeMs();
    const startsAt = new Date(now - minutes(10)).toISOString();
    const dedupKey = 'alertmanager|{}:{alertname="Race"}';
    const input: IncidentInput = { ...incidentInput({ caseId: nextCaseId(), startedAtMs: Date.parse(startsAt), scope: null, source: 'alertmanager' }), dedupKey };
    // What the API wrote: the group is owned by this incident, and two alerts were tied to it —
    // the second one while the incident was resolving, so its signal never reached the workflow.
    await db.sql`insert into incident_alert_groups (case_id, dedup_key) values (${input.caseId}, ${dedupKey})`;
    await db.sql`
      insert into incident_alerts (source, fingerprint, starts_at, case_id) values
        ('alertmanager', 'race-seen', ${startsAt}, ${input.caseId}),
        ('alertmanager', 'race-late', ${startsAt}, ${input.caseId})`;
    const alert = (status: 'firing' | 'resolved') => ({
      fingerprint: 'race-seen',
      status,
      labels: { alertname: 'Race', service: 'broadband', region: 'clock-region' },
      annotations: {},
      startsAt,
      endsAt: status === 'resolved' ? new Date(now).toISOString() : null,
    });
    const batch = (status: 'firing' | 'resolved') => ({
      source: 'alertmanager' as const,
      sentBy: { id: 'key test', role: 'alert-source' as const },
      receivedAt: new Date(now).toISOString(),
      groupKey: '{}:{alertname="Race"}',
      alerts: [alert(status)],
    });
    const handle = await env.client.workflow.signalWithStart('incident', {
      taskQueue,
      workflowId: caseWorkflowId('incident', input.caseId),
      args: [input],
      signal: alertsSignal,
      signalArgs: [batch('firing')],
    });
    await handle.signal(alertsSignal, batch('resolved'));
    await eventually(
      () => handle.query(stateQuery),
      (state) => state.status === 'resolved',
    );
    const group = await eventually(
      () => db.sql`select closed_at from incident_alert_groups where case_id = ${input.caseId}`,
      (rows) => rows[0]?.closed_at !== null,
    );
    expect(group[0]!.closed_at).not.toBeNull();
    const remaining = await db.sql`select fingerprint from incident_alerts where case_id = ${input.caseId} order by fingerprint`;
    expect(remaining.map((row) => row.fingerprint)).toEqual(['race-seen']);
    // The workflow records the release right after the activity that closed the group answers.
    const released = await eventually(
      () => db.sql`select data from case_events where case_id = ${input.caseId} and type = 'incident.alerts-released'`,
      (rows) => rows.length > 0,
    );
    expect(released[0]?.data).toMatchObject({ released: 1 });
  });
});
