/**
 * What the fault test counts once the faults are over: every case in its expected state, and every
 * case event, notification and ledger row there exactly once — by key (the unique constraints) and
 * by meaning (one `complaint.received` per complaint, one outage notice per customer, incident and
 * channel, one remedy per customer and incident), with nothing missing that a case promised.
 */
import type { Client } from '@temporalio/client';
import protos from '@temporalio/proto';
import type postgres from 'postgres';
import type { FlowKind, PlannedCase, RetryingClient } from './fault-load';
import { keys } from './fault-load';

/** The templates each kind of case sends its customer (every recipient, for a fan-out), once per channel. */
export const expectedTemplates: Record<FlowKind, string[][]> = {
  complaint: [['complaint.received']],
  'complaint-acknowledged': [['complaint.received'], ['complaint.acknowledged']],
  'complaint-resolved': [['complaint.received'], ['complaint.resolved']],
  // One recovery message per customer: with the remedy paid, or saying it waits for approval (P4).
  incident: [['incident.outage-notice'], ['incident.recovered-with-remedy', 'incident.recovered-remedy-pending']],
  claim: [['claim.paid']],
  'service-change': [['change.notice']],
  renewal: [['renewal.notice']],
  termination: [['termination.effective']],
  'data-request': [['data-request.access-ready']],
};

/** Event types each kind of case records exactly once. */
export const expectedEvents: Record<FlowKind, string[]> = {
  complaint: ['complaint.received'],
  'complaint-acknowledged': ['complaint.received', 'complaint.acknowledged'],
  'complaint-resolved': ['complaint.received', 'complaint.resolved'],
  incident: ['incident.opened', 'incident.notice-published', 'incident.resolved'],
  claim: ['claim.received', 'claim.paid'],
  'service-change': ['change.opened', 'change.notified'],
  renewal: ['renewal.opened', 'renewal.sent'],
  termination: [
    'termination.opened',
    'termination.effective-date-reached',
    'termination.final-backup-kept',
    'termination.account-deactivated',
    'termination.services-released',
    'termination.effective',
  ],
  'data-request': ['data-request.received', 'data-request.export-created', 'data-request.completed'],
};

/** Statuses in which a case's workflow has ended (the types' isClosed), so Temporal no longer runs it. */
const workflowEnded: Record<string, string[]> = {
  complaint: ['closed'],
  incident: ['closed'],
  compensation: ['closed'],
  'service-change': ['completed', 'cancelled', 'overran'],
  termination: ['closed', 'withdrawn'],
  'data-request': ['completed', 'refused'],
};

interface CaseRow {
  case_id: string;
  workflow_id: string;
  type: string;
  status: string;
  last_step: number;
  details: any;
}

/** Whether a case has reached what its flow expects, its fan-outs and last step recorded included. */
function settled(plan: PlannedCase, row: CaseRow | undefined, sentRenewals: Set<string>): boolean {
  if (!row || row.status !== plan.expectedStatus) return false;
  if (plan.kind === 'incident') return row.details?.recovery?.completedAt != null;
  if (plan.kind === 'service-change') return row.details?.notice?.customers != null;
  if (plan.kind === 'renewal') return sentRenewals.has(row.case_id);
  return true;
}

export interface Progress {
  settledCases: number;
  pendingNotifications: number;
  unsettled: PlannedCase[];
}

export async function progressOf(sql: postgres.Sql, plans: PlannedCase[]): Promise<Progress> {
  const ids = plans.flatMap((plan) => (plan.caseId ? [plan.caseId] : []));
  const rows = await sql<CaseRow[]>`select case_id, workflow_id, type, status, last_step, state -> 'details' as details from cases where case_id = any(${ids})`;
  const byId = new Map(rows.map((row) => [row.case_id, row]));
  const renewals = await sql<{ case_id: string }[]>`select distinct case_id from case_events where case_id = any(${ids}) and type = 'renewal.sent'`;
  const sent = new Set(renewals.map((row) => row.case_id));
  const unsettled = plans.filter((plan) => !plan.caseId || !settled(plan, byId.get(plan.caseId), sent));
  const [pending] = await sql<{ n: number }[]>`select count(*)::int as n from notifications where status = 'pending' and customer_id is not null`;
  return { settledCases: plans.length - unsettled.length, pendingNotifications: pending!.n, unsettled };
}

export interface Finding {
  what: string;
  count: number;
  examples: string[];
}

export interface CheckReport {
  perType: Array<{ kind: FlowKind; planned: number; opened: number; expected: string; reached: number; statuses: string; eventsPerCase: string }>;
  casesByType: Array<{ type: string; planned: number; inReadModel: number }>;
  events: { rows: number; cases: number };
  notifications: { rows: number; byStatus: string };
  ledger: { rows: number; expected: number };
  temporal: { running: number; openInReadModel: number; mismatched: number };
  liveStateMismatches: number;
  fanoutFailures: number;
  duplicates: Finding[];
  missing: Finding[];
  other: Finding[];
}

/** `5` when every value is 5, `5–6 (6 ×2)` otherwise: the spread and how often the rarer values occur. */
function spread(values: number[]): string {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  if (sorted.length <= 1) return String(sorted[0]?.[0] ?? 0);
  return `${sorted[0]![0]} (${sorted
    .slice(1)
    .map(([value, n]) => `${value} ×${n}`)
    .join(', ')})`;
}

/**
 * Case workflows that still have activities or children pending (a step being recorded, a
 * provisioning call, a fan-out): the run is over only when there is none.
 */
export async function busyWorkflows(temporal: Client, namespace: string, workflowIds: string[]): Promise<string[]> {
  const busy: string[] = [];
  const queue = [...workflowIds];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let workflowId = queue.shift(); workflowId; workflowId = queue.shift()) {
        const described = await temporal.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId } });
        const pending = [...(described.pendingActivities ?? []).map((a) => a.activityType?.name ?? '?'), ...(described.pendingChildren ?? []).map((c) => c.workflowTypeName ?? '?')];
        if (pending.length > 0) busy.push(`${workflowId}: ${pending.join(', ')}`);
      }
    }),
  );
  return busy;
}

const finding = (what: string, items: string[]): Finding => ({ what, count: items.length, examples: items.slice(0, 5) });

export async function checkEverything(options: {
  sql: postgres.Sql;
  temporal: Client;
  client: RetryingClient;
  plans: PlannedCase[];
  fanoutRecipients: Array<{ id: string; email: string | null }>;
  /** Case workflows with an activity or a child still pending when the wait ended. */
  stillBusy: string[];
}): Promise<CheckReport> {
  const { sql, plans } = options;
  const opened = plans.filter((plan) => plan.caseId !== undefined);
  const ids = opened.map((plan) => plan.caseId!);
  const rows = await sql<CaseRow[]>`select case_id, workflow_id, type, status, last_step, state -> 'details' as details from cases where case_id = any(${ids})`;
  const rowOf = new Map(rows.map((row) => [row.case_id, row]));
  const renewals = await sql<{ case_id: string }[]>`select distinct case_id from case_events where case_id = any(${ids}) and type = 'renewal.sent'`;
  const sent = new Set(renewals.map((row) => row.case_id));
  const report: CheckReport = {
    perType: [],
    casesByType: [],
    events: { rows: 0, cases: 0 },
    notifications: { rows: 0, byStatus: '' },
    ledger: { rows: 0, expected: 0 },
    temporal: { running: 0, openInReadModel: 0, mismatched: 0 },
    liveStateMismatches: 0,
    fanoutFailures: 0,
    duplicates: [],
    missing: [],
    other: [],
  };

  const eventCounts = await sql<{ case_id: string; n: number }[]>`select case_id, count(*)::int as n from case_events where case_id = any(${ids}) group by case_id`;
  const eventsOf = new Map(eventCounts.map((row) => [row.case_id, row.n]));
  // States, per kind of flow.
  const kinds = [...new Set(plans.map((plan) => plan.kind))];
  for (const kind of kinds) {
    const ofKind = plans.filter((plan) => plan.kind === kind);
    const statuses = new Map<string, number>();
    for (const plan of ofKind) {
      const status = plan.caseId ? (rowOf.get(plan.caseId)?.status ?? 'not recorded') : 'not opened';
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    report.perType.push({
      kind,
      planned: ofKind.length,
      opened: ofKind.filter((plan) => plan.caseId).length,
      expected: ofKind[0]!.expectedStatus,
      reached: ofKind.filter((plan) => plan.caseId && settled(plan, rowOf.get(plan.caseId), sent)).length,
      statuses: [...statuses].map(([status, n]) => `${status} ${n}`).join(', '),
      eventsPerCase: spread(ofKind.map((plan) => (plan.caseId ? (eventsOf.get(plan.caseId) ?? 0) : 0))),
    });
  }
  report.other.push(finding('case workflows still busy (an activity or a child pending) when the wait ended', options.stillBusy));
  report.other.push(
    finding(
      'requests answered otherwise than the flow expected (after retries)',
      opened.filter((plan) => plan.error).map((plan) => `${plan.caseId}: ${plan.error}`),
    ),
  );
  report.missing.push(
    finding(
      'cases not opened (request never answered 201)',
      plans.filter((plan) => !plan.caseId).map((plan) => `${plan.key}: ${plan.error ?? '?'}`),
    ),
  );
  report.missing.push(
    finding(
      'cases opened but not in their expected state',
      opened.filter((plan) => !settled(plan, rowOf.get(plan.caseId!), sent)).map((plan) => `${plan.caseId} ${rowOf.get(plan.caseId!)?.status ?? 'no row'} ≠ ${plan.expectedStatus}`),
    ),
  );

  // Exactly one case per Idempotency-Key: a retry that opened a second case would show here.
  const byType = await sql<{ type: string; n: number }[]>`select type, count(*)::int as n from cases group by type order by type`;
  for (const { type, n } of byType) report.casesByType.push({ type, planned: plans.filter((plan) => plan.type === type).length, inReadModel: n });
  report.duplicates.push(
    finding(
      'cases beyond one per Idempotency-Key',
      report.casesByType.filter((row) => row.inReadModel > row.planned).map((row) => `${row.type}: ${row.inReadModel} cases for ${row.planned} keys`),
    ),
  );
  const keyRows = await sql<{ scope: string; key: string; n: number }[]>`select scope, key, count(distinct case_id)::int as n from idempotency_keys group by 1, 2 having count(distinct case_id) > 1`;
  report.duplicates.push(
    finding(
      'Idempotency-Keys tied to two cases',
      keyRows.map((row) => `${row.scope} ${row.key}`),
    ),
  );

  // Case events: unique (workflow_id, step) by constraint; no gap in the steps, the read model at the last one.
  const [eventTotals] = await sql<{ rows: number; cases: number }[]>`select count(*)::int as rows, count(distinct workflow_id)::int as cases from case_events where case_id = any(${ids})`;
  report.events = eventTotals!;
  const byKey = await sql<{ workflow_id: string; step: number }[]>`select workflow_id, step from case_events where case_id = any(${ids}) group by 1, 2 having count(*) > 1`;
  report.duplicates.push(
    finding(
      'case events per (workflow_id, step) beyond one',
      byKey.map((row) => `${row.workflow_id} step ${row.step}`),
    ),
  );
  const steps = await sql<{ case_id: string; n: number; first: number; last: number }[]>`
    select case_id, count(*)::int as n, min(step)::int as first, max(step)::int as last from case_events where case_id = any(${ids}) group by case_id`;
  const stepsOf = new Map(steps.map((row) => [row.case_id, row]));
  report.missing.push(
    finding(
      'case events missing (a gap in the steps, or the read model past the last event)',
      rows.flatMap((row) => {
        const recorded = stepsOf.get(row.case_id);
        if (!recorded) return [`${row.case_id}: no events`];
        const gap = recorded.n !== recorded.last - recorded.first + 1;
        return gap || recorded.last !== row.last_step ? [`${row.case_id}: ${recorded.n} events, steps ${recorded.first}–${recorded.last}, read model at ${row.last_step}`] : [];
      }),
    ),
  );
  // By meaning: the same event of the same clock twice in one case.
  const semantic = await sql<{ case_id: string; type: string; clock: string; n: number }[]>`
    select case_id, type, coalesce(data ->> 'clock', '') as clock, count(*)::int as n from case_events
    where case_id = any(${ids}) group by 1, 2, 3 having count(*) > 1`;
  report.duplicates.push(
    finding(
      'case events of one type (and clock) twice in a case',
      semantic.map((row) => `${row.case_id} ${row.type}${row.clock ? ` (${row.clock})` : ''} ×${row.n}`),
    ),
  );
  const typesOf = await sql<{ case_id: string; types: string[] }[]>`select case_id, array_agg(type) as types from case_events where case_id = any(${ids}) group by case_id`;
  const typesByCase = new Map(typesOf.map((row) => [row.case_id, row.types]));
  report.missing.push(
    finding(
      'expected case events absent',
      opened.flatMap((plan) => expectedEvents[plan.kind].filter((type) => !(typesByCase.get(plan.caseId!) ?? []).includes(type)).map((type) => `${plan.caseId} ${type}`)),
    ),
  );

  // Notifications to customers: unique idempotency_key by constraint; by meaning one per (case, customer, message, channel).
  const notes = await sql<{ case_id: string; customer_id: string; template: string; channel: string; n: number }[]>`
    select case_id, customer_id, template, channel, count(*)::int as n from notifications
    where case_id = any(${ids}) and customer_id is not null group by 1, 2, 3, 4`;
  const [noteTotals] = await sql<{ n: number }[]>`select count(*)::int as n from notifications where case_id = any(${ids}) and customer_id is not null`;
  const noteKeys = await sql<{ idempotency_key: string }[]>`select idempotency_key from notifications group by 1 having count(*) > 1`;
  report.duplicates.push(
    finding(
      'notifications per idempotency_key beyond one',
      noteKeys.map((row) => row.idempotency_key),
    ),
  );
  const byStatus = await sql<{ channel: string; status: string; n: number }[]>`
    select channel, status, count(*)::int as n from notifications where case_id = any(${ids}) and customer_id is not null group by 1, 2 order by 1, 2`;
  report.notifications = { rows: noteTotals!.n, byStatus: byStatus.map((row) => `${row.channel} ${row.status} ${row.n}`).join(', ') };
  const leased = await sql<{ idempotency_key: string; claimed_at: Date }[]>`
    select idempotency_key, claimed_at from notifications where case_id = any(${ids}) and status = 'sending' order by claimed_at`;
  report.other.push(
    finding(
      "notifications left 'sending' by a dispatcher that was killed (information: sent again under the same key once their 15-minute lease ends)",
      leased.map((row) => `${row.idempotency_key} claimed ${row.claimed_at.toISOString()}`),
    ),
  );
  const noteCount = new Map<string, number>();
  for (const row of notes) noteCount.set(`${row.case_id}|${row.customer_id}|${row.template}|${row.channel}`, row.n);
  const emailOf = new Map(options.fanoutRecipients.map((customer) => [customer.id, customer.email]));
  const single = await sql<{ id: string; email: string | null }[]>`select id, email from customers where id = any(${opened.flatMap((plan) => (plan.customerId ? [plan.customerId] : []))})`;
  for (const customer of single) emailOf.set(customer.id, customer.email);
  const duplicateNotes: string[] = [];
  const missingNotes: string[] = [];
  for (const plan of opened) {
    const recipients = plan.customerId ? [plan.customerId] : options.fanoutRecipients.map((customer) => customer.id);
    for (const recipient of recipients) {
      for (const channel of emailOf.get(recipient) ? ['inbox', 'email'] : ['inbox']) {
        for (const family of expectedTemplates[plan.kind]) {
          const n = family.reduce((sum, template) => sum + (noteCount.get(`${plan.caseId}|${recipient}|${template}|${channel}`) ?? 0), 0);
          if (n === 0) missingNotes.push(`${plan.caseId} ${recipient} ${family.join('|')} ${channel}`);
          if (n > 1) duplicateNotes.push(`${plan.caseId} ${recipient} ${family.join('|')} ${channel} ×${n}`);
        }
      }
    }
  }
  for (const row of notes)
    if (row.n > 1 && !duplicateNotes.some((line) => line.startsWith(`${row.case_id} ${row.customer_id} `)))
      duplicateNotes.push(`${row.case_id} ${row.customer_id} ${row.template} ${row.channel} ×${row.n}`);
  report.duplicates.push(finding('notifications of one message to one customer on one channel beyond one', duplicateNotes));
  report.missing.push(finding('notifications expected and absent', missingNotes));
  const staffDuplicates = await sql<{ case_id: string; staff_role: string; template: string; channel: string; n: number }[]>`
    select case_id, staff_role, template, channel, count(*)::int as n from notifications
    where case_id = any(${ids}) and staff_role is not null group by 1, 2, 3, 4 having count(*) > 1`;
  report.other.push(
    finding(
      'staff messages of one template to one role twice (information: reminders repeat)',
      staffDuplicates.map((row) => `${row.case_id} ${row.staff_role} ${row.template} ${row.channel} ×${row.n}`),
    ),
  );

  // Ledger: unique idempotency_key by constraint; one payment per (case, customer): every incident recipient, every claim.
  const ledger = await sql<{ case_id: string; customer_id: string; n: number }[]>`
    select case_id, customer_id, count(*)::int as n from ledger where case_id = any(${ids}) and reverses_id is null group by 1, 2`;
  const [ledgerTotals] = await sql<{ n: number }[]>`select count(*)::int as n from ledger where case_id = any(${ids})`;
  const ledgerCount = new Map(ledger.map((row) => [`${row.case_id}|${row.customer_id}`, row.n]));
  const owed = opened.flatMap((plan) =>
    plan.kind === 'incident' ? options.fanoutRecipients.map((customer) => `${plan.caseId}|${customer.id}`) : plan.kind === 'claim' ? [`${plan.caseId}|${plan.customerId}`] : [],
  );
  const pendingRemedies = await sql<{ key: string }[]>`select case_id || '|' || customer_id as key from pending_remedies where case_id = any(${ids})`;
  const waiting = new Set(pendingRemedies.map((row) => row.key));
  report.ledger = { rows: ledgerTotals!.n, expected: owed.filter((key) => !waiting.has(key)).length };
  report.duplicates.push(
    finding(
      'ledger rows per (case, customer) beyond one',
      ledger.filter((row) => row.n > 1).map((row) => `${row.case_id} ${row.customer_id} ×${row.n}`),
    ),
  );
  const ledgerKeys = await sql<{ idempotency_key: string }[]>`select idempotency_key from ledger group by 1 having count(*) > 1`;
  report.duplicates.push(
    finding(
      'ledger rows per idempotency_key beyond one',
      ledgerKeys.map((row) => row.idempotency_key),
    ),
  );
  report.missing.push(
    finding(
      'ledger rows owed and absent (not waiting for approval either)',
      owed.filter((key) => !ledgerCount.has(key) && !waiting.has(key)),
    ),
  );
  report.duplicates.push(
    finding(
      'ledger rows nobody was owed',
      ledger.filter((row) => !owed.includes(`${row.case_id}|${row.customer_id}`)).map((row) => `${row.case_id} ${row.customer_id}`),
    ),
  );

  // Fan-outs that failed and were retried (recorded on the incident; not an error when the retry delivered).
  report.fanoutFailures = rows.reduce((sum, row) => sum + (row.type === 'incident' ? (row.details?.fanoutFailures?.length ?? 0) : 0), 0);

  // Temporal against the read model: each case's workflow runs exactly while its case is open.
  const mismatched: string[] = [];
  let running = 0;
  for (const row of rows) {
    const description = await options.temporal.workflow.getHandle(row.workflow_id).describe();
    const isRunning = description.status.name === 'RUNNING';
    if (isRunning) running += 1;
    const shouldRun = !(workflowEnded[row.type] ?? []).includes(row.status);
    if (isRunning !== shouldRun) mismatched.push(`${row.case_id} ${row.status}: workflow ${description.status.name}`);
  }
  const [open] = await sql<{ n: number }[]>`
    select count(*)::int as n from cases where case_id = any(${ids}) and not (
      (type in ('complaint', 'incident', 'compensation') and status = 'closed') or (type = 'service-change' and status in ('completed', 'cancelled', 'overran'))
      or (type = 'termination' and status in ('closed', 'withdrawn')) or (type = 'data-request' and status in ('completed', 'refused')))`;
  report.temporal = { running, openInReadModel: open!.n, mismatched: mismatched.length };
  report.other.push(finding('workflows running while their case is closed, or ended while it is open', mismatched));

  // The live state (the workflow's `state` query over the API) against the read model.
  const live: string[] = [];
  for (const row of rows) {
    const answer = await options.client.send('GET', `/v1/cases/${row.case_id}`, { key: keys.auditor });
    if (answer.status !== 200 || answer.body.status !== row.status) live.push(`${row.case_id}: live ${answer.body?.status ?? answer.status}, read model ${row.status}`);
  }
  report.liveStateMismatches = live.length;
  report.other.push(finding('live state (GET /v1/cases/{id}) differs from the read model', live));
  return report;
}

export interface RetriedWork {
  histories: number;
  /** Activities that ran more than once (their attempt > 1 when they finally started), by type. */
  activityRetries: Record<string, number>;
  activityTimeouts: number;
  workflowTaskTimeouts: number;
  workflowTaskFailures: number;
}

/** What the histories say the faults did: activities cut off and run again, workflow tasks lost with a worker. */
export async function retriedWork(temporal: Client): Promise<RetriedWork> {
  const EventType = protos.temporal.api.enums.v1.EventType;
  const result: RetriedWork = { histories: 0, activityRetries: {}, activityTimeouts: 0, workflowTaskTimeouts: 0, workflowTaskFailures: 0 };
  const runs: Array<{ workflowId: string; runId: string }> = [];
  for await (const execution of temporal.workflow.list()) runs.push({ workflowId: execution.workflowId, runId: execution.runId });
  const scan = async ({ workflowId, runId }: { workflowId: string; runId: string }) => {
    const history = await temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    result.histories += 1;
    const activityTypes = new Map<string, string>();
    for (const event of history.events ?? []) {
      const id = String(event.eventId);
      switch (event.eventType) {
        case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
          activityTypes.set(id, event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
          const attempt = event.activityTaskStartedEventAttributes?.attempt ?? 1;
          if (attempt > 1) {
            const type = activityTypes.get(String(event.activityTaskStartedEventAttributes?.scheduledEventId)) ?? '?';
            result.activityRetries[type] = (result.activityRetries[type] ?? 0) + 1;
          }
          break;
        }
        case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
          result.activityTimeouts += 1;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
          result.workflowTaskTimeouts += 1;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
          result.workflowTaskFailures += 1;
          break;
      }
    }
  };
  const queue = [...runs];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let run = queue.shift(); run; run = queue.shift()) await scan(run);
    }),
  );
  return result;
}

/**
 * `--tamper`: damage the records the way a bug would before the checks run — one notification and
 * one remedy doubled under new keys, one notification deleted, one complaint event recorded again —
 * so a run shows that the checks see each kind (it must then fail with 3 duplicates and 2 missing).
 */
export async function tamperForSelfCheck(sql: postgres.Sql, plans: PlannedCase[]): Promise<void> {
  const incident = plans.find((plan) => plan.kind === 'incident' && plan.caseId)!.caseId!;
  const complaint = plans.find((plan) => plan.kind === 'complaint' && plan.caseId)!.caseId!;
  await sql.begin(async (tx) => {
    await tx`delete from notifications where id = (select max(id) from notifications where case_id = ${incident} and channel = 'inbox' and template = 'incident.outage-notice')`;
    await tx`
      insert into notifications (idempotency_key, customer_id, case_id, channel, locale, template, subject, body, recipient, status)
      select idempotency_key || ':tampered', customer_id, case_id, channel, locale, template, subject, body, recipient, status
      from notifications where case_id = ${incident} and channel = 'inbox' order by id limit 1`;
    await tx`
      insert into ledger (idempotency_key, customer_id, case_id, kind, amount_cents, currency, policy_version)
      select idempotency_key || ':tampered', customer_id, case_id, kind, amount_cents, currency, policy_version from ledger where case_id = ${incident} order by id limit 1`;
    await tx`
      insert into case_events (workflow_id, step, case_id, type, actor_id, actor_role, occurred_at, data)
      select workflow_id, (select max(step) + 1 from case_events where case_id = ${complaint}), case_id, type, actor_id, actor_role, occurred_at, data
      from case_events where case_id = ${complaint} and type = 'complaint.received'`;
  });
}
