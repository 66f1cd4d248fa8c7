import { allHandlersFinished, condition, executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { StaffNotificationRequest } from '../activities/case-records';
import type { FanoutKind, IncidentMessage } from '../activities/incidents';
import type { Actor } from '../domain/actors';
import { systemActor } from '../domain/actors';
import { allowedActions, checkAction, type ActionCheck } from '../domain/case-actions';
import type { CaseAction, CaseState } from '../domain/case-state';
import { caseWorkflowId } from '../domain/case-types';
import type { CompensationPolicy } from '../domain/compensation-policy';
import {
  defaultSeverity,
  emptyScope,
  incidentActions,
  incidentNextStep,
  mergeScopes,
  sameScope,
  scopeFromLabels,
  scopeIsEmpty,
  severityFromLabel,
  worstSeverity,
  type AlertBatch,
  type IncidentAlert,
  type IncidentScope,
  type IncidentSource,
  type IncidentStatus,
  type Severity,
} from '../domain/incident';
import { noticeSchedule, type IncidentPolicy } from '../domain/incident-policy';
import { meetClock, rescheduleClock, startClock, type ClockEvent } from '../domain/sla-clock';
import { addWorkingDays, type WorkingCalendar } from '../domain/working-calendar';
import { CaseJournal } from './case-journal';
import { incidentFanout, type IncidentFanoutResult } from './incident-fanout';
import { alertsSignal } from './incident-messages';
import { actUpdate, allowedInputOrThrow, calendarUpdatedSignal, stateQuery } from './protocol';
import { SlaClocks } from './sla-clocks';

const { countAffectedCustomers, closeAlertGroup, recordOutage } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export interface IncidentInput {
  caseId: string;
  source: IncidentSource;
  /** O2: the alert group's dedup key; null for a manual incident. */
  dedupKey: string | null;
  title: string;
  description: string;
  /** O4/O5: when the outage started (the alert's startsAt), not when Pledge heard of it. */
  startedAt: string;
  /** Set by staff when they open the incident; otherwise derived from alert labels (O3). */
  severity: Severity | null;
  /** Set by staff when they open the incident; otherwise derived from alert labels. */
  scope: IncidentScope | null;
  openedBy: Actor;
  /** Pinned when the incident opens. */
  policy: IncidentPolicy;
  compensation: CompensationPolicy;
  timeZone: string;
  /** The working calendar for the review deadline (O6), sliced to the years the incident can reach. */
  calendar: WorkingCalendar;
}

export interface IncidentOutcome {
  caseId: string;
  status: IncidentStatus;
  slaBreached: boolean;
  outageMinutes: number | null;
  remediesPaid: number;
}

const clockNames = { notice: 'notice', repair: 'repair', review: 'review' } as const;
const alertSourceActor = (batch: AlertBatch): Actor => batch.sentBy;
const minutesBetween = (fromMs: number, toMs: number) => Math.round((toMs - fromMs) / 60_000);
const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

interface FanoutRequest {
  kind: FanoutKind;
  keyPrefix: string;
  scopes: IncidentScope[];
  message: IncidentMessage;
}

/**
 * An outage incident (O1–O9): opened by alerts or staff; affected users told within 2 hours of the
 * start (auto-published before the deadline if nobody does); repaired within 48 hours or escalated;
 * on recovery every affected user is told and compensated once; closed by the post-incident review.
 */
export async function incident(input: IncidentInput): Promise<IncidentOutcome> {
  const workflowId = workflowInfo().workflowId;
  const startedAtMs = Date.parse(input.startedAt);
  const openedAtMs = Date.now();
  const schedule = noticeSchedule(input.policy, startedAtMs);
  let status = 'open' as IncidentStatus;
  let severity: Severity = input.severity ?? defaultSeverity;
  let severitySource: 'staff' | 'labels' | 'default' = input.severity ? 'staff' : 'default';
  let scope: IncidentScope = input.scope ?? emptyScope;
  let scopeSource: 'staff' | 'labels' = input.scope ? 'staff' : 'labels';
  let slaBreached = false;
  let updatedAtMs = openedAtMs;
  let revision = 0;
  const alerts = new Map<string, IncidentAlert>();
  let intakeRecorded = false;
  const pendingBatches: AlertBatch[] = [];
  let affected = { count: 0, query: 'none: the scope is empty' };
  const noticedScopes: IncidentScope[] = [];
  const notice: {
    message: string;
    editedBy?: string;
    publishedAtMs?: number;
    publishedBy?: string;
    auto?: boolean;
    supersededByRecovery?: boolean;
  } = { message: draftNotice() };
  const updates: { at: string; by: string; message: string; notifiedUsers: boolean }[] = [];
  let nextUpdateReminderAtMs = openedAtMs + input.policy.updateEveryMinutes * 60_000;
  let endedAtMs: number | undefined;
  let resolution: { summary: string; by: string; via: 'alerts' | 'manual' } | undefined;
  const review: { dueAtMs?: number; nextReminderAtMs?: number; submittedAtMs?: number; summary?: string; rootCause?: string; followUps?: string[] } = {};
  const recovery = { customers: 0, notificationsQueued: 0, remediesPaid: 0, remedyAmountCents: 0, completedAt: null as string | null };
  const fanoutQueue: FanoutRequest[] = [];
  let fanoutsRunning = 0;
  let fanoutCount = 0;
  let updateCount = 0;
  const fanoutLog: { kind: FanoutKind; customers: number; notificationsQueued: number; remediesPaid: number; pages: number; runs: number; durationMs: number; maxRunHistoryLength: number }[] = [];

  const clocks = new SlaClocks();
  clocks.add(startClock({ name: clockNames.notice, policyVersion: input.policy.version, startedAtMs, durationMs: schedule.dueAtMs - startedAtMs, warnAtFraction: input.policy.warnAtFraction }));
  clocks.add(startClock({ name: clockNames.repair, policyVersion: input.policy.version, startedAtMs, durationMs: input.policy.repairWithinMinutes * 60_000, warnAtFraction: input.policy.warnAtFraction }));

  function draftNotice(): string {
    return input.description.trim() || `${input.title}.`;
  }

  const alertCounts = () => {
    const all = [...alerts.values()];
    return { total: all.length, firing: all.filter((alert) => alert.status === 'firing').length, resolved: all.filter((alert) => alert.status === 'resolved').length };
  };

  const view = (): CaseState => {
    const deadlines = clocks.views();
    const pending = deadlines.filter((deadline) => deadline.state === 'pending' || deadline.state === 'paused');
    const published = notice.publishedAtMs !== undefined || notice.supersededByRecovery === true;
    return {
      caseId: input.caseId,
      workflowId,
      type: 'incident',
      status,
      priority: severity,
      customerId: null,
      summary: input.title,
      openedAt: new Date(openedAtMs).toISOString(),
      updatedAt: new Date(updatedAtMs).toISOString(),
      slaBreached,
      deadlines,
      nextStep: incidentNextStep(status, published),
      expectedCompletionAt: pending.map((deadline) => deadline.dueAt).sort().at(-1) ?? null,
      allowedActions: allowedActions(incidentActions, status).filter((action) => !(published && (action === 'publish-notice' || action === 'edit-notice'))),
      details: {
        source: input.source,
        dedupKey: input.dedupKey,
        description: input.description,
        startedAt: input.startedAt,
        endedAt: iso(endedAtMs),
        outageMinutes: endedAtMs === undefined ? null : minutesBetween(startedAtMs, endedAtMs),
        severitySource,
        scope,
        scopeSource,
        affectedCount: affected.count,
        affectedQuery: affected.query,
        alerts: alertCounts(),
        notice: {
          message: notice.message,
          dueAt: iso(schedule.dueAtMs),
          autoPublishAt: iso(schedule.autoPublishAtMs),
          publishedAt: iso(notice.publishedAtMs),
          publishedBy: notice.publishedBy ?? null,
          auto: notice.auto ?? null,
          late: notice.publishedAtMs === undefined ? null : notice.publishedAtMs > schedule.dueAtMs,
          latenessMinutes: notice.publishedAtMs === undefined ? null : Math.max(0, minutesBetween(schedule.dueAtMs, notice.publishedAtMs)),
          supersededByRecovery: notice.supersededByRecovery ?? false,
        },
        updates: updates.slice(-20),
        nextUpdateReminderAt: status === 'open' ? iso(nextUpdateReminderAtMs) : null,
        resolution: resolution ?? null,
        recovery,
        review: { dueAt: iso(review.dueAtMs), submittedAt: iso(review.submittedAtMs), summary: review.summary ?? null, rootCause: review.rootCause ?? null, followUps: review.followUps ?? [] },
        policyVersion: input.policy.version,
        compensationPolicyVersion: input.compensation.version,
        fanouts: fanoutLog,
      },
    };
  };

  const journal = new CaseJournal(view);
  const staffMessage = (kind: string, role: 'agent' | 'supervisor', subject: string, body: string, atMs: number): StaffNotificationRequest => ({
    idempotencyKey: `${workflowId}:staff:${kind}:${atMs}`,
    role,
    kind,
    subject: `${input.caseId} · ${subject}`,
    body: `${input.title}\n\n${body}`,
    occurredAt: new Date(atMs).toISOString(),
    // Outages do not wait for working hours.
    deliverAfter: new Date(atMs).toISOString(),
  });

  setHandler(stateQuery, view);
  setHandler(alertsSignal, (batch: AlertBatch) => {
    pendingBatches.push(batch);
  });
  let calendar = input.calendar;
  let pendingCalendar: WorkingCalendar | undefined;
  setHandler(calendarUpdatedSignal, (next: WorkingCalendar) => {
    pendingCalendar = next;
    revision++;
  });
  setHandler(
    actUpdate,
    async (request: CaseAction): Promise<CaseState> => {
      // Keeps the timeline in order: the opening, scope and draft are recorded before any action.
      await condition(() => intakeRecorded);
      const checked = validate(request);
      const now = Date.now();
      updatedAtMs = now;
      revision++;
      switch (request.action) {
        case 'classify':
          await classify(checked.severity as Severity, 'staff', request.actor, (checked.reason as string | undefined) ?? null);
          break;
        case 'set-scope':
          await changeScope({ services: checked.services as string[], regions: checked.regions as string[] }, 'staff', request.actor);
          break;
        case 'edit-notice':
          notice.message = String(checked.message);
          notice.editedBy = request.actor.id;
          await journal.record('incident.notice-edited', request.actor, { message: notice.message });
          break;
        case 'publish-notice':
          await publishNotice(request.actor, false);
          break;
        case 'post-update': {
          const message = String(checked.message);
          const notifyUsers = checked.notifyUsers === true;
          updates.push({ at: new Date(now).toISOString(), by: request.actor.id, message, notifiedUsers: notifyUsers });
          nextUpdateReminderAtMs = now + input.policy.updateEveryMinutes * 60_000;
          await journal.record('incident.update-posted', request.actor, { message, notifyUsers, nextUpdateDueAt: iso(nextUpdateReminderAtMs) });
          if (notifyUsers) queueFanout('update', `${workflowId}:update-${++updateCount}`, message);
          break;
        }
        case 'resolve': {
          const endedAt = checked.endedAt ? Date.parse(String(checked.endedAt)) : now;
          await resolveIncident(endedAt, request.actor, String(checked.summary), 'manual');
          break;
        }
        case 'submit-review':
          status = 'closed';
          review.submittedAtMs = now;
          review.summary = String(checked.summary);
          review.rootCause = String(checked.rootCause);
          review.followUps = (checked.followUps as string[] | undefined) ?? [];
          meetClock(clocks.get(clockNames.review)!, now);
          await journal.record('incident.review-submitted', request.actor, {
            summary: review.summary,
            rootCause: review.rootCause,
            followUps: review.followUps,
            dueAt: iso(review.dueAtMs),
            late: review.dueAtMs !== undefined && now > review.dueAtMs,
          });
          await journal.record('incident.closed', systemActor, {});
          break;
      }
      return view();
    },
    { validator: (request: CaseAction) => void validate(request) },
  );

  function validate(request: CaseAction): Record<string, unknown> {
    let checked: ActionCheck = checkAction(incidentActions, { action: request.action, input: request.input, actorRole: request.actor.role }, status);
    if (checked.ok) {
      const published = notice.publishedAtMs !== undefined || notice.supersededByRecovery === true;
      if (published && (request.action === 'publish-notice' || request.action === 'edit-notice')) {
        checked = { ok: false, kind: 'refused', message: `the outage notice was already published at ${iso(notice.publishedAtMs) ?? 'recovery'}; post an update instead` };
      } else if (request.action === 'resolve' && checked.input.endedAt !== undefined) {
        const endedAt = Date.parse(String(checked.input.endedAt));
        if (endedAt < startedAtMs || endedAt > Date.now()) {
          checked = {
            ok: false,
            kind: 'invalid-input',
            message: "invalid input for 'resolve'",
            fields: [{ field: 'input.endedAt', message: `must lie between the outage's start (${input.startedAt}) and now` }],
          };
        }
      }
    }
    return allowedInputOrThrow(checked);
  }

  const affectedScopes = (): IncidentScope[] => {
    const all = [...noticedScopes, scope];
    return all.filter((candidate, index) => !scopeIsEmpty(candidate) && all.findIndex((other) => sameScope(other, candidate)) === index);
  };

  const outageRecord = () => {
    const reach = affectedScopes().reduce(mergeScopes, emptyScope);
    return { caseId: input.caseId, title: input.title, severity, services: reach.services, regions: reach.regions, startedAt: input.startedAt, endedAt: iso(endedAtMs) };
  };

  function queueFanout(kind: FanoutKind, keyPrefix: string, message?: string): void {
    const base: IncidentMessage = { title: input.title, startedAt: input.startedAt, ...(message === undefined ? {} : { message }) };
    const recoveryFields = kind === 'recovery' && endedAtMs !== undefined ? { endedAt: new Date(endedAtMs).toISOString(), outageMinutes: minutesBetween(startedAtMs, endedAtMs) } : {};
    fanoutQueue.push({ kind, keyPrefix, scopes: affectedScopes(), message: { ...base, ...recoveryFields } });
  }

  async function runFanouts(): Promise<void> {
    for (;;) {
      await condition(() => fanoutQueue.length > 0);
      const request = fanoutQueue.shift()!;
      fanoutsRunning++;
      const result: IncidentFanoutResult = await executeChild(incidentFanout, {
        // From the case number, not workflowInfo(): the same id on replay under any workflow id.
        workflowId: `${caseWorkflowId('incident', input.caseId)}-fanout-${++fanoutCount}-${request.kind}`,
        args: [
          {
            incidentWorkflowId: workflowId,
            caseId: input.caseId,
            notificationKeyPrefix: request.keyPrefix,
            kind: request.kind,
            scopes: request.scopes,
            pageSize: input.policy.fanoutPageSize,
            pagesPerRun: input.policy.fanoutPagesPerRun,
            timeZone: input.timeZone,
            message: request.message,
            ...(request.kind === 'recovery' ? { compensation: input.compensation } : {}),
          },
        ],
      });
      fanoutLog.push({
        kind: request.kind,
        customers: result.customers,
        notificationsQueued: result.notificationsQueued,
        remediesPaid: result.remediesPaid,
        pages: result.pages,
        runs: result.runs,
        durationMs: result.durationMs,
        maxRunHistoryLength: result.maxRunHistoryLength,
      });
      if (request.kind === 'recovery') {
        recovery.customers += result.customers;
        recovery.notificationsQueued += result.notificationsQueued;
        recovery.remediesPaid += result.remediesPaid;
        recovery.remedyAmountCents += result.remedyAmountCents;
        recovery.completedAt = new Date().toISOString();
      }
      updatedAtMs = Date.now();
      await journal.record(request.kind === 'recovery' ? 'incident.recovery-delivered' : 'incident.fanout-delivered', systemActor, {
        kind: request.kind,
        customers: result.customers,
        notificationsQueued: result.notificationsQueued,
        remediesPaid: result.remediesPaid,
        remedyAmountCents: result.remedyAmountCents,
        ...(request.kind === 'recovery' ? { compensationPolicyVersion: input.compensation.version } : {}),
        pages: result.pages,
        runs: result.runs,
        durationMs: result.durationMs,
      });
      fanoutsRunning--;
    }
  }

  async function classify(next: Severity, source: 'staff' | 'labels', actor: Actor, reason: string | null): Promise<void> {
    if (source === 'labels' && severitySource === 'staff') return;
    const previous = severity;
    severity = next;
    severitySource = source;
    if (previous === next && source === 'labels') return;
    await journal.record('incident.classified', actor, { severity, previous, source, reason });
    await recordOutage(outageRecord());
  }

  async function changeScope(next: IncidentScope, source: 'staff' | 'labels', actor: Actor): Promise<void> {
    if (source === 'labels' && scopeSource === 'staff') return;
    if (sameScope(next, scope) && source === scopeSource) return;
    scope = next;
    scopeSource = source;
    affected = await countAffectedCustomers({ scopes: affectedScopes() });
    await journal.record('incident.scope-set', actor, { scope, source, affectedCount: affected.count, query: affected.query });
    await recordOutage(outageRecord());
    // A published notice follows the scope: users newly in scope are told too; keys skip the rest.
    if (status === 'open' && notice.publishedAtMs !== undefined) {
      noticedScopes.push(scope);
      queueFanout('outage-notice', `${workflowId}:notice`, notice.message);
    }
  }

  /** O4: the notice goes to every affected user; after the deadline it is recorded late, with its lateness. */
  async function publishNotice(actor: Actor, auto: boolean): Promise<void> {
    if (notice.publishedAtMs !== undefined) return;
    const now = Date.now();
    notice.publishedAtMs = now;
    notice.publishedBy = actor.id;
    notice.auto = auto;
    const clock = clocks.get(clockNames.notice)!;
    meetClock(clock, now);
    noticedScopes.push(scope);
    const late = now > schedule.dueAtMs;
    await journal.record('incident.notice-published', actor, {
      auto,
      message: notice.message,
      dueAt: iso(schedule.dueAtMs),
      late,
      latenessMinutes: late ? minutesBetween(schedule.dueAtMs, now) : 0,
      alertDelayMinutes: minutesBetween(startedAtMs, openedAtMs),
      affectedCount: affected.count,
      query: affected.query,
    });
    await journal.record('sla.met', systemActor, { clock: clockNames.notice, late });
    queueFanout('outage-notice', `${workflowId}:notice`, notice.message);
  }

  /** O7/O8: recovery notice and remedy to every affected user; O6: the review clock starts. */
  async function resolveIncident(endedAt: number, actor: Actor, summary: string, via: 'alerts' | 'manual'): Promise<void> {
    if (status !== 'open') return;
    const now = Date.now();
    status = 'resolved';
    endedAtMs = Math.min(Math.max(endedAt, startedAtMs), now);
    resolution = { summary, by: actor.id, via };
    meetClock(clocks.get(clockNames.repair)!, endedAtMs);
    const noticeClock = clocks.get(clockNames.notice)!;
    if (notice.publishedAtMs === undefined) {
      // Restored before the notice went out: the recovery notice tells users of both.
      notice.supersededByRecovery = true;
      meetClock(noticeClock, now);
    }
    const reviewDue = addWorkingDays(calendar, now, input.policy.reviewWithinWorkingDays, input.timeZone);
    clocks.add(
      startClock({
        name: clockNames.review,
        policyVersion: input.policy.version,
        startedAtMs: now,
        durationMs: reviewDue.dueAtMs - now,
        warnAtFraction: input.policy.warnAtFraction,
        calendarVersion: reviewDue.calendarVersion,
        provisional: reviewDue.provisional,
      }),
    );
    review.dueAtMs = reviewDue.dueAtMs;
    review.nextReminderAtMs = now + input.policy.reviewReminderEveryMinutes * 60_000;
    revision++;
    await journal.record('incident.resolved', actor, {
      via,
      summary,
      endedAt: iso(endedAtMs),
      outageMinutes: minutesBetween(startedAtMs, endedAtMs),
      affectedCount: affected.count,
      compensationPolicyVersion: input.compensation.version,
      reviewDueAt: iso(review.dueAtMs),
      reviewDueProvisional: reviewDue.provisional,
    });
    if (notice.supersededByRecovery) await journal.record('sla.met', systemActor, { clock: clockNames.notice, late: now > schedule.dueAtMs, byRecoveryNotice: true });
    const knownAlerts = [...alerts.values()].map((alert) => ({ fingerprint: alert.fingerprint, startsAt: alert.startsAt }));
    const closed = await closeAlertGroup({ caseId: input.caseId, closedAt: new Date(now).toISOString(), dedupKey: input.dedupKey, knownAlerts });
    // Histories recorded before the activity answered anything replay with no result here.
    if ((closed?.released ?? 0) > 0) await journal.record('incident.alerts-released', systemActor, { released: closed!.released, reason: 'arrived while the incident resolved; their next re-send opens a new incident' });
    await recordOutage(outageRecord());
    queueFanout('recovery', `${workflowId}:recovery`);
  }

  async function applyAlerts(batch: AlertBatch): Promise<void> {
    const actor = alertSourceActor(batch);
    let changed = 0;
    for (const alert of batch.alerts) {
      const key = `${alert.fingerprint}|${alert.startsAt}`;
      const known = alerts.get(key);
      // A firing re-send that arrives after the alert resolved is stale: resolution wins.
      if (known?.status === 'resolved' && alert.status === 'firing') continue;
      if (known?.status === alert.status && known.endsAt === alert.endsAt) continue;
      alerts.set(key, alert);
      changed++;
    }
    const counts = alertCounts();
    updatedAtMs = Date.now();
    await journal.record(status === 'open' ? 'incident.alerts-received' : 'incident.alerts-after-resolution', actor, {
      groupKey: batch.groupKey,
      received: batch.alerts.length,
      changed,
      firing: batch.alerts.filter((alert) => alert.status === 'firing').map((alert) => alert.fingerprint),
      resolved: batch.alerts.filter((alert) => alert.status === 'resolved').map((alert) => alert.fingerprint),
      totals: counts,
    });
    if (status !== 'open') return;
    const all = [...alerts.values()];
    const labelled = worstSeverity(all.map((alert) => severityFromLabel(alert.labels.severity)));
    if (labelled && labelled !== severity) await classify(labelled, 'labels', actor, 'from the alerts\' severity label');
    else if (labelled && severitySource === 'default') severitySource = 'labels';
    const labelScope = all.map((alert) => scopeFromLabels(alert.labels)).reduce(mergeScopes, emptyScope);
    if (!scopeIsEmpty(labelScope) && !sameScope(labelScope, scope)) await changeScope(labelScope, 'labels', actor);
    // O7: the outage is over when every alert of the group has resolved.
    if (counts.total > 0 && counts.firing === 0) {
      const endedAt = Math.max(...all.map((alert) => Date.parse(alert.endsAt ?? batch.receivedAt)));
      await resolveIncident(endedAt, actor, 'every alert of the group resolved', 'alerts');
    }
  }

  /** An operator loaded calendar data: a provisional review deadline is computed again (O6). */
  async function applyCalendar(next: WorkingCalendar): Promise<void> {
    calendar = next;
    const clock = clocks.get(clockNames.review);
    if (!clock?.provisional) return;
    const due = addWorkingDays(calendar, clock.startedAtMs, input.policy.reviewWithinWorkingDays, input.timeZone);
    const previousDueAt = iso(clock.dueAtMs);
    if (!rescheduleClock(clock, due.dueAtMs, input.policy.warnAtFraction)) return;
    clock.calendarVersion = due.calendarVersion;
    clock.provisional = due.provisional;
    review.dueAtMs = due.dueAtMs;
    await journal.record('sla.rescheduled', systemActor, { clock: clockNames.review, previousDueAt, dueAt: iso(due.dueAtMs), calendarVersion: due.calendarVersion, provisional: due.provisional });
  }

  async function onClockEvent(event: ClockEvent): Promise<void> {
    updatedAtMs = event.atMs;
    const at = new Date(event.atMs).toISOString();
    if (event.kind === 'warned') {
      await journal.record('sla.warned', systemActor, { clock: event.clock, at }, [], [
        staffMessage(`${event.clock}-warned`, 'agent', `${event.clock} deadline approaching`, `The ${event.clock} deadline is at ${clocks.get(event.clock)?.dueAtMs ? new Date(clocks.get(event.clock)!.dueAtMs).toISOString() : '?'}.`, event.atMs),
      ]);
      return;
    }
    // O5/O6: a breach escalates: flagged for monitoring (SlaBreached) and sent to supervisors.
    slaBreached = true;
    await journal.record('sla.breached', systemActor, { clock: event.clock, dueAt: at, escalatedTo: 'supervisor' }, [], [
      staffMessage(`${event.clock}-breached`, 'supervisor', `${event.clock} deadline BREACHED`, `The ${event.clock} deadline passed at ${at}; the incident is escalated to supervisors.`, event.atMs),
    ]);
  }

  async function remindersDue(): Promise<void> {
    const now = Date.now();
    // O5: while open, a reminder to post an update every N hours without one.
    while (status === 'open' && now >= nextUpdateReminderAtMs) {
      const at = nextUpdateReminderAtMs;
      nextUpdateReminderAtMs += input.policy.updateEveryMinutes * 60_000;
      await journal.record('incident.update-reminder', systemActor, { at: iso(at), lastUpdateAt: updates.at(-1)?.at ?? null }, [], [
        staffMessage('update-reminder', 'agent', 'post an update', `No update for ${input.policy.updateEveryMinutes / 60} h: post one (POST /v1/cases/${input.caseId}/actions/post-update).`, at),
      ]);
    }
    // O6: while the review is pending and not yet due, a reminder every so often.
    while (status === 'resolved' && review.nextReminderAtMs !== undefined && review.dueAtMs !== undefined && now >= review.nextReminderAtMs && review.nextReminderAtMs < review.dueAtMs) {
      const at = review.nextReminderAtMs;
      review.nextReminderAtMs += input.policy.reviewReminderEveryMinutes * 60_000;
      await journal.record('incident.review-reminder', systemActor, { at: iso(at), dueAt: iso(review.dueAtMs) }, [], [
        staffMessage('review-reminder', 'agent', 'post-incident review due', `The review is due by ${iso(review.dueAtMs)} (submit-review).`, at),
      ]);
    }
  }

  const nextWakeAtMs = (): number | undefined => {
    const candidates: number[] = [];
    if (status === 'open') {
      if (notice.publishedAtMs === undefined) candidates.push(schedule.autoPublishAtMs);
      candidates.push(nextUpdateReminderAtMs);
    }
    if (status === 'resolved' && review.nextReminderAtMs !== undefined && review.dueAtMs !== undefined && review.nextReminderAtMs < review.dueAtMs) {
      candidates.push(review.nextReminderAtMs);
    }
    return candidates.length ? Math.min(...candidates) : undefined;
  };

  void runFanouts();

  await journal.record('incident.opened', input.openedBy, {
    source: input.source,
    dedupKey: input.dedupKey,
    title: input.title,
    startedAt: input.startedAt,
    alertDelayMinutes: minutesBetween(startedAtMs, openedAtMs),
    severity,
    scope: input.scope,
    noticeDueAt: iso(schedule.dueAtMs),
    autoPublishAt: iso(schedule.autoPublishAtMs),
    repairDueAt: iso(clocks.get(clockNames.repair)!.dueAtMs),
    policyVersion: input.policy.version,
    compensationPolicyVersion: input.compensation.version,
    calendarVersion: input.calendar.version,
  });
  if (input.scope) {
    affected = await countAffectedCustomers({ scopes: affectedScopes() });
    await journal.record('incident.scope-set', input.openedBy, { scope, source: 'staff', affectedCount: affected.count, query: affected.query });
  }
  // The first alerts (signal-with-start) give the scope and severity before the draft is written.
  while (pendingBatches.length > 0) await applyAlerts(pendingBatches.shift()!);
  await journal.record('incident.notice-drafted', systemActor, { message: notice.message, dueAt: iso(schedule.dueAtMs), autoPublishAt: iso(schedule.autoPublishAtMs) });
  await recordOutage(outageRecord());
  intakeRecorded = true;

  // Clocks already due at the start (an alert that reached Pledge late) fire before anything else,
  // so a late notice is recorded as a breach, not as met.
  let dueEvents = await clocks.waitForChangeOrDue(() => true);
  for (;;) {
    for (const event of dueEvents) await onClockEvent(event);
    if (pendingCalendar) {
      const next = pendingCalendar;
      pendingCalendar = undefined;
      await applyCalendar(next);
    }
    while (pendingBatches.length > 0) await applyAlerts(pendingBatches.shift()!);
    // O4: nobody published by start + 2 h − margin: Pledge publishes the draft itself (at once when late).
    if (status === 'open' && notice.publishedAtMs === undefined && Date.now() >= schedule.autoPublishAtMs) await publishNotice(systemActor, true);
    await remindersDue();
    if (status === 'closed') break;
    const seenRevision = revision;
    dueEvents = await clocks.waitForChangeOrDue(() => revision !== seenRevision || pendingBatches.length > 0 || status === 'closed', nextWakeAtMs());
  }
  await condition(() => fanoutQueue.length === 0 && fanoutsRunning === 0);
  await condition(allHandlersFinished);
  return {
    caseId: input.caseId,
    status,
    slaBreached,
    outageMinutes: endedAtMs === undefined ? null : minutesBetween(startedAtMs, endedAtMs),
    remediesPaid: recovery.remediesPaid,
  };
}
