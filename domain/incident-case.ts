import { systemActor, type Actor } from './actors';
import { clockViews, isoOrNull, minutesClock, rescheduleProvisionalClocks, workingDaysClock } from './case-clocks';
import { allowedActions } from './case-actions';
import { claimTerms } from './claim';
import { event, joinSteps, noStep, ruleIsOn, type CaseContext, type CaseDefinition, type CaseStateBase, type EffectOutcome, type Step } from './case-definition';
import type { IncidentDetails } from './case-details';
import type { CaseState } from './case-state';
import type { CompensationPolicy } from './compensation-policy';
import {
  defaultSeverity,
  describeScopeQuery,
  emptyScope,
  incidentActions,
  incidentNextStep,
  isIncidentMerge,
  type IncidentAction,
  type IncidentMerge,
  type IncidentSignal,
  mergeScopes,
  sameScope,
  scopeFromLabels,
  scopeIsEmpty,
  severityFromLabel,
  worstSeverity,
  type IncidentAlert,
  type IncidentScope,
  type IncidentSource,
  type IncidentStatus,
  type Severity,
} from './incident';
import { noticeSchedule, type IncidentPolicy } from './incident-policy';
import type { FanoutKind, IncidentMessage, StaffNotificationRequest, StepEvent } from './messages';
import { cancelClock, meetClock } from './sla-clock';
import type { WorkingCalendar } from './working-calendar';

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

/** One message to every affected user, run as a fan-out child by the workflow. */
export interface FanoutRequest {
  /** Numbered when queued: the child's id and its attempts derive from it. */
  number: number;
  kind: FanoutKind;
  keyPrefix: string;
  scopes: IncidentScope[];
  message: IncidentMessage;
  /** O2/P5: an outage notice skips customers told under these notification key prefixes (by an incident merged into this one). */
  skipNotifiedUnder?: string[];
  /** P4 (later rule): recovery remedies above this amount wait for a supervisor. */
  approvalThresholdCents?: number;
}

export interface FanoutTotals {
  customers: number;
  notificationsQueued: number;
  remediesPaid: number;
  remedyAmountCents: number;
  remediesPending?: number;
  remedyPendingAmountCents?: number;
  pages: number;
  runs: number;
  durationMs: number;
  maxRunHistoryLength: number;
}

export interface OutageRecord {
  caseId: string;
  title: string;
  severity: Severity;
  services: string[];
  regions: string[];
  startedAt: string;
  endedAt: string | null;
}

/** The I/O an incident asks of the runtime; each answer comes back through `onEffectDone`. */
export type IncidentEffect =
  | { kind: 'count-affected'; scopes: IncidentScope[]; actor: Actor; source: 'staff' | 'labels' }
  | { kind: 'record-outage'; outage: OutageRecord }
  | { kind: 'close-alert-group'; closedAt: string; dedupKey: string | null; knownAlerts: { fingerprint: string; startsAt: string }[] }
  | { kind: 'fanout'; request: FanoutRequest }
  /** O2/P5: tell the target what this incident knows (the `incident-merge` signal), after this incident's own fan-outs. */
  | { kind: 'merge-into'; into: string; merge: IncidentMerge }
  /** O2/P5: the absorbed incident's alert groups (and alerts) now belong to this one; or, with `release`, are released. */
  | { kind: 'adopt-alert-groups'; fromCaseId: string; at: string; knownAlerts: { fingerprint: string; startsAt: string }[]; release: boolean }
  /** P4: pay the remedies that waited for a supervisor, and tell their customers. */
  | { kind: 'approve-remedies'; approvedBy: string };

export interface IncidentState extends CaseStateBase {
  source: IncidentSource;
  dedupKey: string | null;
  title: string;
  description: string;
  startedAt: string;
  startedAtMs: number;
  openedAtMs: number;
  policy: IncidentPolicy;
  compensation: CompensationPolicy;
  status: IncidentStatus;
  severity: Severity;
  severitySource: 'staff' | 'labels' | 'default';
  scope: IncidentScope;
  scopeSource: 'staff' | 'labels';
  slaBreached: boolean;
  alerts: Record<string, IncidentAlert>;
  affected: { count: number; query: string };
  noticedScopes: IncidentScope[];
  notice: {
    message: string;
    editedBy?: string;
    publishedAtMs?: number;
    publishedBy?: string;
    auto?: boolean;
    supersededByRecovery?: boolean;
    /** O4 (rule o4-told-means-told): the auto-publish fell due with nobody in scope; supervisors were escalated then, once. */
    heldAtMs?: number;
  };
  updates: { at: string; by: string; message: string; notifiedUsers: boolean }[];
  nextUpdateReminderAtMs: number;
  endedAtMs?: number;
  resolution?: { summary: string; by: string; via: 'alerts' | 'manual' };
  review: { nextReminderAtMs?: number; submittedAtMs?: number; summary?: string; rootCause?: string; followUps?: string[] };
  recovery: {
    customers: number;
    notificationsQueued: number;
    remediesPaid: number;
    remedyAmountCents: number;
    completedAt: string | null;
    /** P4 (later rule): remedies above the approval threshold, waiting for approve-remedies. */
    remediesPending?: number;
    remedyPendingAmountCents?: number;
  };
  fanoutsQueued: number;
  fanouts: Array<{ kind: FanoutKind } & FanoutTotals>;
  fanoutFailures: { number: number; kind: FanoutKind; attempt: number; error: string; retrying: boolean }[];
  unchangedBatches: number;
  /** O2/P5: a false alarm closed by a supervisor. */
  dismissal?: { reason: string; by: string; atMs: number; correction: boolean };
  /** O2/P5: closed by a merge into another incident; `failed` when the target could not be told. */
  mergedInto?: { caseId: string; reason: string; by: string; atMs: number; failed?: boolean };
  /** O2/P5: incidents merged into this one, in the order they arrived. */
  mergedFrom?: string[];
  /** O2/P5: notification key prefixes under which incidents merged into this one told users: its outage notice skips them. */
  alsoNotifiedUnder?: string[];
  /** O2/P5: the start of the joined outage when an incident merged into this one started earlier (recovery, remedies, O9). */
  outageStartedAtMs?: number;
}

/**
 * Incident rules added after incidents were already running (see CaseDefinition.laterRules): an
 * incident opened before a rule existed keeps the behaviour it started with.
 */
export const incidentRules = {
  /** O4: an auto-publish that would reach nobody does not meet the notice clock; it waits for a scope. */
  toldMeansTold: 'o4-told-means-told',
  /** C14/O6: an overdue review keeps reminding (supervisors) until it is submitted. */
  reviewRemindersAfterBreach: 'review-reminders-after-breach',
  /** P4: a remedy above the approval threshold waits for a supervisor (approve-remedies) instead of being paid at once. */
  remedyApproval: 'p4-remedy-approval',
} as const;

const clockNames = { notice: 'notice', repair: 'repair', review: 'review' } as const;
const minutesBetween = (fromMs: number, toMs: number) => Math.round((toMs - fromMs) / 60_000);
/** How many recent updates and fan-outs the state keeps (the timeline keeps all). */
const keptEntries = 20;

/**
 * An outage incident (O1–O9): opened by alerts or staff; affected users told within 2 hours of the
 * start (auto-published before the deadline if nobody does); repaired within 48 hours or escalated;
 * on recovery every affected user is told and compensated once; closed by the post-incident review.
 */
export const incidentCase: CaseDefinition<IncidentInput & { workflowId: string }, IncidentState, IncidentEffect, IncidentSignal, IncidentAction> = {
  type: 'incident',
  actions: incidentActions,
  laterRules: Object.values(incidentRules),

  open(input, ctx) {
    const startedAtMs = Date.parse(input.startedAt);
    const { policy } = input;
    const schedule = noticeSchedule(policy, startedAtMs);
    const clockOptions = { policyVersion: policy.version, startedAtMs, warnAtFraction: policy.warnAtFraction };
    const state: IncidentState = {
      ...(ctx.rules ? { rules: ctx.rules } : {}),
      caseId: input.caseId,
      workflowId: input.workflowId,
      clocks: {
        [clockNames.notice]: minutesClock(clockNames.notice, { ...clockOptions, minutes: (schedule.dueAtMs - startedAtMs) / 60_000 }),
        [clockNames.repair]: minutesClock(clockNames.repair, { ...clockOptions, minutes: policy.repairWithinMinutes }),
      },
      calendar: input.calendar,
      timeZone: input.timeZone,
      updatedAtMs: ctx.nowMs,
      source: input.source,
      dedupKey: input.dedupKey,
      title: input.title,
      description: input.description,
      startedAt: input.startedAt,
      startedAtMs,
      openedAtMs: ctx.nowMs,
      policy,
      compensation: input.compensation,
      status: 'open',
      severity: input.severity ?? defaultSeverity,
      severitySource: input.severity ? 'staff' : 'default',
      scope: emptyScope,
      scopeSource: input.scope ? 'staff' : 'labels',
      slaBreached: false,
      alerts: {},
      affected: { count: 0, query: 'none: the scope is empty' },
      noticedScopes: [],
      notice: { message: input.description.trim() || `${input.title}.` },
      updates: [],
      nextUpdateReminderAtMs: ctx.nowMs + policy.updateEveryMinutes * 60_000,
      review: {},
      recovery: { customers: 0, notificationsQueued: 0, remediesPaid: 0, remedyAmountCents: 0, completedAt: null },
      fanoutsQueued: 0,
      fanouts: [],
      fanoutFailures: [],
      unchangedBatches: 0,
    };
    const opened = event('incident.opened', input.openedBy, ctx, {
      source: input.source,
      dedupKey: input.dedupKey,
      title: input.title,
      startedAt: input.startedAt,
      alertDelayMinutes: minutesBetween(startedAtMs, ctx.nowMs),
      severity: state.severity,
      scope: input.scope,
      noticeDueAt: isoOrNull(schedule.dueAtMs),
      autoPublishAt: isoOrNull(schedule.autoPublishAtMs),
      repairDueAt: isoOrNull(state.clocks[clockNames.repair]!.dueAtMs),
      policyVersion: policy.version,
      compensationPolicyVersion: input.compensation.version,
      calendarVersion: input.calendar.version,
    });
    const drafted = event('incident.notice-drafted', systemActor, ctx, { message: state.notice.message, dueAt: isoOrNull(schedule.dueAtMs), autoPublishAt: isoOrNull(schedule.autoPublishAtMs) });
    if (input.scope) state.scope = input.scope;
    const effects: IncidentEffect[] = input.scope
      ? [{ kind: 'count-affected', scopes: affectedScopes(state), actor: input.openedBy, source: 'staff' }]
      : [{ kind: 'record-outage', outage: outageRecord(state) }];
    return { state, events: [opened, drafted], effects };
  },

  refine(s, request, checked, ctx) {
    if (!checked.ok) return checked;
    const pending = s.recovery.remediesPending ?? 0;
    if (request.action === 'approve-remedies' && pending === 0) {
      return { ok: false, kind: 'refused', message: 'no remedy is waiting for approval' + (s.recovery.completedAt ? '' : ' (the recovery fan-out has not finished)') };
    }
    if (request.action === 'submit-review' && pending > 0) {
      return { ok: false, kind: 'refused', message: `${pending} remedies above the approval threshold wait for a supervisor: approve-remedies first (P4)` };
    }
    if (noticeOut(s) && (request.action === 'publish-notice' || request.action === 'edit-notice')) {
      return { ok: false, kind: 'refused', message: `the outage notice was already published at ${isoOrNull(s.notice.publishedAtMs) ?? 'recovery'}; post an update instead` };
    }
    // O4: publishing to nobody would meet the clock with nobody told.
    if (request.action === 'publish-notice' && ruleIsOn(s, incidentRules.toldMeansTold) && nobodyInScope(s)) {
      return { ok: false, kind: 'refused', message: 'nobody is in the scope yet, so the notice would reach nobody; set the scope (set-scope) and it is published at once if it is due' };
    }
    if (request.action === 'merge' && checked.input.into === s.caseId) {
      return { ok: false, kind: 'invalid-input', message: "invalid input for 'merge'", fields: [{ field: 'input.into', message: 'an incident cannot be merged into itself' }] };
    }
    if (request.action === 'resolve' && checked.input.endedAt !== undefined) {
      const endedAt = Date.parse(String(checked.input.endedAt));
      if (endedAt < s.startedAtMs || endedAt > ctx.nowMs) {
        return {
          ok: false,
          kind: 'invalid-input',
          message: "invalid input for 'resolve'",
          fields: [{ field: 'input.endedAt', message: `must lie between the outage's start (${s.startedAt}) and now` }],
        };
      }
    }
    return checked;
  },

  decide(s, request, ctx) {
    const { actor } = request;
    s.updatedAtMs = ctx.nowMs;
    switch (request.action) {
      case 'classify':
        return classify(s, request.input.severity, 'staff', actor, request.input.reason ?? null, ctx);
      case 'set-scope':
        return changeScope(s, { services: request.input.services, regions: request.input.regions }, 'staff', actor);
      case 'edit-notice':
        s.notice.message = request.input.message;
        s.notice.editedBy = actor.id;
        return { events: [event('incident.notice-edited', actor, ctx, { message: s.notice.message })] };
      case 'publish-notice':
        return publishNotice(s, actor, false, ctx);
      case 'post-update': {
        const { message, notifyUsers } = request.input;
        s.updates = [...s.updates, { at: new Date(ctx.nowMs).toISOString(), by: actor.id, message, notifiedUsers: notifyUsers }].slice(-keptEntries);
        s.nextUpdateReminderAtMs = ctx.nowMs + s.policy.updateEveryMinutes * 60_000;
        const posted = event('incident.update-posted', actor, ctx, { message, notifyUsers, nextUpdateDueAt: isoOrNull(s.nextUpdateReminderAtMs) });
        // Keyed by the request: a retried action (same Idempotency-Key) tells nobody twice.
        const key = `${s.workflowId}:update-${ctx.requestId ?? ctx.step}`;
        return { events: [posted], effects: notifyUsers ? [queueFanout(s, 'update', key, message)] : [] };
      }
      case 'resolve': {
        const endedAt = request.input.endedAt ? Date.parse(request.input.endedAt) : ctx.nowMs;
        return resolveIncident(s, endedAt, actor, request.input.summary, 'manual', ctx);
      }
      case 'approve-remedies':
        return {
          events: [
            event('incident.remedies-approval', actor, ctx, { remedies: s.recovery.remediesPending ?? 0, amountCents: s.recovery.remedyPendingAmountCents ?? 0, note: request.input.note ?? null }),
          ],
          effects: [{ kind: 'approve-remedies', approvedBy: actor.id }],
        };
      case 'submit-review': {
        const { summary, rootCause, followUps } = request.input;
        s.status = 'closed';
        s.review = { ...s.review, submittedAtMs: ctx.nowMs, summary, rootCause, followUps };
        const reviewClock = s.clocks[clockNames.review];
        if (reviewClock) meetClock(reviewClock, ctx.nowMs);
        const submitted = event('incident.review-submitted', actor, ctx, {
          summary,
          rootCause,
          followUps,
          dueAt: isoOrNull(reviewClock?.dueAtMs),
          late: reviewClock !== undefined && ctx.nowMs > reviewClock.dueAtMs,
        });
        return { events: [submitted, event('incident.closed', systemActor, ctx, {})] };
      }
      case 'dismiss':
        return dismiss(s, actor, request.input.reason, request.input.message, ctx);
      case 'merge':
        return mergeInto(s, actor, request.input.into, request.input.reason, ctx);
    }
  },

  onSignal(s, signal, ctx) {
    if (isIncidentMerge(signal)) return absorb(s, signal, ctx);
    const batch = signal;
    const actor = batch.sentBy;
    let changed = 0;
    for (const alert of batch.alerts) {
      const key = `${alert.fingerprint}|${alert.startsAt}`;
      const known = s.alerts[key];
      // A firing re-send that arrives after the alert resolved is stale: resolution wins.
      if (known?.status === 'resolved' && alert.status === 'firing') continue;
      if (known?.status === alert.status && known.endsAt === alert.endsAt) continue;
      s.alerts[key] = alert;
      changed++;
    }
    // A re-send with nothing new is no new fact: counted, not recorded (an alert storm stays small).
    if (changed === 0) {
      s.unchangedBatches++;
      return noStep;
    }
    s.updatedAtMs = ctx.nowMs;
    const received = event(s.status === 'open' ? 'incident.alerts-received' : 'incident.alerts-after-resolution', actor, ctx, {
      groupKey: batch.groupKey,
      received: batch.alerts.length,
      changed,
      firing: batch.alerts.filter((alert) => alert.status === 'firing').map((alert) => alert.fingerprint),
      resolved: batch.alerts.filter((alert) => alert.status === 'resolved').map((alert) => alert.fingerprint),
      totals: alertCounts(s),
    });
    if (s.status !== 'open') return { events: [received] };
    const all = Object.values(s.alerts);
    const labelled = worstSeverity(all.map((alert) => severityFromLabel(alert.labels.severity)));
    let classified: Step<IncidentEffect> = noStep;
    if (labelled && labelled !== s.severity) classified = classify(s, labelled, 'labels', actor, "from the alerts' severity label", ctx);
    else if (labelled && s.severitySource === 'default') s.severitySource = 'labels';
    const labelScope = all.map((alert) => scopeFromLabels(alert.labels)).reduce(mergeScopes, emptyScope);
    if (!scopeIsEmpty(labelScope) && !sameScope(labelScope, s.scope)) {
      const scoped = changeScope(s, labelScope, 'labels', actor);
      // The resolution check follows the scope's count (onEffectDone), so the recovery reaches the new scope.
      if (scoped.effects?.length) return joinSteps({ events: [received] }, classified, scoped);
    }
    return joinSteps({ events: [received] }, classified, resolveIfAllAlertsResolved(s, actor, ctx));
  },

  onEffectDone(s, effect, outcome, ctx) {
    switch (effect.kind) {
      case 'count-affected': {
        if (!outcome.ok) return noStep;
        s.affected = outcome.result as IncidentState['affected'];
        const scopeSet = event('incident.scope-set', effect.actor, ctx, { scope: s.scope, source: effect.source, affectedCount: s.affected.count, query: s.affected.query });
        const effects: IncidentEffect[] = [{ kind: 'record-outage', outage: outageRecord(s) }];
        // A published notice follows the scope: users newly in scope are told too; keys skip the rest.
        if (s.status === 'open' && s.notice.publishedAtMs !== undefined) {
          s.noticedScopes.push(s.scope);
          effects.push(queueFanout(s, 'outage-notice', `${s.workflowId}:notice`, s.notice.message));
        }
        const resolved = effect.source === 'labels' ? resolveIfAllAlertsResolved(s, effect.actor, ctx) : noStep;
        return joinSteps({ events: [scopeSet], effects }, resolved, publishHeldNotice(s, ctx));
      }
      case 'close-alert-group': {
        const released = outcome.ok ? ((outcome.result as { released?: number } | undefined)?.released ?? 0) : 0;
        if (released === 0) return noStep;
        return { events: [event('incident.alerts-released', systemActor, ctx, { released, reason: 'arrived while the incident resolved; their next re-send opens a new incident' })] };
      }
      case 'fanout':
        return fanoutDone(s, effect.request, outcome, ctx);
      case 'approve-remedies':
        return remediesApproved(s, effect.approvedBy, outcome, ctx);
      case 'merge-into':
        return mergeDone(s, effect.into, outcome, ctx);
      case 'adopt-alert-groups':
        return alertGroupsAdopted(s, effect, outcome, ctx);
      default:
        return noStep;
    }
  },

  onClock(s, clockEvent, ctx) {
    s.updatedAtMs = clockEvent.atMs;
    const at = new Date(clockEvent.atMs).toISOString();
    if (clockEvent.kind === 'warned') {
      const dueAt = isoOrNull(s.clocks[clockEvent.clock]?.dueAtMs) ?? '?';
      const message = staffMessage(s, `${clockEvent.clock}-warned`, 'agent', `${clockEvent.clock} deadline approaching`, `The ${clockEvent.clock} deadline is at ${dueAt}.`, clockEvent.atMs);
      return { events: [event('sla.warned', systemActor, ctx, { clock: clockEvent.clock, at }, { staffNotifications: [message] })] };
    }
    // O5/O6: a breach escalates: flagged for monitoring (SlaBreached) and sent to supervisors.
    s.slaBreached = true;
    const message = staffMessage(
      s,
      `${clockEvent.clock}-breached`,
      'supervisor',
      `${clockEvent.clock} deadline BREACHED`,
      `The ${clockEvent.clock} deadline passed at ${at}; the incident is escalated to supervisors.`,
      clockEvent.atMs,
    );
    return { events: [event('sla.breached', systemActor, ctx, { clock: clockEvent.clock, dueAt: at, escalatedTo: 'supervisor' }, { staffNotifications: [message] })] };
  },

  nextWakeAtMs(s) {
    const candidates: number[] = [];
    if (s.status === 'open') {
      // O4: a notice held for want of a scope is published when a scope's count comes back, not by a timer.
      if (s.notice.publishedAtMs === undefined && !noticeHeld(s)) candidates.push(noticeSchedule(s.policy, s.startedAtMs).autoPublishAtMs);
      candidates.push(s.nextUpdateReminderAtMs);
    }
    if (reviewReminderDue(s)) candidates.push(s.review.nextReminderAtMs!);
    return candidates.length ? Math.min(...candidates) : undefined;
  },

  onWake(s, ctx) {
    const steps: Step<IncidentEffect>[] = [];
    // O4: nobody published by start + 2 h − margin: Pledge publishes the draft itself (at once when late).
    if (s.status === 'open' && s.notice.publishedAtMs === undefined && ctx.nowMs >= noticeSchedule(s.policy, s.startedAtMs).autoPublishAtMs) {
      // O4 (told means told): with nobody in scope the notice is held and supervisors asked for a scope.
      steps.push(ruleIsOn(s, incidentRules.toldMeansTold) && nobodyInScope(s) ? holdNotice(s, ctx) : publishNotice(s, systemActor, true, ctx));
    }
    // O5: while open, a reminder to post an update every N hours without one.
    while (s.status === 'open' && ctx.nowMs >= s.nextUpdateReminderAtMs) {
      const at = s.nextUpdateReminderAtMs;
      s.nextUpdateReminderAtMs += s.policy.updateEveryMinutes * 60_000;
      const message = staffMessage(
        s,
        'update-reminder',
        'agent',
        'post an update',
        `No update for ${s.policy.updateEveryMinutes / 60} h: post one (POST /v1/cases/${s.caseId}/actions/post-update).`,
        at,
      );
      steps.push({ events: [event('incident.update-reminder', systemActor, ctx, { at: isoOrNull(at), lastUpdateAt: s.updates.at(-1)?.at ?? null }, { staffNotifications: [message] })] });
    }
    // O6: while the review is pending and not yet due, a reminder every so often; C14 (rule
    // review-reminders-after-breach): after its due time too, to supervisors, until it is submitted.
    const reviewDueAtMs = s.clocks[clockNames.review]?.dueAtMs;
    while (reviewReminderDue(s) && ctx.nowMs >= s.review.nextReminderAtMs!) {
      const at = s.review.nextReminderAtMs!;
      s.review.nextReminderAtMs = at + s.policy.reviewReminderEveryMinutes * 60_000;
      if (reviewDueAtMs !== undefined && at >= reviewDueAtMs) {
        const overdueMinutes = minutesBetween(reviewDueAtMs, at);
        const message = staffMessage(
          s,
          'review-overdue',
          'supervisor',
          'post-incident review OVERDUE',
          `The review was due by ${isoOrNull(reviewDueAtMs)} and is ${formatOverdue(overdueMinutes)} overdue: submit it (submit-review).`,
          at,
        );
        const data = { at: isoOrNull(at), dueAt: isoOrNull(reviewDueAtMs), overdue: true, overdueMinutes, escalatedTo: 'supervisor' };
        steps.push({ events: [event('incident.review-reminder', systemActor, ctx, data, { staffNotifications: [message] })] });
        continue;
      }
      const message = staffMessage(s, 'review-reminder', 'agent', 'post-incident review due', `The review is due by ${isoOrNull(reviewDueAtMs)} (submit-review).`, at);
      steps.push({ events: [event('incident.review-reminder', systemActor, ctx, { at: isoOrNull(at), dueAt: isoOrNull(reviewDueAtMs) }, { staffNotifications: [message] })] });
    }
    return joinSteps(...steps);
  },

  onCalendar(s, calendar, ctx) {
    s.calendar = calendar;
    return { events: rescheduleProvisionalClocks(s.clocks, calendar, s.timeZone, s.policy.warnAtFraction, ctx) };
  },

  view(s) {
    const deadlines = clockViews(s.clocks);
    const pending = deadlines.filter((deadline) => deadline.state === 'pending' || deadline.state === 'paused');
    const schedule = noticeSchedule(s.policy, s.startedAtMs);
    const published = noticeOut(s);
    const { publishedAtMs } = s.notice;
    return {
      caseId: s.caseId,
      workflowId: s.workflowId,
      type: 'incident',
      status: s.status,
      priority: s.severity,
      customerId: null,
      summary: s.title,
      openedAt: new Date(s.openedAtMs).toISOString(),
      updatedAt: new Date(s.updatedAtMs).toISOString(),
      slaBreached: s.slaBreached,
      deadlines,
      nextStep: incidentNextStep(s.status, published, s.notice.heldAtMs !== undefined),
      expectedCompletionAt:
        pending
          .map((deadline) => deadline.dueAt)
          .sort()
          .at(-1) ?? null,
      allowedActions: allowedActions(incidentActions, s.status).filter((action) => !(published && (action === 'publish-notice' || action === 'edit-notice'))),
      details: {
        source: s.source,
        dedupKey: s.dedupKey,
        description: s.description,
        startedAt: s.startedAt,
        endedAt: isoOrNull(s.endedAtMs),
        outageMinutes: s.endedAtMs === undefined ? null : minutesBetween(outageStartMs(s), s.endedAtMs),
        severitySource: s.severitySource,
        scope: s.scope,
        scopeSource: s.scopeSource,
        affectedCount: s.affected.count,
        affectedQuery: s.affected.query,
        alerts: alertCounts(s),
        unchangedAlertBatches: s.unchangedBatches,
        notice: {
          message: s.notice.message,
          dueAt: isoOrNull(schedule.dueAtMs),
          autoPublishAt: isoOrNull(schedule.autoPublishAtMs),
          publishedAt: isoOrNull(publishedAtMs),
          publishedBy: s.notice.publishedBy ?? null,
          auto: s.notice.auto ?? null,
          late: publishedAtMs === undefined ? null : publishedAtMs > schedule.dueAtMs,
          latenessMinutes: publishedAtMs === undefined ? null : Math.max(0, minutesBetween(schedule.dueAtMs, publishedAtMs)),
          supersededByRecovery: s.notice.supersededByRecovery ?? false,
        },
        updates: s.updates,
        nextUpdateReminderAt: s.status === 'open' ? isoOrNull(s.nextUpdateReminderAtMs) : null,
        resolution: s.resolution ?? null,
        recovery: s.recovery,
        review: {
          dueAt: isoOrNull(s.clocks[clockNames.review]?.dueAtMs),
          submittedAt: isoOrNull(s.review.submittedAtMs),
          summary: s.review.summary ?? null,
          rootCause: s.review.rootCause ?? null,
          followUps: s.review.followUps ?? [],
        },
        policyVersion: s.policy.version,
        compensationPolicyVersion: s.compensation.version,
        fanouts: s.fanouts,
        fanoutFailures: s.fanoutFailures,
        dismissal: s.dismissal ? { reason: s.dismissal.reason, by: s.dismissal.by, at: new Date(s.dismissal.atMs).toISOString(), correction: s.dismissal.correction } : null,
        mergedInto: s.mergedInto
          ? { caseId: s.mergedInto.caseId, reason: s.mergedInto.reason, by: s.mergedInto.by, at: new Date(s.mergedInto.atMs).toISOString(), failed: s.mergedInto.failed ?? false }
          : null,
        mergedFrom: s.mergedFrom ?? [],
      } satisfies IncidentDetails,
    } satisfies CaseState;
  },

  isClosed: (s) => s.status === 'closed',
};

export function incidentOutcome(s: IncidentState): IncidentOutcome {
  return {
    caseId: s.caseId,
    status: s.status,
    slaBreached: s.slaBreached,
    outageMinutes: s.endedAtMs === undefined ? null : minutesBetween(outageStartMs(s), s.endedAtMs),
    remediesPaid: s.recovery.remediesPaid,
  };
}

const noticeOut = (s: IncidentState) => s.notice.publishedAtMs !== undefined || s.notice.supersededByRecovery === true;

/**
 * O4: whether a notice published now would reach nobody: no scope, or nobody in it by a count of
 * this very scope. A count still on its way (an action's validator can run before the scope's
 * count comes back) or one that failed is no proof of nobody.
 */
const nobodyInScope = (s: IncidentState) => scopeIsEmpty(s.scope) || (s.affected.count === 0 && s.affected.query === describeScopeQuery(affectedScopes(s)));

/** O4 (rule o4-told-means-told): the auto-publish fell due with nobody to tell; it waits for a scope. */
const noticeHeld = (s: IncidentState) => ruleIsOn(s, incidentRules.toldMeansTold) && s.notice.heldAtMs !== undefined && nobodyInScope(s);

/** O6 reminders before the review's due time; C14 (rule review-reminders-after-breach) after it too. */
function reviewReminderDue(s: IncidentState): boolean {
  const dueAtMs = s.clocks[clockNames.review]?.dueAtMs;
  if (s.status !== 'resolved' || s.review.nextReminderAtMs === undefined || dueAtMs === undefined) return false;
  return ruleIsOn(s, incidentRules.reviewRemindersAfterBreach) || s.review.nextReminderAtMs < dueAtMs;
}

/** "2 d 4 h", "45 min": how long a deadline has passed, for staff. */
function formatOverdue(minutes: number): string {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  return [days ? `${days} d` : '', hours ? `${hours} h` : '', rest || (!days && !hours) ? `${rest} min` : ''].filter(Boolean).join(' ');
}

function alertCounts(s: IncidentState) {
  const all = Object.values(s.alerts);
  return { total: all.length, firing: all.filter((alert) => alert.status === 'firing').length, resolved: all.filter((alert) => alert.status === 'resolved').length };
}

function affectedScopes(s: IncidentState): IncidentScope[] {
  const all = [...s.noticedScopes, s.scope];
  return all.filter((candidate, index) => !scopeIsEmpty(candidate) && all.findIndex((other) => sameScope(other, candidate)) === index);
}

/** O2/P5: when the outage began: the incident's own start, or an earlier one of an incident merged into it. */
const outageStartMs = (s: IncidentState) => s.outageStartedAtMs ?? s.startedAtMs;
const outageStartIso = (s: IncidentState) => (s.outageStartedAtMs === undefined ? s.startedAt : new Date(s.outageStartedAtMs).toISOString());

function outageRecord(s: IncidentState): OutageRecord {
  const reach = affectedScopes(s).reduce(mergeScopes, emptyScope);
  const startedAt = outageStartIso(s);
  // O9: a dismissed false alarm took nothing down: a zero-length interval counts no downtime. An
  // incident merged into another counts none either: the target's record holds the joined outage
  // (unless the target could not be told: then its outage ran until the merge closed it).
  let endedAt = isoOrNull(s.endedAtMs);
  if (s.dismissal || (s.mergedInto && !s.mergedInto.failed)) endedAt = startedAt;
  else if (s.mergedInto) endedAt = new Date(s.mergedInto.atMs).toISOString();
  return { caseId: s.caseId, title: s.title, severity: s.severity, services: reach.services, regions: reach.regions, startedAt, endedAt };
}

/** P4: the remedies that waited are paid (or the approval failed, and it stays to be done). */
function remediesApproved(s: IncidentState, approvedBy: string, outcome: EffectOutcome, ctx: CaseContext): Step<IncidentEffect> {
  if (!outcome.ok) return { events: [event('incident.remedies-approval-failed', systemActor, ctx, { approvedBy, error: outcome.message.slice(0, 1000) })] };
  const paid = outcome.result as { paid: number; amountCents: number };
  s.recovery = {
    ...s.recovery,
    remediesPaid: s.recovery.remediesPaid + paid.paid,
    remedyAmountCents: s.recovery.remedyAmountCents + paid.amountCents,
    remediesPending: 0,
    remedyPendingAmountCents: 0,
  };
  return { events: [event('incident.remedies-approved', systemActor, ctx, { approvedBy, paid: paid.paid, amountCents: paid.amountCents, compensationPolicyVersion: s.compensation.version })] };
}

function queueFanout(s: IncidentState, kind: FanoutKind, keyPrefix: string, message?: string): IncidentEffect {
  const base: IncidentMessage = { title: s.title, startedAt: outageStartIso(s), ...(message === undefined ? {} : { message }) };
  const recoveryFields = kind === 'recovery' && s.endedAtMs !== undefined ? { endedAt: new Date(s.endedAtMs).toISOString(), outageMinutes: minutesBetween(outageStartMs(s), s.endedAtMs) } : {};
  // O2/P5: customers an absorbed incident already told of this outage are not sent its notice again.
  const skip = kind === 'outage-notice' && s.alsoNotifiedUnder?.length ? { skipNotifiedUnder: [...s.alsoNotifiedUnder] } : {};
  const approval = kind === 'recovery' && ruleIsOn(s, incidentRules.remedyApproval) ? { approvalThresholdCents: claimTerms(s.compensation).approvalThresholdCents } : {};
  return { kind: 'fanout', request: { number: ++s.fanoutsQueued, kind, keyPrefix, scopes: affectedScopes(s), message: { ...base, ...recoveryFields }, ...skip, ...approval } };
}

function staffMessage(s: IncidentState, kind: string, role: 'agent' | 'supervisor', subject: string, body: string, atMs: number): StaffNotificationRequest {
  return {
    idempotencyKey: `${s.workflowId}:staff:${kind}:${atMs}`,
    role,
    kind,
    subject: `${s.caseId} · ${subject}`,
    body: `${s.title}\n\n${body}`,
    occurredAt: new Date(atMs).toISOString(),
    // Outages do not wait for working hours.
    deliverAfter: new Date(atMs).toISOString(),
  };
}

function classify(s: IncidentState, next: Severity, source: 'staff' | 'labels', actor: Actor, reason: string | null, ctx: CaseContext): Step<IncidentEffect> {
  if (source === 'labels' && s.severitySource === 'staff') return noStep;
  const previous = s.severity;
  s.severity = next;
  s.severitySource = source;
  if (previous === next && source === 'labels') return noStep;
  return { events: [event('incident.classified', actor, ctx, { severity: next, previous, source, reason })], effects: [{ kind: 'record-outage', outage: outageRecord(s) }] };
}

/** A new scope: its affected count comes back through `onEffectDone`, which records `incident.scope-set`. */
function changeScope(s: IncidentState, next: IncidentScope, source: 'staff' | 'labels', actor: Actor): Step<IncidentEffect> {
  if (source === 'labels' && s.scopeSource === 'staff') return noStep;
  if (sameScope(next, s.scope) && source === s.scopeSource) return noStep;
  s.scope = next;
  s.scopeSource = source;
  return { events: [], effects: [{ kind: 'count-affected', scopes: affectedScopes(s), actor, source }] };
}

/** O4: the notice goes to every affected user; after the deadline it is recorded late, with its lateness. */
function publishNotice(s: IncidentState, actor: Actor, auto: boolean, ctx: CaseContext): Step<IncidentEffect> {
  if (s.notice.publishedAtMs !== undefined) return noStep;
  const schedule = noticeSchedule(s.policy, s.startedAtMs);
  s.notice = { ...s.notice, publishedAtMs: ctx.nowMs, publishedBy: actor.id, auto };
  meetClock(s.clocks[clockNames.notice]!, ctx.nowMs);
  s.noticedScopes.push(s.scope);
  const late = ctx.nowMs > schedule.dueAtMs;
  const published = event('incident.notice-published', actor, ctx, {
    auto,
    message: s.notice.message,
    dueAt: isoOrNull(schedule.dueAtMs),
    late,
    latenessMinutes: late ? minutesBetween(schedule.dueAtMs, ctx.nowMs) : 0,
    alertDelayMinutes: minutesBetween(s.startedAtMs, s.openedAtMs),
    affectedCount: s.affected.count,
    query: s.affected.query,
  });
  const met = event('sla.met', systemActor, ctx, { clock: clockNames.notice, late });
  return { events: [published, met], effects: [queueFanout(s, 'outage-notice', `${s.workflowId}:notice`, s.notice.message)] };
}

/**
 * O4 (rule o4-told-means-told): the auto-publish fell due but nobody is in scope. The notice stays
 * unpublished and its clock keeps running (it breaches at the deadline); supervisors are asked,
 * once, to set the scope. The scope's count publishes it (`publishHeldNotice`).
 */
function holdNotice(s: IncidentState, ctx: CaseContext): Step<IncidentEffect> {
  if (s.notice.heldAtMs !== undefined) return noStep;
  s.notice.heldAtMs = ctx.nowMs;
  const schedule = noticeSchedule(s.policy, s.startedAtMs);
  const why = scopeIsEmpty(s.scope) ? 'the incident has no scope' : `nobody is in its scope (${s.affected.query})`;
  const message = staffMessage(
    s,
    'notice-held',
    'supervisor',
    'outage notice reaches nobody: set the scope',
    `The outage notice was due to be published now, but ${why}, so nobody would be told. Set the affected services and regions ` +
      `(POST /v1/cases/${s.caseId}/actions/set-scope): the notice goes out at once. It is due by ${isoOrNull(schedule.dueAtMs)}.`,
    ctx.nowMs,
  );
  const held = event(
    'incident.notice-held',
    systemActor,
    ctx,
    {
      reason: scopeIsEmpty(s.scope) ? 'empty-scope' : 'nobody-in-scope',
      scope: s.scope,
      affectedCount: s.affected.count,
      query: s.affected.query,
      dueAt: isoOrNull(schedule.dueAtMs),
      escalatedTo: 'supervisor',
    },
    { staffNotifications: [message] },
  );
  return { events: [held] };
}

/** O4 (rule o4-told-means-told): a scope with users arrived after the auto-publish fell due: the notice goes out at once. */
function publishHeldNotice(s: IncidentState, ctx: CaseContext): Step<IncidentEffect> {
  if (!ruleIsOn(s, incidentRules.toldMeansTold) || s.status !== 'open' || s.notice.publishedAtMs !== undefined || nobodyInScope(s)) return noStep;
  if (ctx.nowMs < noticeSchedule(s.policy, s.startedAtMs).autoPublishAtMs) return noStep;
  return publishNotice(s, systemActor, true, ctx);
}

/**
 * O2/P5: a supervisor closes a false alarm. No recovery notice and no remedies; the clocks still
 * running are cancelled; the alert group is released (its next alert opens a new incident) and the
 * outage recorded as zero-length (O9). Users already told something (a notice or an update) get a
 * correction, to the same scopes.
 */
function dismiss(s: IncidentState, actor: Actor, reason: string, message: string | undefined, ctx: CaseContext): Step<IncidentEffect> {
  // Only notices and updates fan out while an incident is open: any fan-out queued told users something
  // (and so did an incident merged into this one that told anyone: O2/P5).
  const usersTold = s.fanoutsQueued > 0 || (s.alsoNotifiedUnder?.length ?? 0) > 0;
  s.status = 'closed';
  s.dismissal = { reason, by: actor.id, atMs: ctx.nowMs, correction: usersTold };
  const cancelled = Object.values(s.clocks)
    .filter(cancelClock)
    .map((clock) => clock.name);
  const events: StepEvent[] = [
    event('incident.dismissed', actor, ctx, {
      reason,
      noticePublishedAt: isoOrNull(s.notice.publishedAtMs),
      usersTold,
      correction: usersTold ? { scopes: affectedScopes(s), message: message ?? null } : null,
      cancelledClocks: cancelled,
    }),
  ];
  if (cancelled.length > 0) events.push(event('sla.cancelled', systemActor, ctx, { clocks: cancelled, outcome: 'dismissed' }));
  events.push(event('incident.closed', systemActor, ctx, { via: 'dismiss' }));
  const knownAlerts = Object.values(s.alerts).map((alert) => ({ fingerprint: alert.fingerprint, startsAt: alert.startsAt }));
  const effects: IncidentEffect[] = [
    { kind: 'close-alert-group', closedAt: new Date(ctx.nowMs).toISOString(), dedupKey: s.dedupKey, knownAlerts },
    { kind: 'record-outage', outage: outageRecord(s) },
  ];
  if (usersTold) effects.push(queueFanout(s, 'correction', `${s.workflowId}:correction`, message ?? ''));
  return { events, effects };
}

/**
 * O2/P5: a supervisor merges this incident into another open one (one outage, one incident). This
 * one closes: its clocks are cancelled and it never resolves, so it sends no recovery notice and
 * pays no remedy. The target is told what this one knows (alerts, scope, the scopes already told,
 * the key prefixes under which users were told) by the `incident-merge` signal, sent after this
 * incident's own fan-outs (background effects run in order), so the target's notice sees who was told.
 * O9: the target's record holds the joined outage; this one's is zero-length.
 */
function mergeInto(s: IncidentState, actor: Actor, into: string, reason: string, ctx: CaseContext): Step<IncidentEffect> {
  const mergedAt = new Date(ctx.nowMs).toISOString();
  s.status = 'closed';
  s.mergedInto = { caseId: into, reason, by: actor.id, atMs: ctx.nowMs };
  const cancelled = Object.values(s.clocks)
    .filter(cancelClock)
    .map((clock) => clock.name);
  // Only notices and updates fan out while an incident is open: keys `<workflowId>:notice:<customer>…`, `<workflowId>:update-<request>:<customer>…`.
  const ownPrefixes = s.fanoutsQueued > 0 ? [`${s.workflowId}:notice:`, `${s.workflowId}:update-`] : [];
  const notifiedUnder = [...new Set([...ownPrefixes, ...(s.alsoNotifiedUnder ?? [])])];
  const merge: IncidentMerge = {
    kind: 'merge',
    fromCaseId: s.caseId,
    fromWorkflowId: s.workflowId,
    title: s.title,
    reason,
    mergedBy: actor,
    mergedAt,
    outageStartedAt: new Date(outageStartMs(s)).toISOString(),
    severity: s.severity,
    alerts: Object.values(s.alerts),
    scope: s.scope,
    noticedScopes: s.noticedScopes,
    notifiedUnder,
    noticePublishedAt: isoOrNull(s.notice.publishedAtMs),
  };
  const events: StepEvent[] = [
    event('incident.merged-into', actor, ctx, {
      into,
      reason,
      alerts: alertCounts(s),
      scope: s.scope,
      noticedScopes: s.noticedScopes,
      notifiedUnder,
      noticePublishedAt: isoOrNull(s.notice.publishedAtMs),
      cancelledClocks: cancelled,
    }),
  ];
  if (cancelled.length > 0) events.push(event('sla.cancelled', systemActor, ctx, { clocks: cancelled, outcome: 'merged' }));
  events.push(event('incident.closed', systemActor, ctx, { via: 'merge', into }));
  return {
    events,
    effects: [
      { kind: 'record-outage', outage: outageRecord(s) },
      { kind: 'merge-into', into, merge },
    ],
  };
}

/** O2/P5: the target could not be told of the merge: recorded, escalated; for good, the alert group is released. */
function mergeDone(s: IncidentState, into: string, outcome: EffectOutcome, ctx: CaseContext): Step<IncidentEffect> {
  s.updatedAtMs = ctx.nowMs;
  if (outcome.ok) return { events: [event('incident.merge-delivered', systemActor, ctx, { into })] };
  const retrying = outcome.retryable && outcome.attempt < fanoutAttempts;
  const error = outcome.message.slice(0, 1000);
  const told = s.fanoutsQueued > 0 || (s.alsoNotifiedUnder?.length ?? 0) > 0;
  const message = staffMessage(
    s,
    `merge-failed-${outcome.attempt}`,
    'supervisor',
    `merge into ${into} FAILED`,
    `${s.caseId} was closed to be merged into ${into}, but ${into} could not be told (attempt ${outcome.attempt}): ${error}. ` +
      (retrying
        ? 'It will be tried again.'
        : `${into} does not have this incident's alerts or scope. ${told ? 'Users of this incident were told of the outage and get no recovery notice or remedy from it. ' : ''}` +
          'Open an incident for the outage (or set the scope of the one that covers it) and tell the users by hand. The alert group is released: its next alert opens a new incident.'),
    ctx.nowMs,
  );
  const failed = event('incident.merge-failed', systemActor, ctx, { into, attempt: outcome.attempt, error, retrying, escalatedTo: 'supervisor' }, { staffNotifications: [message] });
  if (retrying) return { events: [failed] };
  if (s.mergedInto) s.mergedInto.failed = true;
  const knownAlerts = Object.values(s.alerts).map((alert) => ({ fingerprint: alert.fingerprint, startsAt: alert.startsAt }));
  return {
    events: [failed],
    effects: [
      { kind: 'close-alert-group', closedAt: new Date(ctx.nowMs).toISOString(), dedupKey: s.dedupKey, knownAlerts },
      { kind: 'record-outage', outage: outageRecord(s) },
    ],
  };
}

/**
 * O2/P5: another incident was merged into this one. Its alerts join these (by fingerprint|startsAt;
 * resolution wins), the scope widens to the union and becomes staff's (labels no longer narrow it),
 * the scopes it already told are kept (recovery and remedies reach everyone ever in scope, from this
 * incident only, one ledger key per customer), and the key prefixes under which it told users are
 * kept so this incident's notice skips them. Its alert groups become this incident's. A published
 * notice follows the wider scope (the count's `onEffectDone`); an incident already resolved sends
 * its recovery to the newcomers at once. An incident already closed takes nothing and escalates.
 */
function absorb(s: IncidentState, m: IncidentMerge, ctx: CaseContext): Step<IncidentEffect> {
  if (s.mergedFrom?.includes(m.fromCaseId)) return noStep;
  s.updatedAtMs = ctx.nowMs;
  const at = new Date(ctx.nowMs).toISOString();
  const knownAlerts = m.alerts.map((alert) => ({ fingerprint: alert.fingerprint, startsAt: alert.startsAt }));
  const groups: IncidentEffect = { kind: 'adopt-alert-groups', fromCaseId: m.fromCaseId, at, knownAlerts, release: s.status !== 'open' };
  if (s.status === 'closed') {
    const message = staffMessage(
      s,
      `merge-from-${m.fromCaseId}-refused`,
      'supervisor',
      `merge from ${m.fromCaseId} arrived after closing`,
      `${m.fromCaseId} was merged into ${s.caseId}, which had already closed: the users of ${m.fromCaseId} get no recovery notice or remedy from it. Tell them by hand.`,
      ctx.nowMs,
    );
    return { events: [event('incident.merge-refused', m.mergedBy, ctx, { from: m.fromCaseId, status: s.status, escalatedTo: 'supervisor' }, { staffNotifications: [message] })], effects: [groups] };
  }
  s.mergedFrom = [...(s.mergedFrom ?? []), m.fromCaseId];
  let joined = 0;
  for (const alert of m.alerts) {
    const key = `${alert.fingerprint}|${alert.startsAt}`;
    const known = s.alerts[key];
    if (known && (known.status === 'resolved' || alert.status === 'firing')) continue;
    s.alerts[key] = alert;
    joined++;
  }
  const notifiedBefore = s.alsoNotifiedUnder ?? [];
  s.alsoNotifiedUnder = [...notifiedBefore, ...m.notifiedUnder.filter((prefix) => !notifiedBefore.includes(prefix))];
  for (const told of m.noticedScopes) if (!scopeIsEmpty(told) && !s.noticedScopes.some((other) => sameScope(other, told))) s.noticedScopes.push(told);
  const absorbedStartMs = Date.parse(m.outageStartedAt);
  if (absorbedStartMs < outageStartMs(s)) s.outageStartedAtMs = absorbedStartMs;
  const scopeBefore = s.scope;
  s.scope = mergeScopes(s.scope, m.scope);
  s.scopeSource = 'staff';
  const merged = event('incident.merged', m.mergedBy, ctx, {
    from: m.fromCaseId,
    reason: m.reason,
    title: m.title,
    mergedAt: m.mergedAt,
    alerts: m.alerts.length,
    alertsJoined: joined,
    totals: alertCounts(s),
    absorbedScope: m.scope,
    absorbedNoticedScopes: m.noticedScopes,
    absorbedNoticePublishedAt: m.noticePublishedAt,
    notifiedUnder: m.notifiedUnder,
    scopeBefore,
    scope: s.scope,
    outageStartedAt: outageStartIso(s),
  });
  const effects: IncidentEffect[] = [groups, { kind: 'count-affected', scopes: affectedScopes(s), actor: m.mergedBy, source: 'staff' }];
  // Already resolved: its recovery went out; the absorbed incident's users get it now (keys skip those already told).
  if (s.status === 'resolved') effects.push(queueFanout(s, 'recovery', `${s.workflowId}:recovery`));
  const worse = worstSeverity([s.severity, m.severity]);
  const classified = worse && worse !== s.severity ? classify(s, worse, 'staff', m.mergedBy, `merged from ${m.fromCaseId}`, ctx) : noStep;
  return joinSteps({ events: [merged], effects }, classified);
}

/** O2/P5: the absorbed incident's alert groups are this incident's now (or were released): recorded when anything moved. */
function alertGroupsAdopted(s: IncidentState, effect: Extract<IncidentEffect, { kind: 'adopt-alert-groups' }>, outcome: EffectOutcome, ctx: CaseContext): Step<IncidentEffect> {
  if (!outcome.ok) {
    const message = staffMessage(
      s,
      `adopt-alert-groups-${effect.fromCaseId}-failed`,
      'supervisor',
      `alert groups of ${effect.fromCaseId} not moved`,
      `The alert groups of ${effect.fromCaseId} could not be ${effect.release ? 'released' : `moved to ${s.caseId}`}: ${outcome.message.slice(0, 500)}. Their next alerts may not reach ${s.caseId}.`,
      ctx.nowMs,
    );
    return {
      events: [event('incident.alert-groups-failed', systemActor, ctx, { from: effect.fromCaseId, release: effect.release, error: outcome.message.slice(0, 1000) }, { staffNotifications: [message] })],
    };
  }
  const result = outcome.result as { groups: number; alerts: number; released: number };
  if (result.groups + result.alerts + result.released === 0) return noStep;
  return { events: [event(effect.release ? 'incident.alert-groups-released' : 'incident.alert-groups-adopted', systemActor, ctx, { from: effect.fromCaseId, ...result })] };
}

/** O7: the outage is over when every alert of the group has resolved. */
function resolveIfAllAlertsResolved(s: IncidentState, actor: Actor, ctx: CaseContext): Step<IncidentEffect> {
  const all = Object.values(s.alerts);
  if (s.status !== 'open' || all.length === 0 || all.some((alert) => alert.status === 'firing')) return noStep;
  const endedAt = Math.max(...all.map((alert) => Date.parse(alert.endsAt ?? new Date(ctx.nowMs).toISOString())));
  return resolveIncident(s, endedAt, actor, 'every alert of the group resolved', 'alerts', ctx);
}

/** O7/O8: recovery notice and remedy to every affected user; O6: the review clock starts. */
function resolveIncident(s: IncidentState, endedAt: number, actor: Actor, summary: string, via: 'alerts' | 'manual', ctx: CaseContext): Step<IncidentEffect> {
  if (s.status !== 'open') return noStep;
  const now = ctx.nowMs;
  const schedule = noticeSchedule(s.policy, s.startedAtMs);
  s.status = 'resolved';
  s.endedAtMs = Math.min(Math.max(endedAt, s.startedAtMs), now);
  s.resolution = { summary, by: actor.id, via };
  meetClock(s.clocks[clockNames.repair]!, s.endedAtMs);
  const events: StepEvent[] = [];
  if (s.notice.publishedAtMs === undefined) {
    // Restored before the notice went out: the recovery notice tells users of both.
    s.notice.supersededByRecovery = true;
    meetClock(s.clocks[clockNames.notice]!, now);
  }
  const review = workingDaysClock(clockNames.review, {
    policyVersion: s.policy.version,
    startedAtMs: now,
    workingDays: s.policy.reviewWithinWorkingDays,
    warnAtFraction: s.policy.warnAtFraction,
    calendar: s.calendar,
    timeZone: s.timeZone,
  });
  s.clocks[clockNames.review] = review;
  s.review.nextReminderAtMs = now + s.policy.reviewReminderEveryMinutes * 60_000;
  events.push(
    event('incident.resolved', actor, ctx, {
      via,
      summary,
      endedAt: isoOrNull(s.endedAtMs),
      outageMinutes: minutesBetween(outageStartMs(s), s.endedAtMs),
      affectedCount: s.affected.count,
      compensationPolicyVersion: s.compensation.version,
      reviewDueAt: isoOrNull(review.dueAtMs),
      reviewDueProvisional: review.provisional ?? false,
    }),
  );
  if (s.notice.supersededByRecovery) events.push(event('sla.met', systemActor, ctx, { clock: clockNames.notice, late: now > schedule.dueAtMs, byRecoveryNotice: true }));
  const knownAlerts = Object.values(s.alerts).map((alert) => ({ fingerprint: alert.fingerprint, startsAt: alert.startsAt }));
  return {
    events,
    effects: [
      { kind: 'close-alert-group', closedAt: new Date(now).toISOString(), dedupKey: s.dedupKey, knownAlerts },
      { kind: 'record-outage', outage: outageRecord(s) },
      queueFanout(s, 'recovery', `${s.workflowId}:recovery`),
    ],
  };
}

/** A fan-out finished or failed: totals recorded; a failure is escalated and (if it may help) retried. */
function fanoutDone(s: IncidentState, request: FanoutRequest, outcome: EffectOutcome, ctx: CaseContext): Step<IncidentEffect> {
  s.updatedAtMs = ctx.nowMs;
  if (!outcome.ok) {
    const retrying = outcome.retryable && outcome.attempt < fanoutAttempts;
    s.fanoutFailures = [...s.fanoutFailures, { number: request.number, kind: request.kind, attempt: outcome.attempt, error: outcome.message.slice(0, 500), retrying }].slice(-keptEntries);
    const message = staffMessage(
      s,
      `fanout-${request.number}-failed-${outcome.attempt}`,
      'supervisor',
      `${request.kind} fan-out failed`,
      `Fan-out ${request.number} (${request.kind}) failed on attempt ${outcome.attempt}: ${outcome.message.slice(0, 500)}. ${retrying ? 'It will be retried.' : 'It is not retried: fix the cause and tell the affected users by hand.'}`,
      ctx.nowMs,
    );
    return {
      events: [
        event(
          'incident.fanout-failed',
          systemActor,
          ctx,
          { number: request.number, kind: request.kind, attempt: outcome.attempt, error: outcome.message.slice(0, 1000), retrying },
          { staffNotifications: [message] },
        ),
      ],
    };
  }
  const totals = outcome.result as FanoutTotals;
  s.fanouts = [...s.fanouts, { kind: request.kind, ...pickTotals(totals) }].slice(-keptEntries);
  if (request.kind === 'recovery') {
    s.recovery = {
      customers: s.recovery.customers + totals.customers,
      notificationsQueued: s.recovery.notificationsQueued + totals.notificationsQueued,
      remediesPaid: s.recovery.remediesPaid + totals.remediesPaid,
      remedyAmountCents: s.recovery.remedyAmountCents + totals.remedyAmountCents,
      completedAt: new Date(ctx.nowMs).toISOString(),
      ...(totals.remediesPending === undefined
        ? {}
        : {
            remediesPending: (s.recovery.remediesPending ?? 0) + totals.remediesPending,
            remedyPendingAmountCents: (s.recovery.remedyPendingAmountCents ?? 0) + (totals.remedyPendingAmountCents ?? 0),
          }),
    };
  }
  const data = {
    kind: request.kind,
    customers: totals.customers,
    notificationsQueued: totals.notificationsQueued,
    remediesPaid: totals.remediesPaid,
    remedyAmountCents: totals.remedyAmountCents,
    ...(totals.remediesPending === undefined ? {} : { remediesPending: totals.remediesPending, remedyPendingAmountCents: totals.remedyPendingAmountCents ?? 0 }),
    ...(request.kind === 'recovery' ? { compensationPolicyVersion: s.compensation.version } : {}),
    pages: totals.pages,
    runs: totals.runs,
    durationMs: totals.durationMs,
  };
  return { events: [event(request.kind === 'recovery' ? 'incident.recovery-delivered' : 'incident.fanout-delivered', systemActor, ctx, data)] };
}

/** A failed fan-out is tried this many times in all (each failure recorded and escalated). */
export const fanoutAttempts = 3;

function pickTotals(totals: FanoutTotals): FanoutTotals {
  const { customers, notificationsQueued, remediesPaid, remedyAmountCents, pages, runs, durationMs, maxRunHistoryLength } = totals;
  return { customers, notificationsQueued, remediesPaid, remedyAmountCents, pages, runs, durationMs, maxRunHistoryLength };
}
