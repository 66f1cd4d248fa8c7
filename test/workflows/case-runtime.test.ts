import { WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseState } from '../../domain/case-state';
import { caseWorkflowId } from '../../domain/case-types';
import type { IncidentAlert } from '../../domain/incident';
import { alertsSignal } from '../../workflows/incident-messages';
import { actUpdate, openedUpdate, stateQuery } from '../../workflows/protocol';
import { ComplaintHarness, hours, minutes, withResponseContent } from '../support/complaint-harness';
import { eventually } from '../support/eventually';
import { incidentInput, seedRegion } from '../support/incidents';

// The case runtime under load it must survive: actions that race, a fan-out that fails, and an
// alert storm that would outgrow one run's history.
const harness = new ComplaintHarness(55437, 'case-runtime');
let sequence = 0;

beforeAll(async () => {
  await harness.start();
  await seedRegion(harness.db.sql, 'rt', 'runtime-region', 40);
}, 180_000);
afterAll(() => harness.stop());

const agent = { id: 'agent/test', role: 'agent' as const };
const sendAct = (handle: WorkflowHandle, action: string, input: Record<string, unknown> = {}) =>
  handle.executeUpdate(actUpdate, { args: [{ action, input: withResponseContent(action, input), actor: agent }] });
const startAct = (handle: WorkflowHandle, action: string, input: Record<string, unknown> = {}) =>
  handle.startUpdate(actUpdate, { args: [{ action, input: withResponseContent(action, input), actor: agent }], waitForStage: WorkflowUpdateStage.ACCEPTED });
const deadline = (state: CaseState, name: string) => state.deadlines.find((entry) => entry.name === name)!;

describe('one transition at a time', () => {
  it('C6, C7, C9: request-info and customer-reply sent together leave every clock running, and the breach still fires', async () => {
    const handle = await harness.open({ priority: 'P1' });
    await handle.executeUpdate(openedUpdate); // intake recorded, as the API waits for it
    // The reply is accepted while the request is still being recorded: it must wait its turn.
    const asking = await startAct(handle, 'request-info', { question: 'Which invoice?' });
    const replied = await sendAct(handle, 'customer-reply', { message: 'November' });
    expect((await asking.result()).status).toBe('awaiting-customer');
    expect(replied.status).toBe('received');
    const state = await harness.state(handle);
    expect(state.deadlines.filter((entry) => entry.state === 'paused')).toEqual([]);
    expect(deadline(state, 'firstResponse').state).toBe('met');
    expect(deadline(state, 'result').state).toBe('pending');

    await harness.sleepUntil(Date.parse(deadline(state, 'result').dueAt!) + minutes(1));
    const breached = await eventually(
      () => harness.state(handle),
      (current) => deadline(current, 'result').state === 'breached',
    );
    expect(breached.slaBreached).toBe(true);
    const types = await harness.eventTypes(state.caseId);
    expect(types.indexOf('sla.paused')).toBeLessThan(types.indexOf('complaint.customer-replied'));
    expect(types.indexOf('complaint.customer-replied')).toBeLessThan(types.indexOf('sla.resumed'));
  });

  it('C7, C12: resolve and reopen sent together meet the first result clock and run the new one to its own breach', async () => {
    const handle = await harness.open();
    await harness.act(handle, 'acknowledge', { message: 'Looking into it' });
    await handle.executeUpdate(openedUpdate);
    const resolving = await startAct(handle, 'resolve', { resolution: 'Refunded' });
    const reopened = await sendAct(handle, 'reopen', { reason: 'Not refunded yet' });
    expect((await resolving.result()).status).toBe('resolved');
    expect(reopened.status).toBe('acknowledged');
    const state = await harness.state(handle);
    expect(deadline(state, 'result').state).toBe('met');
    expect(deadline(state, 'result-1').state).toBe('pending');

    await harness.sleepUntil(Date.parse(deadline(state, 'result-1').dueAt!) + minutes(1));
    const after = await eventually(
      () => harness.state(handle),
      (current) => deadline(current, 'result-1').state === 'breached',
    );
    expect(deadline(after, 'result').state).toBe('met');
  });
});

describe('incidents that must not wedge or outgrow their history', () => {
  it('O4, O7: a fan-out page that fails with a data error is recorded and escalated once, and the incident still resolves and closes', async () => {
    const { sql } = harness.db;
    // A constraint the outbox breaks for one customer: SQLSTATE 23514 (class 23, a data error).
    await sql.unsafe(`
      create or replace function pledge_test_refuse() returns trigger language plpgsql as $$
      begin
        if new.customer_id = 'rt-000007' then raise exception 'customer rt-000007 refuses mail' using errcode = '23514'; end if;
        return new;
      end $$;
      drop trigger if exists pledge_test_refuse on notifications;
      create trigger pledge_test_refuse before insert on notifications for each row execute function pledge_test_refuse();`);
    try {
      const startedAtMs = await harness.now();
      const input = incidentInput({ caseId: `INC-2026-97${String(++sequence).padStart(4, '0')}`, startedAtMs, scope: { services: ['broadband'], regions: ['runtime-region'] } });
      const handle = await harness.env.client.workflow.start('incident', { taskQueue: 'case-runtime', workflowId: caseWorkflowId('incident', input.caseId), args: [input] });
      await sendAct(handle, 'publish-notice');
      const failed = await eventually(
        () => handle.query(stateQuery),
        (state) => (state.details.fanoutFailures as unknown[]).length === 1,
        60_000,
      );
      expect((failed.details.fanoutFailures as Array<Record<string, unknown>>)[0]).toMatchObject({ kind: 'outage-notice', attempt: 1, retrying: false });
      const escalations = await sql`select role from staff_notifications where case_id = ${input.caseId} and kind like 'fanout-%-failed-%'`;
      expect(escalations.map((row) => row.role)).toEqual(['supervisor']);

      await sendAct(handle, 'resolve', { summary: 'Trunk repaired' });
      await eventually(
        () => handle.query(stateQuery),
        (state) => (state.details.fanoutFailures as Array<{ kind: string; retrying: boolean }>).some((failure) => failure.kind === 'recovery' && !failure.retrying),
        60_000,
      );
      await sendAct(handle, 'submit-review', { summary: 'Fibre cut', rootCause: 'Roadworks' });
      const outcome = await handle.result();
      expect(outcome).toMatchObject({ status: 'closed' });
      const recorded = await harness.events(input.caseId);
      // Each fan-out ends failed for good once (a passing timeout on a loaded machine may add a retried attempt).
      const failures = recorded.filter((event) => event.type === 'incident.fanout-failed').map((event) => event.data as { kind: string; retrying: boolean; error: string });
      expect(failures.filter((failure) => !failure.retrying).map((failure) => failure.kind)).toEqual(['outage-notice', 'recovery']);
      expect(failures.filter((failure) => !failure.retrying).every((failure) => failure.error.includes('refuses mail'))).toBe(true);
      expect(recorded.at(-1)!.type).toBe('incident.closed');
    } finally {
      await sql.unsafe('drop trigger if exists pledge_test_refuse on notifications');
    }
  });

  it('O2: 2,000 re-sends of a 500-alert group stay under 10,000 events per run and continue as new without losing alerts, clocks or recipients', async () => {
    const startedAtMs = await harness.now();
    const startsAt = new Date(startedAtMs).toISOString();
    const alerts: IncidentAlert[] = Array.from({ length: 500 }, (_, index) => ({
      fingerprint: `storm${String(index).padStart(4, '0')}`,
      status: 'firing',
      labels: { service: 'broadband', region: 'runtime-region', severity: 'major' },
      startsAt,
      endsAt: null,
    }));
    const input = {
      ...incidentInput({ caseId: `INC-2026-97${String(++sequence).padStart(4, '0')}`, startedAtMs, scope: null, source: 'alertmanager', policy: { maxHistoryEventsPerRun: 2_500 } }),
      dedupKey: 'alertmanager|{}:{alertname="Storm"}',
    };
    const batch = (slice: IncidentAlert[]) => ({
      source: 'alertmanager' as const,
      sentBy: { id: 'key storm', role: 'alert-source' as const },
      receivedAt: startsAt,
      groupKey: '{}:{alertname="Storm"}',
      alerts: slice,
    });
    const workflowId = caseWorkflowId('incident', input.caseId);
    const handle = await harness.env.client.workflow.signalWithStart('incident', { taskQueue: 'case-runtime', workflowId, args: [input], signal: alertsSignal, signalArgs: [batch(alerts)] });
    const firstRunId = handle.signaledRunId;
    await eventually(
      () => handle.query(stateQuery),
      (state) => (state.details.alerts as { total: number }).total === 500,
    );
    // Re-sends as the API delivers them: pages of the same group, nothing new in them.
    for (let resend = 0; resend < 2_000; resend += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, offset) => handle.signal(alertsSignal, batch(alerts.slice(((resend + offset) * 25) % 500, (((resend + offset) * 25) % 500) + 25)))));
    }
    const state = await eventually(
      () => handle.query(stateQuery),
      (current) => (current.details.unchangedAlertBatches as number) === 2_000,
      120_000,
    );
    expect(state.details.alerts).toEqual({ total: 500, firing: 500, resolved: 0 });
    expect(state.details.affectedCount).toBe(40);
    expect(deadline(state, 'repair')).toMatchObject({ state: 'pending', dueAt: new Date(startedAtMs + hours(48)).toISOString() });

    const currentRunId = (await handle.describe()).runId;
    expect(currentRunId).not.toBe(firstRunId);
    const eventsOf = async (runId: string | undefined) => (await harness.env.client.workflow.getHandle(workflowId, runId).describe()).historyLength;
    const [firstRun, currentRun] = await Promise.all([eventsOf(firstRunId), eventsOf(currentRunId)]);
    console.log(`alert storm: first run ${firstRun} events, current run ${currentRun} events`);
    expect(firstRun).toBeGreaterThan(2_000);
    expect(firstRun).toBeLessThan(10_000);
    expect(currentRun).toBeLessThan(10_000);

    // The recipients survive the new run: publishing now tells every affected customer.
    await sendAct(handle, 'publish-notice');
    const notified = await eventually(
      () => harness.db.sql`select count(distinct customer_id)::int as count from notifications where case_id = ${input.caseId} and template = 'incident.outage-notice'`,
      (rows) => rows[0]!.count === 40,
      60_000,
    );
    expect(notified[0]!.count).toBe(40);
  }, 300_000);
});
