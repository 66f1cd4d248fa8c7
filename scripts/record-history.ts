/**
 * Records the histories of full case lives on the time-skipping server into test/histories/, where
 * the replay test checks that today's workflow code still replays them. Files are named
 * `<workflowType>-<scenario>.json`. A recorded history is never recorded again (cases that ran
 * that code replay it): a scenario whose files all exist is skipped, and no file is overwritten.
 * New behaviour gets a new scenario and new files.
 *
 *   npx tsx scripts/record-history.ts              # every scenario not yet recorded
 *   npx tsx scripts/record-history.ts fidelity     # only one scenario (see `scenarios` below)
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseWorkflowId } from '../domain/case-types';
import { defaultCompensationPolicy } from '../domain/compensation-policy';
import { defaultComplaintSlaPolicy } from '../domain/sla-policy';
import { defaultIncidentPolicy } from '../domain/incident-policy';
import { defaultRenewalPolicy, type RenewalInput } from '../domain/renewal';
import { defaultServiceChangePolicy } from '../domain/service-change';
import type { ServiceChangeInput } from '../domain/service-change-case';
import { defaultTerminationPolicy } from '../domain/termination';
import { defaultDataRequestPolicy } from '../domain/data-request';
import type { DataRequestInput } from '../domain/data-request-case';
import { defaultRetentionPolicy } from '../domain/retention';
import { seedCustomer, startTestDatabase, type TestDatabase } from '../test/support/database';
import { incidentInput, seedRegion, testCalendar } from '../test/support/incidents';
import { bundleWorkflows, createTimeSkippingEnv } from '../test/support/temporal';
import { createPledgeWorker } from '../worker/worker';
import type { ComplaintInput } from '../workflows/complaint';
import { alertsSignal } from '../workflows/incident-messages';
import { actUpdate, calendarUpdatedSignal, openedUpdate, stateQuery } from '../workflows/protocol';
import { repoRoot } from './toolchain/paths';

const taskQueue = 'record-history';
const agent = { id: 'agent/recorder', role: 'agent' as const };
const only = process.argv[2];

const historyFile = (name: string) => join(repoRoot, 'test', 'histories', `${name}.json`);

async function save(name: string, history: Parameters<typeof historyToJSON>[0]): Promise<void> {
  const file = historyFile(name);
  if (existsSync(file)) throw new Error(`${file} exists: recorded histories are never recorded again; add a new scenario`);
  writeFileSync(file, historyToJSON(history));
  console.log(`recorded ${file} (${history.events?.length ?? 0} events)`);
}

const act = (handle: WorkflowHandle, action: string, actionInput: Record<string, unknown>) => handle.executeUpdate(actUpdate, { args: [{ action, input: actionInput, actor: agent }] });

function complaintInput(caseId: string, calendar: ComplaintInput['calendar']): ComplaintInput {
  return {
    caseId,
    customerId: 'cust-history',
    channel: 'phone',
    category: 'billing',
    priority: 'P2',
    priorityReason: 'set by staff at intake',
    major: false,
    summary: 'Charged twice for November',
    description: 'Two identical charges on the 3rd',
    openedBy: agent,
    policy: defaultComplaintSlaPolicy,
    timeZone: 'Asia/Shanghai',
    calendar,
  };
}

/**
 * Two complaint lives: one breached, acknowledged late and closed by staff; one paused for the
 * user, disputed, overturned by a supervisor, resolved again, reopened and closed by itself.
 */
async function complaintScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  await seedCustomer(db.sql, { id: 'cust-history', locale: 'en' });
  const calendar = testCalendar(await env.currentTimeMs());
  const start = (caseId: string) => env.client.workflow.start('complaint', { taskQueue, workflowId: caseWorkflowId('complaint', caseId), args: [complaintInput(caseId, calendar)] });

  const breached = await start('CMP-2026-000001');
  await env.sleep(25 * 3600_000); // past the 24 h first-response deadline: warned, breached, escalated
  await act(breached, 'acknowledge', { message: 'Sorry for the wait, we are checking your bill' });
  await act(breached, 'note', { text: 'Duplicate charge confirmed by billing' });
  await act(breached, 'resolve', { resolution: 'The second charge was refunded' });
  await act(breached, 'close', {});
  await breached.result();
  await save('complaint-breached-then-closed', await breached.fetchHistory());

  const disputed = await start('CMP-2026-000002');
  await act(disputed, 'request-info', { question: 'Which invoice?' });
  await env.sleep(2 * 24 * 3600_000);
  await act(disputed, 'customer-reply', { message: 'INV-1187' });
  await act(disputed, 'report-preliminary', { finding: 'A duplicate charge' });
  await act(disputed, 'resolve', { resolution: 'Refunded' });
  await act(disputed, 'rate', { rating: 2 });
  await act(disputed, 'dispute', { reason: 'Not refunded' });
  await disputed.executeUpdate(actUpdate, { args: [{ action: 'arbitrate', input: { decision: 'overturn', reasons: 'Refund failed' }, actor: { id: 'supervisor/recorder', role: 'supervisor' } }] });
  await act(disputed, 'resolve', { resolution: 'Refunded again, confirmed by the bank' });
  await act(disputed, 'reopen', { reason: 'Charged a third time' });
  await act(disputed, 'resolve', { resolution: 'The third charge is cancelled' });
  await env.sleep(8 * 24 * 3600_000); // the dispute and reopen windows end: closed by itself
  await disputed.result();
  await save('complaint-paused-disputed-reopened-autoclosed', await disputed.fetchHistory());

  // Actions that race (each accepted while the one before it is still recording) and a calendar
  // year loaded while the case's working-day deadlines are provisional.
  const nextYear = new Date(await env.currentTimeMs()).getUTCFullYear() + 1;
  const withoutNextYear = { version: 'without-next-year', years: Object.fromEntries(Object.entries(calendar.years).filter(([year]) => Number(year) !== nextYear)) };
  const raced = await env.client.workflow.start('complaint', {
    taskQueue,
    workflowId: caseWorkflowId('complaint', 'CMP-2026-000003'),
    args: [{ ...complaintInput('CMP-2026-000003', withoutNextYear), receivedAt: new Date(Date.UTC(nextYear - 1, 11, 30, 2)).toISOString() }],
  });
  const accepted = (action: string, actionInput: Record<string, unknown>) =>
    raced.startUpdate(actUpdate, { args: [{ action, input: actionInput, actor: agent }], waitForStage: WorkflowUpdateStage.ACCEPTED });
  const asking = await accepted('request-info', { question: 'Which invoice?' });
  await act(raced, 'customer-reply', { message: 'INV-2201' });
  await asking.result();
  await raced.signal(calendarUpdatedSignal, calendar);
  const resolving = await accepted('resolve', { resolution: 'Refunded' });
  await act(raced, 'reopen', { reason: 'Still charged' });
  await resolving.result();
  await act(raced, 'withdraw', { reason: 'Sorted out with my bank' });
  await raced.result();
  await save('complaint-raced-actions-calendar-withdrawn', await raced.fetchHistory());
}

/**
 * An incident opened by alerts (signal-with-start), its notice auto-published, an update, the
 * alerts resolved (recovery + remedies through a fan-out that continues-as-new), a review reminder,
 * the review submitted. Small pages so the fan-out's first run ends in continue-as-new.
 */
async function incidentScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  await seedRegion(db.sql, 'hist', 'history-region', 5);
  const now = await env.currentTimeMs();
  const startsAt = new Date(now - 30 * 60_000).toISOString();
  const groupKey = '{}:{alertname="FibreCut", region="history-region"}';
  const input = {
    ...incidentInput({ caseId: 'INC-2026-000001', startedAtMs: Date.parse(startsAt), scope: null, source: 'alertmanager', policy: { fanoutPageSize: 2, fanoutPagesPerRun: 2 } }),
    dedupKey: `alertmanager|${groupKey}`,
    title: 'Fibre cut in history-region',
  };
  const alert = { fingerprint: 'f1', labels: { alertname: 'FibreCut', service: 'broadband', region: 'history-region', severity: 'major' }, annotations: { summary: 'Fibre cut' }, startsAt };
  const sentBy = { id: 'key alertmanager', role: 'alert-source' as const };
  const handle = await env.client.workflow.signalWithStart('incident', {
    taskQueue,
    workflowId: caseWorkflowId('incident', input.caseId),
    args: [input],
    signal: alertsSignal,
    signalArgs: [{ source: 'alertmanager', sentBy, receivedAt: new Date(now).toISOString(), groupKey, alerts: [{ ...alert, status: 'firing', endsAt: null }] }],
  });
  await env.sleep(80 * 60_000); // start + 1 h 50 min: the notice was auto-published at start + 1 h 45 min
  await act(handle, 'post-update', { message: 'Splicing team on site', notifyUsers: true });
  const resolvedAt = new Date((await env.currentTimeMs()) - 60_000).toISOString();
  await handle.signal(alertsSignal, { source: 'alertmanager', sentBy, receivedAt: resolvedAt, groupKey, alerts: [{ ...alert, status: 'resolved', endsAt: resolvedAt }] });
  for (let attempt = 0; attempt < 100; attempt++) {
    const state = await handle.query(stateQuery);
    if ((state.details.recovery as { completedAt: string | null }).completedAt) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await env.sleep(25 * 3600_000); // a review reminder
  await act(handle, 'submit-review', { summary: 'A digger cut the trunk', rootCause: 'Unmarked trunk route', followUps: ['Mark the route'] });
  await handle.result();
  const history = await handle.fetchHistory();
  await save('incident-alert-auto-notice-resolved-reviewed', history);

  // The recovery fan-out's first run (it ends in continue-as-new) and its last run.
  const recoveryStarted = history.events?.find((event) => event.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId?.endsWith('-recovery'));
  const execution = recoveryStarted!.childWorkflowExecutionStartedEventAttributes!.workflowExecution!;
  await save('incidentFanout-recovery-first-run', await env.client.workflow.getHandle(execution.workflowId!, execution.runId!).fetchHistory());
  await save('incidentFanout-recovery-last-run', await env.client.workflow.getHandle(execution.workflowId!).fetchHistory());
}

/**
 * An alert storm: a 40-alert group re-sent again and again (nothing new in it), a run history cap
 * of 300 events, so the incident continues as new carrying its alerts, clocks and scope; then the
 * alerts resolve and the review closes it. The first run (ends in continue-as-new) and the last.
 */
async function alertStormScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  await seedRegion(db.sql, 'storm', 'storm-region', 3);
  const now = await env.currentTimeMs();
  const startsAt = new Date(now - 10 * 60_000).toISOString();
  const groupKey = '{}:{alertname="Storm"}';
  const input = {
    ...incidentInput({ caseId: 'INC-2026-000002', startedAtMs: Date.parse(startsAt), scope: null, source: 'alertmanager', policy: { maxHistoryEventsPerRun: 300 } }),
    dedupKey: `alertmanager|${groupKey}`,
    title: 'Alert storm in storm-region',
  };
  const sentBy = { id: 'key alertmanager', role: 'alert-source' as const };
  const alerts = Array.from({ length: 40 }, (_, index) => ({
    fingerprint: `s${index}`,
    status: 'firing' as const,
    labels: { alertname: 'Storm', service: 'broadband', region: 'storm-region', severity: 'major' },
    startsAt,
    endsAt: null,
  }));
  const batch = (slice: typeof alerts) => ({ source: 'alertmanager' as const, sentBy, receivedAt: new Date(now).toISOString(), groupKey, alerts: slice });
  const workflowId = caseWorkflowId('incident', input.caseId);
  const handle = await env.client.workflow.signalWithStart('incident', { taskQueue, workflowId, args: [input], signal: alertsSignal, signalArgs: [batch(alerts)] });
  const firstRunId = handle.signaledRunId;
  for (let resend = 0; resend < 200; resend++) await handle.signal(alertsSignal, batch(alerts.slice((resend * 4) % 40, ((resend * 4) % 40) + 4)));
  await act(handle, 'publish-notice', {});
  const resolvedAt = new Date(await env.currentTimeMs()).toISOString();
  await handle.signal(alertsSignal, batch(alerts.map((alert) => ({ ...alert, status: 'resolved' as const, endsAt: resolvedAt }) as never)));
  for (let attempt = 0; attempt < 100; attempt++) {
    const state = await handle.query(stateQuery);
    if ((state.details.recovery as { completedAt: string | null }).completedAt) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await act(handle, 'submit-review', { summary: 'Flapping sensor', rootCause: 'A loose connector', followUps: [] });
  await handle.result();
  await save('incident-alert-storm-first-run', await env.client.workflow.getHandle(workflowId, firstRunId).fetchHistory());
  await save('incident-alert-storm-last-run', await handle.fetchHistory());
}

/**
 * The later complaint rules (0.3): a complaint reclassified to account security, acknowledged with
 * the C13 content, waiting on the user past the reminder, answered, resolved and confirmed by the
 * user; another disputed past its arbitration deadline, upheld, referred and reminded about.
 */
async function fidelityScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  await seedCustomer(db.sql, { id: 'cust-history', locale: 'en' });
  const calendar = testCalendar(await env.currentTimeMs());
  const start = (caseId: string) => env.client.workflow.start('complaint', { taskQueue, workflowId: caseWorkflowId('complaint', caseId), args: [complaintInput(caseId, calendar)] });
  const response = { problem: 'Charged twice for November', steps: 'Billing refunds the second charge', expectedCompletionAt: new Date((await env.currentTimeMs()) + 5 * 24 * 3600_000).toISOString() };

  const confirmed = await start('CMP-2026-000004');
  await act(confirmed, 'reclassify', { category: 'account-security', reason: 'The card was used by someone else' });
  await act(confirmed, 'acknowledge', { message: 'We blocked the card', ...response });
  await act(confirmed, 'request-info', { question: 'When did you last use the card?' });
  await env.sleep(4 * 24 * 3600_000); // the reminder after 3 days
  await act(confirmed, 'customer-reply', { message: 'On the 2nd' });
  await act(confirmed, 'resolve', { resolution: 'Refunded and a new card sent', ...response });
  await act(confirmed, 'confirm', { comment: 'Thank you' });
  await confirmed.result();
  await save('complaint-fidelity-reclassified-reminded-confirmed', await confirmed.fetchHistory());

  const referred = await start('CMP-2026-000005');
  await act(referred, 'acknowledge', { message: 'Checking', ...response });
  await act(referred, 'resolve', { resolution: 'The charge was correct', ...response });
  await act(referred, 'dispute', { reason: 'It was not' });
  await env.sleep(9 * 24 * 3600_000); // past the 5-working-day arbitration deadline: warned, breached
  await referred.executeUpdate(actUpdate, {
    args: [{ action: 'arbitrate', input: { decision: 'uphold', reasons: 'The contract says so' }, actor: { id: 'supervisor/recorder', role: 'supervisor' } }],
  });
  await act(referred, 'refer-third-party', { body: 'Internet Society of China', reference: 'ISC-2026-0001' });
  await env.sleep(8 * 24 * 3600_000); // a referral reminder after 7 days
  await act(referred, 'close', { reason: 'The third party upheld the result' });
  await referred.result();
  await save('complaint-fidelity-arbitration-breached-referred', await referred.fetchHistory());
}

/**
 * The later incident rules (0.3): a notice held while nobody is in scope, published late once staff
 * set the scope, review reminders past the review deadline; and a false alarm dismissed after its
 * notice went out, with a correction.
 */
async function incidentFidelityScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  await seedRegion(db.sql, 'heldr', 'held-region', 3);
  const startedAtMs = await env.currentTimeMs();
  const held = await env.client.workflow.start('incident', {
    taskQueue,
    workflowId: caseWorkflowId('incident', 'INC-2026-000003'),
    args: [{ ...incidentInput({ caseId: 'INC-2026-000003', startedAtMs, scope: null }), title: 'Outage with no scope yet' }],
  });
  await env.sleep(130 * 60_000); // the auto-publish at 1 h 45 min is held (nobody in scope); the notice clock breaches at 2 h
  await act(held, 'set-scope', { services: ['broadband'], regions: ['held-region'] });
  await act(held, 'resolve', { summary: 'Restored' });
  await env.sleep(9 * 24 * 3600_000); // past the 5-working-day review deadline: reminders escalate
  await act(held, 'submit-review', { summary: 'Scope was missing', rootCause: 'No region label on the alert', followUps: [] });
  await held.result();
  await save('incident-fidelity-notice-held-review-overdue', await held.fetchHistory());

  const dismissed = await env.client.workflow.start('incident', {
    taskQueue,
    workflowId: caseWorkflowId('incident', 'INC-2026-000004'),
    args: [incidentInput({ caseId: 'INC-2026-000004', startedAtMs: await env.currentTimeMs(), scope: { services: ['broadband'], regions: ['held-region'] } })],
  });
  await act(dismissed, 'publish-notice', {});
  await dismissed.executeUpdate(actUpdate, { args: [{ action: 'dismiss', input: { reason: 'A probe misread the line' }, actor: { id: 'supervisor/recorder', role: 'supervisor' } }] });
  await dismissed.result();
  await save('incident-fidelity-dismissed-with-correction', await dismissed.fetchHistory());
}

/** A compensation claim above the threshold: approved by a supervisor, paid, reversed and repaid (P3–P6). */
async function claimScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  await seedCustomer(db.sql, { id: 'cust-history', locale: 'en' });
  const now = await env.currentTimeMs();
  const caseId = 'CLM-2026-000001';
  const handle = await env.client.workflow.start('compensation', {
    taskQueue,
    workflowId: caseWorkflowId('compensation', caseId),
    args: [
      {
        caseId,
        customerId: 'cust-history',
        incidentId: null,
        eventAt: new Date(now - 24 * 3600_000).toISOString(),
        reason: 'No service for a day',
        requestedRemedy: { kind: 'coupon' as const, amount: 20_000 },
        evidence: 'Router logs',
        facts: { plan: 'home-300m', incidentStartedAt: null, incidentEndedAt: null, alreadyPaidCents: 0 },
        openedBy: agent,
        policy: defaultCompensationPolicy,
        timeZone: 'Asia/Shanghai',
        calendar: testCalendar(now),
      },
    ],
  });
  const supervisor = { id: 'supervisor/recorder', role: 'supervisor' as const };
  const decide = (action: string, input: Record<string, unknown>) => handle.executeUpdate(actUpdate, { args: [{ action, input, actor: supervisor }] });
  await decide('approve', { note: 'Verified' });
  await decide('reverse', { reason: 'Wrong customer' });
  await decide('repay', { amount: 18_000, reason: 'Corrected amount' });
  await env.sleep(31 * 24 * 3600_000); // closes by itself 30 days after the last payment
  await handle.result();
  await save('compensation-approved-paid-reversed-repaid', await handle.fetchHistory());
}

/** O2/P5: incident A (notice out) merged into incident B (notice out); B resolves, pays once, is reviewed. */
async function mergeScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  await seedRegion(db.sql, 'mrga', 'merge-a-history', 2);
  await seedRegion(db.sql, 'mrgb', 'merge-b-history', 2);
  const now = await env.currentTimeMs();
  const open = (caseId: string, startedAtMs: number, region: string) =>
    env.client.workflow.start('incident', {
      taskQueue,
      workflowId: caseWorkflowId('incident', caseId),
      args: [incidentInput({ caseId, startedAtMs, scope: { services: ['broadband'], regions: [region] } })],
    });
  const a = await open('INC-2026-000005', now - 40 * 60_000, 'merge-a-history');
  const b = await open('INC-2026-000006', now - 20 * 60_000, 'merge-b-history');
  await act(a, 'publish-notice', {});
  await act(b, 'publish-notice', {});
  const supervisor = { id: 'supervisor/recorder', role: 'supervisor' as const };
  await a.executeUpdate(actUpdate, { args: [{ action: 'merge', input: { into: 'INC-2026-000006', reason: 'One fibre cut feeds both' }, actor: supervisor }] });
  await a.result();
  for (let attempt = 0; attempt < 100; attempt++) {
    if (((await b.query(stateQuery)).details.mergedFrom as string[]).length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await act(b, 'resolve', { summary: 'Fibre spliced' });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (((await b.query(stateQuery)).details.recovery as { completedAt: string | null }).completedAt) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await act(b, 'submit-review', { summary: 'One cut, two regions', rootCause: 'Roadworks', followUps: [] });
  await b.result();
  await save('incident-merge-absorbed', await a.fetchHistory());
  await save('incident-merge-target-resolved', await b.fetchHistory());
}

/** P4: an outage long enough that business lines' remedies pass the approval threshold; a supervisor approves them. */
async function remedyApprovalScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  await seedRegion(db.sql, 'apr', 'approval-history', 4);
  const now = await env.currentTimeMs();
  const caseId = 'INC-2026-000007';
  const handle = await env.client.workflow.start('incident', {
    taskQueue,
    workflowId: caseWorkflowId('incident', caseId),
    args: [incidentInput({ caseId, startedAtMs: now - 26 * 3600_000, scope: { services: ['broadband'], regions: ['approval-history'] } })],
  });
  // Opened 26 h after the start: the notice goes out at once, late.
  await act(handle, 'resolve', { summary: 'Trunk replaced' });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (((await handle.query(stateQuery)).details.recovery as { completedAt: string | null }).completedAt) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await handle.executeUpdate(actUpdate, { args: [{ action: 'approve-remedies', input: { note: 'Business lines checked' }, actor: { id: 'supervisor/recorder', role: 'supervisor' } }] });
  await act(handle, 'submit-review', { summary: 'Trunk failure', rootCause: 'Ageing cable', followUps: [] });
  await handle.result();
  await save('incident-remedies-approved', await handle.fetchHistory());
}

/**
 * T1–T7: a provider termination 30 days out: the user requests an export, a note, a legal hold;
 * reminders, the effective date (final backup, deactivation, provisioning skipped), the deletion
 * held until a supervisor releases the hold, then deleted. And one withdrawn before its date.
 */
async function terminationScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  // Export files go to a temporary data dir, not the clone's .data/.
  process.env.PLEDGE_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'pledge-record-history-'));
  await seedCustomer(db.sql, { id: 'cust-history-trm', locale: 'en', services: ['broadband'] });
  await seedCustomer(db.sql, { id: 'cust-history-trm2', locale: 'en' });
  const now = await env.currentTimeMs();
  const day = 24 * 3600_000;
  const start = (caseId: string, customerId: string) =>
    env.client.workflow.start('termination', {
      taskQueue,
      workflowId: caseWorkflowId('termination', caseId),
      args: [
        {
          caseId,
          customerId,
          initiatedBy: 'provider' as const,
          reason: 'The copper network in your building is retired',
          effectiveAt: new Date(now + 30 * day).toISOString(),
          contacts: { phone: '10000' },
          openedBy: agent,
          policy: defaultTerminationPolicy,
          timeZone: 'Asia/Shanghai',
        },
      ],
    });
  const supervise = (handle: WorkflowHandle, action: string, input: Record<string, unknown>) =>
    handle.executeUpdate(actUpdate, { args: [{ action, input, actor: { id: 'supervisor/recorder', role: 'supervisor' } }] });

  const held = await start('TRM-2026-000001', 'cust-history-trm');
  await held.executeUpdate(actUpdate, { args: [{ action: 'request-export', input: { note: 'Before I move' }, actor: { id: 'cust-history-trm', role: 'customer' } }] });
  await act(held, 'note', { text: 'The customer asked about fibre' });
  await supervise(held, 'legal-hold', { reason: 'Court order 2026-17' });
  await env.sleep(61 * day); // reminders at 7 d and 1 d, the effective date, the deletion due at 60 d and held
  await supervise(held, 'release-hold', { reason: 'Order lifted' });
  await held.result();
  await save('termination-provider-export-held-deleted', await held.fetchHistory());

  const withdrawn = await start('TRM-2026-000002', 'cust-history-trm2');
  await env.sleep(10 * day);
  await act(withdrawn, 'withdraw', { reason: 'The building keeps its copper network' });
  await withdrawn.result();
  await save('termination-withdrawn', await withdrawn.fetchHistory());
}

/**
 * N1–N3: a planned change announced, noted, rescheduled (N1 again from then), reminded 24 h before
 * (N2), in progress and completed inside its window; and one whose window ended first: it closed as
 * overran and opened an incident from the window's end.
 */
async function serviceChangeScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  await seedRegion(db.sql, 'chgh', 'change-history', 3);
  const hour = 3600_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const changeInput = (caseId: string, effectiveAtMs: number): ServiceChangeInput => ({
    caseId,
    changeType: 'maintenance',
    title: 'Core router upgrade in change-history',
    whatChanges: 'New firmware on the core routers',
    impact: { services: ['broadband'], regions: ['change-history'], downtime: { startsAt: iso(effectiveAtMs), endsAt: iso(effectiveAtMs + 2 * hour) } },
    userAction: 'Nothing: your router reconnects by itself',
    contacts: 'Call 10000',
    appealChannel: 'https://isp.example/appeal',
    effectiveAt: iso(effectiveAtMs),
    emergency: null,
    openedBy: agent,
    policy: defaultServiceChangePolicy,
    incidentTerms: { policy: defaultIncidentPolicy, compensation: defaultCompensationPolicy },
    timeZone: 'Asia/Shanghai',
    calendar: testCalendar(effectiveAtMs),
  });
  const start = async (caseId: string, effectiveAtMs: number) =>
    env.client.workflow.start('serviceChange', { taskQueue, workflowId: caseWorkflowId('service-change', caseId), args: [changeInput(caseId, effectiveAtMs)] });

  const planned = await start('CHG-2026-000001', (await env.currentTimeMs()) + 72 * hour);
  await act(planned, 'note', { text: 'Vendor engineer booked' });
  await env.sleep(5 * hour);
  const movedToMs = (await env.currentTimeMs()) + 96 * hour;
  await act(planned, 'reschedule', { effectiveAt: iso(movedToMs), reason: 'The firmware release slipped' });
  await env.sleep(movedToMs + hour - (await env.currentTimeMs())); // the reminder 24 h before, then in progress
  await act(planned, 'complete', { summary: 'Firmware upgraded; all routers back' });
  await planned.result();
  await save('serviceChange-rescheduled-reminded-completed', await planned.fetchHistory());

  const effectiveAtMs = (await env.currentTimeMs()) + 50 * hour;
  const overran = await start('CHG-2026-000002', effectiveAtMs);
  await env.sleep(effectiveAtMs + 2 * hour + 60_000 - (await env.currentTimeMs())); // the window ends without complete
  await overran.result();
  await save('serviceChange-overran-incident-opened', await overran.fetchHistory());
}

/** N4: a segment's renewal notice sent 30 and 7 days before the date, closed on it; a customer's opened late (one send at once) and withdrawn. */
async function renewalScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  await seedRegion(db.sql, 'rnwh', 'renewal-history', 3);
  await seedCustomer(db.sql, { id: 'cust-history', locale: 'en' });
  const day = 24 * 3600_000;
  const dateIn = async (days: number) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date((await env.currentTimeMs()) + days * day));
  const renewalInput = async (caseId: string, audience: RenewalInput['audience'], days: number): Promise<RenewalInput> => ({
    caseId,
    audience,
    service: 'Home broadband 500M',
    fees: '¥99.00 per month',
    term: '12 months',
    conditions: 'Renews automatically unless cancelled',
    contacts: 'Call 10000',
    renewalDate: await dateIn(days),
    openedBy: agent,
    policy: defaultRenewalPolicy,
    timeZone: 'Asia/Shanghai',
    calendar: testCalendar(await env.currentTimeMs()),
  });
  const start = async (input: RenewalInput) => env.client.workflow.start('renewalNotice', { taskQueue, workflowId: caseWorkflowId('service-change', input.caseId), args: [input] });

  const segment = await start(await renewalInput('CHG-2026-000003', { segment: { services: ['broadband'], regions: ['renewal-history'] } }, 40));
  await act(segment, 'note', { text: 'Prices approved by marketing' });
  await env.sleep(41 * day);
  await segment.result();
  await save('renewalNotice-segment-30-and-7-days', await segment.fetchHistory());

  const late = await start(await renewalInput('CHG-2026-000004', { customerId: 'cust-history' }, 10));
  await env.sleep(day);
  await act(late, 'cancel', { reason: 'The customer moved to another plan' });
  await late.result();
  await save('renewalNotice-customer-late-cancelled', await late.fetchHistory());
}

/**
 * D3: an access request left unverified past its 15 working days (warned, escalated), noted,
 * verified, exported and completed; a deletion deferred by the customer's open case, retried at
 * that case's expected completion and done.
 */
async function dataRequestScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  process.env.PLEDGE_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'pledge-record-history-'));
  await seedCustomer(db.sql, { id: 'cust-history-dsr', locale: 'en', email: 'dsr@example.com', channels: ['email', 'inbox'] });
  await seedCustomer(db.sql, { id: 'cust-history-dsr2', locale: 'en' });
  const day = 24 * 3600_000;
  const start = async (caseId: string, customerId: string, kind: DataRequestInput['kind'], verification: DataRequestInput['verification']) =>
    env.client.workflow.start('dataRequest', {
      taskQueue,
      workflowId: caseWorkflowId('data-request', caseId),
      args: [
        {
          caseId,
          customerId,
          kind,
          verification,
          changes: null,
          note: null,
          openedBy: agent,
          policy: defaultDataRequestPolicy,
          timeZone: 'Asia/Shanghai',
          calendar: testCalendar(await env.currentTimeMs()),
        } satisfies DataRequestInput,
      ],
    });

  const access = await start('DSR-2026-000001', 'cust-history-dsr', 'access', { status: 'pending', method: 'id-document', reference: 'copy of ID card requested' });
  await act(access, 'note', { text: 'The customer will bring the ID card to the shop' });
  await env.sleep(25 * day); // past 80 % and the due time: warned, escalated
  await act(access, 'verify', { method: 'in-person', reference: 'ID card seen at the shop', verifiedBy: 'agent Li' });
  await access.result();
  await save('dataRequest-access-verified-late-escalated', await access.fetchHistory());

  const expected = new Date((await env.currentTimeMs()) + 2 * day).toISOString();
  await db.sql`
    insert into cases (case_id, workflow_id, type, status, customer_id, summary, opened_at, updated_at, last_step, state)
    values ('CMP-2026-000900', 'complaint-CMP-2026-000900', 'complaint', 'acknowledged', 'cust-history-dsr2', 'open complaint', now(), now(), 1,
            ${db.sql.json({ expectedCompletionAt: expected })})`;
  const deletion = await start('DSR-2026-000002', 'cust-history-dsr2', 'deletion', { status: 'verified', method: 'account-login', reference: 'signed in to the app', verifiedBy: 'agent Wang' });
  for (let polls = 0; (await deletion.query(stateQuery)).status !== 'deferred' && polls < 200; polls++) await new Promise((resolve) => setTimeout(resolve, 100));
  await db.sql`update cases set status = 'closed' where case_id = 'CMP-2026-000900'`;
  await env.sleep(3 * day); // the expected completion passes: retried, deleted
  await deletion.result();
  await save('dataRequest-deletion-deferred-then-deleted', await deletion.fetchHistory());
}

/** D2: a retention purge over two pages: two closed cases past 3 years purged, one kept by a legal hold. */
async function retentionScenario(env: TestWorkflowEnvironment, db: TestDatabase): Promise<void> {
  for (const id of ['cust-history-ret1', 'cust-history-ret2', 'cust-history-ret3']) await seedCustomer(db.sql, { id, locale: 'en' });
  await db.sql`update customers set legal_hold = true, legal_hold_reason = 'Litigation' where id = 'cust-history-ret3'`;
  for (const [caseId, customerId] of [
    ['CMP-2022-000901', 'cust-history-ret1'],
    ['CMP-2022-000902', 'cust-history-ret2'],
    ['CMP-2022-000903', 'cust-history-ret3'],
  ] as const) {
    await db.sql`
      insert into cases (case_id, workflow_id, type, status, customer_id, summary, opened_at, updated_at, last_step, state)
      values (${caseId}, ${`complaint-${caseId}`}, 'complaint', 'closed', ${customerId}, 'old complaint', now() - interval '4 years', now() - interval '4 years', 1, '{}'::jsonb)`;
  }
  const purge = await env.client.workflow.start('retentionPurge', { taskQueue, workflowId: 'retention-purge-history', args: [{ policy: { ...defaultRetentionPolicy, pageSize: 1 } }] });
  await purge.result();
  await save('retentionPurge-two-pages-one-held', await purge.fetchHistory());
}

/**
 * Issue 15 (B4): a P1 complaint whose first response breaches 3 s after its warning while the
 * warning takes 3.5 s to record (a slow database): the breach is recorded at once, not after the
 * runtime's 60-s back-off (patch case-runtime-due-wake-ups-at-once); then acknowledged and withdrawn.
 */
async function wakeUpScenario(env: TestWorkflowEnvironment, db: TestDatabase, caseId: string, file: string): Promise<void> {
  await seedCustomer(db.sql, { id: 'cust-history', locale: 'en' });
  await db.sql.unsafe(`
    create or replace function pledge_record_slow_warning() returns trigger language plpgsql as $$
    begin
      if new.type = 'sla.warned' and new.case_id = '${caseId}' then perform pg_sleep(3.5); end if;
      return new;
    end $$;
    drop trigger if exists pledge_record_slow_warning on case_events;
    create trigger pledge_record_slow_warning before insert on case_events for each row execute function pledge_record_slow_warning();`);
  try {
    const policy = {
      ...defaultComplaintSlaPolicy,
      version: 'complaint-sla/history-close-warning',
      firstResponseMinutes: { ...defaultComplaintSlaPolicy.firstResponseMinutes, P1: 1 },
      warnAtFraction: 0.95,
    };
    const input = { ...complaintInput(caseId, testCalendar(await env.currentTimeMs())), priority: 'P1' as const, policy };
    const handle = await env.client.workflow.start('complaint', { taskQueue, workflowId: caseWorkflowId('complaint', caseId), args: [input] });
    const opened = await handle.executeUpdate(openedUpdate);
    const warnAt = Date.parse(opened.deadlines.find((entry) => entry.name === 'firstResponse')!.warnAt!);
    await env.sleep(warnAt + 10 - (await env.currentTimeMs()));
    const recorded = async (type: string) => (await db.sql`select 1 from case_events where case_id = ${caseId} and type = ${type}`).length > 0;
    for (let polls = 0; !(await recorded('sla.warned')) && polls < 200; polls++) await new Promise((resolve) => setTimeout(resolve, 100));
    await env.sleep(2 * 60_000); // past a back-off, had there been one
    for (let polls = 0; !(await recorded('sla.breached')) && polls < 200; polls++) await new Promise((resolve) => setTimeout(resolve, 100));
    const due = new Date((await env.currentTimeMs()) + 3 * 24 * 3600_000).toISOString();
    await act(handle, 'acknowledge', { message: 'Sorry for the wait, the card is blocked', problem: 'A card used by someone else', steps: 'We block and replace the card', expectedCompletionAt: due });
    await act(handle, 'withdraw', { reason: 'The bank sorted it out' });
    await handle.result();
    await save(file, await handle.fetchHistory());
  } finally {
    await db.sql.unsafe('drop trigger if exists pledge_record_slow_warning on case_events');
  }
}

const scenarios = {
  complaint: { record: complaintScenario, files: ['complaint-breached-then-closed', 'complaint-paused-disputed-reopened-autoclosed', 'complaint-raced-actions-calendar-withdrawn'] },
  incident: { record: incidentScenario, files: ['incident-alert-auto-notice-resolved-reviewed', 'incidentFanout-recovery-first-run', 'incidentFanout-recovery-last-run'] },
  storm: { record: alertStormScenario, files: ['incident-alert-storm-first-run', 'incident-alert-storm-last-run'] },
  fidelity: { record: fidelityScenario, files: ['complaint-fidelity-reclassified-reminded-confirmed', 'complaint-fidelity-arbitration-breached-referred'] },
  merge: { record: mergeScenario, files: ['incident-merge-absorbed', 'incident-merge-target-resolved'] },
  'remedy-approval': { record: remedyApprovalScenario, files: ['incident-remedies-approved'] },
  claim: { record: claimScenario, files: ['compensation-approved-paid-reversed-repaid'] },
  'incident-fidelity': { record: incidentFidelityScenario, files: ['incident-fidelity-notice-held-review-overdue', 'incident-fidelity-dismissed-with-correction'] },
  'service-change': { record: serviceChangeScenario, files: ['serviceChange-rescheduled-reminded-completed', 'serviceChange-overran-incident-opened'] },
  renewal: { record: renewalScenario, files: ['renewalNotice-segment-30-and-7-days', 'renewalNotice-customer-late-cancelled'] },
  termination: { record: terminationScenario, files: ['termination-provider-export-held-deleted', 'termination-withdrawn'] },
  'data-request': { record: dataRequestScenario, files: ['dataRequest-access-verified-late-escalated', 'dataRequest-deletion-deferred-then-deleted'] },
  retention: { record: retentionScenario, files: ['retentionPurge-two-pages-one-held'] },
  'wake-up': {
    record: (env: TestWorkflowEnvironment, db: TestDatabase) => wakeUpScenario(env, db, 'CMP-2026-000006', 'complaint-breach-due-while-warning-recorded'),
    files: ['complaint-breach-due-while-warning-recorded'],
  },
  // The same life recorded once on the runtime before the patch (its 60-s back-off), so the replay
  // test shows such runs still replay; today's code would record the patched life, so never again.
  'wake-up-before-patch': {
    record: (env: TestWorkflowEnvironment, db: TestDatabase) => wakeUpScenario(env, db, 'CMP-2026-000007', 'complaint-breach-backed-off-before-patch'),
    files: ['complaint-breach-backed-off-before-patch'],
  },
};
const [env, db, bundle] = await Promise.all([createTimeSkippingEnv(), startTestDatabase(55449), bundleWorkflows()]);
try {
  const worker = await createPledgeWorker({ connection: env.nativeConnection, namespace: 'default', taskQueue, sql: db.sql, workflowBundle: bundle });
  await worker.runUntil(async () => {
    for (const [name, scenario] of Object.entries(scenarios)) {
      if (only && only !== name) continue;
      if (scenario.files.every((file) => existsSync(historyFile(file)))) {
        console.log(`${name}: already recorded (${scenario.files.join(', ')})`);
        continue;
      }
      await scenario.record(env, db);
    }
  });
} finally {
  await env.teardown();
  await db.stop();
}
