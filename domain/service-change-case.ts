import { systemActor, type Actor } from './actors';
import { allowedActions } from './case-actions';
import { clockStartedEvent, clockViews, isoOrNull, meetClocks, minutesClock } from './case-clocks';
import { event, joinSteps, noStep, type CaseContext, type CaseDefinition, type CaseStateBase, type EffectOutcome, type Step } from './case-definition';
import type { CaseState } from './case-state';
import type { CompensationPolicy } from './compensation-policy';
import { defaultSeverity, type IncidentScope, type Severity } from './incident';
import type { IncidentPolicy } from './incident-policy';
import type { StaffNotificationRequest, StepEvent } from './messages';
import {
  checkNoticePeriod,
  earliestEffectiveAtMs,
  reminderDueAtMs,
  serviceChangeActions,
  serviceChangeNextStep,
  shiftedWindow,
  type ChangeFanout,
  type ChangeFanoutTotals,
  type ChangeMessageKind,
  type ChangeType,
  type ServiceChangeAction,
  type ServiceChangeDetails,
  type ServiceChangePolicy,
  type ServiceChangeStatus,
} from './service-change';
import { cancelClock, type ClockEvent } from './sla-clock';
import type { WorkingCalendar } from './working-calendar';

export interface ServiceChangeInput {
  caseId: string;
  changeType: ChangeType;
  title: string;
  whatChanges: string;
  impact: { services: string[]; regions: string[]; downtime: { startsAt: string; endsAt: string } | null };
  userAction: string;
  contacts: string;
  appealChannel: string;
  effectiveAt: string;
  /** N1: set only when the API let a supervisor's emergency through. */
  emergency: { justification: string } | null;
  openedBy: Actor;
  /** Pinned at intake (N1 notice period, N2 reminder). */
  policy: ServiceChangePolicy;
  /** Pinned at intake for the incident an overrunning change opens (O-rules from the window's end). */
  incidentTerms: { policy: IncidentPolicy; compensation: CompensationPolicy };
  timeZone: string;
  calendar: WorkingCalendar;
}

export interface ServiceChangeOutcome {
  caseId: string;
  status: ServiceChangeStatus;
  incidentId: string | null;
}

/** What the incident opened by an overrun starts with: the change's scope, from the window's end. */
export interface OverrunIncident {
  title: string;
  description: string;
  startedAt: string;
  scope: IncidentScope;
  severity: Severity;
}

/** The I/O a change asks of the runtime: fan-outs to its users, and an incident when it overruns. */
export type ServiceChangeEffect = { kind: 'fanout'; fanout: ChangeFanout; recipientsKey: string } | { kind: 'open-incident'; incident: OverrunIncident };

interface Window {
  startsAtMs: number;
  endsAtMs: number;
}

export interface ServiceChangeState extends CaseStateBase {
  changeType: ChangeType;
  title: string;
  whatChanges: string;
  scope: IncidentScope;
  downtime: Window | null;
  userAction: string;
  contacts: string;
  appealChannel: string;
  effectiveAtMs: number;
  policy: ServiceChangePolicy;
  status: ServiceChangeStatus;
  openedAtMs: number;
  notice: { sentAtMs: number; leadMinutes: number; short: boolean; customers: number | null };
  /** N1: every time the notice period was cut short, and why. */
  emergencies: { atMs: number; by: string; justification: string; leadMinutes: number; on: 'intake' | 'reschedule' }[];
  /** N2: the reminder of the current schedule; `revision` counts reschedules (its notification keys). */
  reminder: { dueAtMs: number | null; sentAtMs: number | null; missed: boolean };
  revision: number;
  reschedules: { atMs: number; by: string; fromMs: number; toMs: number; reason: string }[];
  completion: { atMs: number; by: string; summary: string; auto: boolean } | null;
  cancellation: { atMs: number; by: string; reason: string } | null;
  overrun: { atMs: number; windowEndedAtMs: number; incidentId: string | null; error: string | null } | null;
  incidentTerms: ServiceChangeInput['incidentTerms'];
  fanoutsQueued: number;
  fanouts: ({ number: number; kind: ChangeMessageKind; atMs: number } & ChangeFanoutTotals)[];
  fanoutFailures: { number: number; kind: ChangeMessageKind; attempt: number; error: string; retrying: boolean }[];
}

const windowClock = 'window';
const keptEntries = 20;
/** A failed fan-out is tried this many times in all (each failure recorded and escalated). */
export const changeFanoutAttempts = 3;

/**
 * A planned service change (N1–N3): announced at once to every affected user at least 48 hours
 * ahead (or as a supervisor's emergency), reminded 24 hours before, in progress at its effective
 * time, done when staff complete it inside its downtime window; a window that ends first makes the
 * outage an incident, its O-rules counting from the window's end.
 */
export const serviceChangeCase: CaseDefinition<ServiceChangeInput & { workflowId: string }, ServiceChangeState, ServiceChangeEffect, never, ServiceChangeAction> = {
  type: 'service-change',
  actions: serviceChangeActions,

  open(input, ctx) {
    const effectiveAtMs = Date.parse(input.effectiveAt);
    const downtime = input.impact.downtime ? { startsAtMs: Date.parse(input.impact.downtime.startsAt), endsAtMs: Date.parse(input.impact.downtime.endsAt) } : null;
    const leadMinutes = Math.floor((effectiveAtMs - ctx.nowMs) / 60_000);
    const s: ServiceChangeState = {
      caseId: input.caseId,
      workflowId: input.workflowId,
      clocks: {},
      calendar: input.calendar,
      timeZone: input.timeZone,
      updatedAtMs: ctx.nowMs,
      changeType: input.changeType,
      title: input.title,
      whatChanges: input.whatChanges,
      scope: { services: input.impact.services, regions: input.impact.regions },
      downtime,
      userAction: input.userAction,
      contacts: input.contacts,
      appealChannel: input.appealChannel,
      effectiveAtMs,
      policy: input.policy,
      status: 'scheduled',
      openedAtMs: ctx.nowMs,
      // The API checked N1 when it accepted the request; the notice goes out now, a moment later.
      // Short by a minute or more (the workflow started late) is recorded and escalated, never hidden.
      notice: { sentAtMs: ctx.nowMs, leadMinutes, short: input.emergency === null && ctx.nowMs + input.policy.noticeHours * 3_600_000 - effectiveAtMs >= 60_000, customers: null },
      emergencies: [],
      reminder: { dueAtMs: reminderDueAtMs(effectiveAtMs, ctx.nowMs, input.policy), sentAtMs: null, missed: false },
      revision: 0,
      reschedules: [],
      completion: null,
      cancellation: null,
      overrun: null,
      incidentTerms: input.incidentTerms,
      fanoutsQueued: 0,
      fanouts: [],
      fanoutFailures: [],
    };
    const events: StepEvent[] = [
      event('change.opened', input.openedBy, ctx, {
        changeType: input.changeType,
        title: input.title,
        whatChanges: input.whatChanges,
        impact: input.impact,
        userAction: input.userAction,
        contacts: input.contacts,
        appealChannel: input.appealChannel,
        effectiveAt: input.effectiveAt,
        noticeAt: new Date(ctx.nowMs).toISOString(),
        leadMinutes,
        earliestAllowedAt: iso(earliestEffectiveAtMs(ctx.nowMs, input.policy)),
        reminderDueAt: isoOrNull(s.reminder.dueAtMs),
        policyVersion: input.policy.version,
      }),
    ];
    if (input.emergency) events.push(emergencyEvent(s, input.openedBy, input.emergency.justification, leadMinutes, 'intake', ctx));
    else if (s.notice.short) events.push(shortNoticeEvent(s, ctx));
    if (downtime) {
      s.clocks[windowClock] = startWindowClock(s, downtime);
      events.push(clockStartedEvent(s.clocks[windowClock], ctx));
    }
    return { state: s, events, effects: [fanout(s, 'notice', input.emergency ? 'change.emergency' : 'change.notice', `${s.workflowId}:notice`, noticeParams(s, input.emergency))] };
  },

  refine(s, request, checked, ctx) {
    if (!checked.ok || request.action !== 'reschedule') return checked;
    const input = checked.input as Extract<ServiceChangeAction, { action: 'reschedule' }>['input'];
    const effectiveAtMs = Date.parse(input.effectiveAt);
    const check = checkNoticePeriod({
      effectiveAtMs,
      noticeAtMs: ctx.nowMs,
      policy: s.policy,
      emergency: input.emergency,
      role: request.actor.role,
      field: 'input.effectiveAt',
      emergencyField: 'input.emergency',
    });
    if (!check.ok) {
      return check.kind === 'forbidden'
        ? { ok: false, kind: 'forbidden', message: check.message }
        : { ok: false, kind: 'invalid-input', message: "invalid input for 'reschedule'", fields: [{ field: check.field, message: check.message }] };
    }
    const window = newWindow(s, input.downtime, effectiveAtMs);
    if (window && window.startsAtMs < effectiveAtMs) {
      const field = input.downtime ? 'input.downtime.startsAt' : 'input.downtime';
      return { ok: false, kind: 'invalid-input', message: "invalid input for 'reschedule'", fields: [{ field, message: 'the downtime cannot start before the change takes effect (effectiveAt)' }] };
    }
    return checked;
  },

  decide(s, request, ctx) {
    const { actor } = request;
    s.updatedAtMs = ctx.nowMs;
    switch (request.action) {
      case 'reschedule':
        return reschedule(s, actor, request.input, ctx);
      case 'cancel': {
        s.status = 'cancelled';
        s.cancellation = { atMs: ctx.nowMs, by: actor.id, reason: request.input.reason };
        const cancelled = event('change.cancelled', actor, ctx, { reason: request.input.reason, effectiveAt: isoOrNull(s.effectiveAtMs) });
        const params = { caseId: s.caseId, title: s.title, reason: request.input.reason, contacts: s.contacts };
        return { events: [cancelled, ...cancelClocks(s, ctx)], effects: [fanout(s, 'cancelled', 'change.cancelled', `${s.workflowId}:cancelled`, params, { effectiveAt: iso(s.effectiveAtMs) })] };
      }
      case 'complete':
        return complete(s, actor, request.input.summary, false, ctx);
      case 'note':
        return { events: [event('change.note', actor, ctx, { text: request.input.text })] };
    }
  },

  onClock(s, clockEvent, ctx) {
    s.updatedAtMs = clockEvent.atMs;
    if (clockEvent.kind === 'warned') {
      const message = staffMessage(
        s,
        'window-warned',
        'agent',
        'downtime window ending',
        `The downtime window of ${s.caseId} ends at ${iso(s.downtime?.endsAtMs ?? clockEvent.atMs)}: complete the change (complete) before then, or it becomes an incident.`,
        clockEvent.atMs,
      );
      return { events: [event('sla.warned', systemActor, ctx, { clock: clockEvent.clock, at: iso(clockEvent.atMs) }, { staffNotifications: [message] })] };
    }
    return overran(s, clockEvent, ctx);
  },

  nextWakeAtMs(s) {
    if (s.status !== 'scheduled') return undefined;
    const reminderPending = s.reminder.dueAtMs !== null && s.reminder.sentAtMs === null && !s.reminder.missed;
    return reminderPending ? Math.min(s.reminder.dueAtMs!, s.effectiveAtMs) : s.effectiveAtMs;
  },

  onWake(s, ctx) {
    if (s.status !== 'scheduled') return noStep;
    const steps: Step<ServiceChangeEffect>[] = [];
    const { reminder } = s;
    // N2: the reminder the day before; one that falls due only after the change started (the worker was away) is recorded as missed.
    if (reminder.dueAtMs !== null && reminder.sentAtMs === null && !reminder.missed && ctx.nowMs >= reminder.dueAtMs) {
      s.updatedAtMs = ctx.nowMs;
      if (ctx.nowMs < s.effectiveAtMs) {
        reminder.sentAtMs = ctx.nowMs;
        const sent = event('change.reminder-sent', systemActor, ctx, { dueAt: iso(reminder.dueAtMs), effectiveAt: iso(s.effectiveAtMs), revision: s.revision });
        steps.push({ events: [sent], effects: [fanout(s, 'reminder', 'change.reminder', `${s.workflowId}:reminder-${s.revision}`, noticeParams(s, null))] });
      } else {
        reminder.missed = true;
        steps.push({ events: [event('change.reminder-missed', systemActor, ctx, { dueAt: iso(reminder.dueAtMs), effectiveAt: iso(s.effectiveAtMs) })] });
      }
    }
    if (ctx.nowMs >= s.effectiveAtMs) {
      s.updatedAtMs = ctx.nowMs;
      if (s.downtime) {
        s.status = 'in-progress';
        steps.push({ events: [event('change.started', systemActor, ctx, { effectiveAt: iso(s.effectiveAtMs), downtimeEndsAt: iso(s.downtime.endsAtMs) })] });
      } else {
        // No downtime (a tariff or terms change): it is done when it takes effect.
        steps.push(complete(s, systemActor, '', true, ctx));
      }
    }
    return joinSteps(...steps);
  },

  onEffectDone(s, effect, outcome, ctx) {
    s.updatedAtMs = ctx.nowMs;
    if (effect.kind === 'open-incident') return incidentOpened(s, effect.incident, outcome, ctx);
    return fanoutDone(s, effect.fanout, outcome, ctx);
  },

  view(s) {
    const downtime = s.downtime;
    const details: ServiceChangeDetails = {
      kind: 'change',
      changeType: s.changeType,
      title: s.title,
      whatChanges: s.whatChanges,
      impact: { services: s.scope.services, regions: s.scope.regions, downtime: downtime ? { startsAt: iso(downtime.startsAtMs), endsAt: iso(downtime.endsAtMs) } : null },
      userAction: s.userAction,
      contacts: s.contacts,
      appealChannel: s.appealChannel,
      effectiveAt: iso(s.effectiveAtMs),
      notice: { sentAt: iso(s.notice.sentAtMs), leadMinutes: s.notice.leadMinutes, short: s.notice.short, customers: s.notice.customers },
      emergency: s.emergencies.length > 0,
      emergencies: s.emergencies.map((entry) => ({ at: iso(entry.atMs), by: entry.by, justification: entry.justification, leadMinutes: entry.leadMinutes, on: entry.on })),
      reminder: { dueAt: isoOrNull(s.reminder.dueAtMs), sentAt: isoOrNull(s.reminder.sentAtMs), missed: s.reminder.missed },
      reschedules: s.reschedules.map((entry) => ({ at: iso(entry.atMs), by: entry.by, from: iso(entry.fromMs), to: iso(entry.toMs), reason: entry.reason })),
      completion: s.completion ? { at: iso(s.completion.atMs), by: s.completion.by, summary: s.completion.summary, auto: s.completion.auto } : null,
      cancellation: s.cancellation ? { at: iso(s.cancellation.atMs), by: s.cancellation.by, reason: s.cancellation.reason } : null,
      overrun: s.overrun ? { at: iso(s.overrun.atMs), windowEndedAt: iso(s.overrun.windowEndedAtMs), incidentId: s.overrun.incidentId, error: s.overrun.error } : null,
      fanouts: s.fanouts.map(({ atMs, ...totals }) => ({ ...totals, at: iso(atMs) })),
      fanoutFailures: s.fanoutFailures,
      policyVersion: s.policy.version,
    };
    return {
      caseId: s.caseId,
      workflowId: s.workflowId,
      type: 'service-change',
      status: s.status,
      priority: null,
      customerId: null,
      summary: s.title,
      openedAt: iso(s.openedAtMs),
      updatedAt: iso(s.updatedAtMs),
      slaBreached: s.clocks[windowClock]?.breachedAtMs !== undefined,
      deadlines: clockViews(s.clocks),
      nextStep: serviceChangeNextStep(s.status, downtime !== null),
      expectedCompletionAt: s.status === 'scheduled' || s.status === 'in-progress' ? iso(downtime?.endsAtMs ?? s.effectiveAtMs) : null,
      allowedActions: allowedActions(serviceChangeActions, s.status),
      // The case details union (domain/case-details.ts) does not list the change yet; its schema is serviceChangeDetailsSchema.
      details: details as unknown as CaseState['details'],
    } satisfies CaseState;
  },

  isClosed: (s) => s.status === 'completed' || s.status === 'cancelled' || s.status === 'overran',
};

export function serviceChangeOutcome(s: ServiceChangeState): ServiceChangeOutcome {
  return { caseId: s.caseId, status: s.status, incidentId: s.overrun?.incidentId ?? null };
}

const iso = (ms: number) => new Date(ms).toISOString();

function startWindowClock(s: ServiceChangeState, window: Window) {
  return minutesClock(windowClock, {
    policyVersion: s.policy.version,
    startedAtMs: window.startsAtMs,
    minutes: (window.endsAtMs - window.startsAtMs) / 60_000,
    warnAtFraction: s.policy.warnAtFraction,
  });
}

/** The window a reschedule asks for: the one given, none, or (left out) the old one moved with the effective time. */
function newWindow(s: ServiceChangeState, downtime: { startsAt: string; endsAt: string } | null | undefined, effectiveAtMs: number): Window | null {
  if (downtime === undefined) return shiftedWindow(s.downtime, effectiveAtMs - s.effectiveAtMs);
  return downtime === null ? null : { startsAtMs: Date.parse(downtime.startsAt), endsAtMs: Date.parse(downtime.endsAt) };
}

/** N1 again from now, N2 moved: the window and the reminder follow the new time; users are told. */
function reschedule(s: ServiceChangeState, actor: Actor, input: Extract<ServiceChangeAction, { action: 'reschedule' }>['input'], ctx: CaseContext): Step<ServiceChangeEffect> {
  const fromMs = s.effectiveAtMs;
  const toMs = Date.parse(input.effectiveAt);
  const check = checkNoticePeriod({
    effectiveAtMs: toMs,
    noticeAtMs: ctx.nowMs,
    policy: s.policy,
    emergency: input.emergency,
    role: actor.role,
    field: 'input.effectiveAt',
    emergencyField: 'input.emergency',
  });
  const emergency = check.ok ? check.emergency : null;
  const leadMinutes = Math.floor((toMs - ctx.nowMs) / 60_000);
  s.downtime = newWindow(s, input.downtime, toMs);
  s.effectiveAtMs = toMs;
  s.revision++;
  s.reminder = { dueAtMs: reminderDueAtMs(toMs, ctx.nowMs, s.policy), sentAtMs: null, missed: false };
  s.reschedules = [...s.reschedules, { atMs: ctx.nowMs, by: actor.id, fromMs, toMs, reason: input.reason }].slice(-keptEntries);
  const events: StepEvent[] = [
    event('change.rescheduled', actor, ctx, {
      from: iso(fromMs),
      to: iso(toMs),
      downtime: s.downtime ? { startsAt: iso(s.downtime.startsAtMs), endsAt: iso(s.downtime.endsAtMs) } : null,
      reason: input.reason,
      leadMinutes,
      reminderDueAt: isoOrNull(s.reminder.dueAtMs),
      revision: s.revision,
    }),
  ];
  if (emergency) events.push(emergencyEvent(s, actor, emergency.justification, leadMinutes, 'reschedule', ctx));
  const previous = s.clocks[windowClock];
  if (previous && cancelClock(previous)) events.push(event('sla.cancelled', systemActor, ctx, { clocks: [windowClock], outcome: 'rescheduled' }));
  delete s.clocks[windowClock];
  if (s.downtime) {
    s.clocks[windowClock] = startWindowClock(s, s.downtime);
    events.push(clockStartedEvent(s.clocks[windowClock], ctx));
  }
  const params = { ...noticeParams(s, emergency), reason: input.reason };
  return {
    events,
    effects: [fanout(s, 'rescheduled', emergency ? 'change.emergency' : 'change.rescheduled', `${s.workflowId}:rescheduled-${s.revision}`, params, { previousEffectiveAt: iso(fromMs) })],
  };
}

function complete(s: ServiceChangeState, actor: Actor, summary: string, auto: boolean, ctx: CaseContext): Step<ServiceChangeEffect> {
  s.status = 'completed';
  s.completion = { atMs: ctx.nowMs, by: actor.id, summary, auto };
  const completed = event('change.completed', actor, ctx, { summary, auto, windowEndsAt: isoOrNull(s.downtime?.endsAtMs ?? null) });
  const params = { caseId: s.caseId, title: s.title, summary, contacts: s.contacts, appealChannel: s.appealChannel };
  return { events: [completed, ...meetClocks(s.clocks, [windowClock], ctx)], effects: [fanout(s, 'done', 'change.done', `${s.workflowId}:done`, params, { completedAt: iso(ctx.nowMs) })] };
}

/**
 * The downtime window ended and the change is not complete: the outage is an incident now, its
 * O-rules counting from the window's end (notice within 2 h, repair within 48 h, recovery and
 * remedies to the same users). The change closes; the incident carries on.
 */
function overran(s: ServiceChangeState, clockEvent: ClockEvent, ctx: CaseContext): Step<ServiceChangeEffect> {
  if (s.status !== 'scheduled' && s.status !== 'in-progress') return noStep;
  s.status = 'overran';
  s.overrun = { atMs: ctx.nowMs, windowEndedAtMs: clockEvent.atMs, incidentId: null, error: null };
  const windowEndedAt = iso(clockEvent.atMs);
  const message = staffMessage(
    s,
    'overran',
    'supervisor',
    'change OVERRAN its downtime window',
    `${s.caseId} (${s.title}) was not completed by the end of its downtime window at ${windowEndedAt}: an incident is opened for the outage, with the change's scope.`,
    clockEvent.atMs,
  );
  const overranEvent = event('change.overran', systemActor, ctx, { windowEndedAt, escalatedTo: 'supervisor' }, { staffNotifications: [message] });
  const breached = event('sla.breached', systemActor, ctx, { clock: clockEvent.clock, dueAt: windowEndedAt, escalatedTo: 'supervisor' });
  const incident: OverrunIncident = {
    title: `Change ${s.caseId} overran: ${s.title}`.slice(0, 200),
    description: `The planned change ${s.caseId} (${s.title}) did not finish inside its downtime window, which ended at ${windowEndedAt}. What changes: ${s.whatChanges}`.slice(0, 5000),
    startedAt: windowEndedAt,
    scope: s.scope,
    severity: defaultSeverity,
  };
  return { events: [breached, overranEvent], effects: [{ kind: 'open-incident', incident }] };
}

function incidentOpened(s: ServiceChangeState, incident: OverrunIncident, outcome: EffectOutcome, ctx: CaseContext): Step<ServiceChangeEffect> {
  if (outcome.ok) {
    const { caseId } = outcome.result as { caseId: string };
    if (s.overrun) s.overrun.incidentId = caseId;
    return { events: [event('change.incident-opened', systemActor, ctx, { incidentId: caseId, startedAt: incident.startedAt, scope: incident.scope })] };
  }
  const error = outcome.message.slice(0, 1000);
  if (s.overrun) s.overrun.error = error;
  const message = staffMessage(
    s,
    'incident-failed',
    'supervisor',
    'incident for the overrun NOT opened',
    `The incident for the overrun of ${s.caseId} could not be opened (${error.slice(0, 300)}). Open one by hand: POST /v1/incidents with the scope ` +
      `${JSON.stringify(incident.scope)} and startedAt ${incident.startedAt}.`,
    ctx.nowMs,
  );
  return { events: [event('change.incident-failed', systemActor, ctx, { error, escalatedTo: 'supervisor' }, { staffNotifications: [message] })] };
}

function fanoutDone(s: ServiceChangeState, sent: ChangeFanout, outcome: EffectOutcome, ctx: CaseContext): Step<ServiceChangeEffect> {
  if (!outcome.ok) {
    const retrying = outcome.retryable && outcome.attempt < changeFanoutAttempts;
    s.fanoutFailures = [...s.fanoutFailures, { number: sent.number, kind: sent.kind, attempt: outcome.attempt, error: outcome.message.slice(0, 500), retrying }].slice(-keptEntries);
    const message = staffMessage(
      s,
      `fanout-${sent.number}-failed-${outcome.attempt}`,
      'supervisor',
      `${sent.kind} not delivered`,
      `The ${sent.kind} of ${s.caseId} failed on attempt ${outcome.attempt}: ${outcome.message.slice(0, 500)}. ${retrying ? 'It will be retried.' : 'It is not retried: fix the cause and tell the users by hand.'}`,
      ctx.nowMs,
    );
    const data = { number: sent.number, kind: sent.kind, attempt: outcome.attempt, error: outcome.message.slice(0, 1000), retrying };
    return { events: [event('change.fanout-failed', systemActor, ctx, data, { staffNotifications: [message] })] };
  }
  const totals = outcome.result as ChangeFanoutTotals;
  const { customers, notificationsQueued, pages, durationMs } = totals;
  s.fanouts = [...s.fanouts, { number: sent.number, kind: sent.kind, atMs: ctx.nowMs, customers, notificationsQueued, pages, durationMs }].slice(-keptEntries);
  if (sent.kind === 'notice') s.notice.customers = customers;
  // N3: who was told, on which template, recorded on the case.
  return {
    events: [
      event('change.notified', systemActor, ctx, { number: sent.number, kind: sent.kind, template: sent.templateId, keyPrefix: sent.keyPrefix, customers, notificationsQueued, pages, durationMs }),
    ],
  };
}

/** N2: what every change message says of the change (type, what, impact, what to do, contacts, appeal). */
function noticeParams(s: ServiceChangeState, emergency: { justification: string } | null): Record<string, string> {
  return {
    caseId: s.caseId,
    title: s.title,
    whatChanges: s.whatChanges,
    userAction: s.userAction,
    contacts: s.contacts,
    appealChannel: s.appealChannel,
    ...(emergency ? { justification: emergency.justification, noticeHours: String(s.policy.noticeHours) } : {}),
  };
}

/** A message to every user in the change's scope, fixed when its fan-out starts. */
function fanout(
  s: ServiceChangeState,
  kind: ChangeMessageKind,
  templateId: ChangeFanout['templateId'],
  keyPrefix: string,
  params: Record<string, string>,
  instants: Record<string, string> = {},
): ServiceChangeEffect {
  const number = ++s.fanoutsQueued;
  const downtime = s.downtime ? { startsAt: iso(s.downtime.startsAtMs), endsAt: iso(s.downtime.endsAtMs) } : null;
  return {
    kind: 'fanout',
    recipientsKey: `${s.workflowId}:fanout-${number}`,
    fanout: {
      number,
      kind,
      templateId,
      keyPrefix,
      audience: { scopes: [s.scope] },
      params,
      instants: { effectiveAt: iso(s.effectiveAtMs), ...instants },
      impact: { changeType: s.changeType, services: s.scope.services, regions: s.scope.regions, downtime },
    },
  };
}

function emergencyEvent(s: ServiceChangeState, actor: Actor, justification: string, leadMinutes: number, on: 'intake' | 'reschedule', ctx: CaseContext): StepEvent {
  s.emergencies = [...s.emergencies, { atMs: ctx.nowMs, by: actor.id, justification, leadMinutes, on }];
  return event('change.emergency', actor, ctx, { justification, leadMinutes, noticeHours: s.policy.noticeHours, on, effectiveAt: iso(s.effectiveAtMs) });
}

function shortNoticeEvent(s: ServiceChangeState, ctx: CaseContext): StepEvent {
  const message = staffMessage(
    s,
    'notice-short',
    'supervisor',
    'notice went out late',
    `The notice of ${s.caseId} went out ${s.notice.leadMinutes} minutes before the change takes effect, less than the ${s.policy.noticeHours} h promised (N1): reschedule it if users need the time.`,
    ctx.nowMs,
  );
  return event('change.notice-short', systemActor, ctx, { leadMinutes: s.notice.leadMinutes, noticeHours: s.policy.noticeHours, escalatedTo: 'supervisor' }, { staffNotifications: [message] });
}

function cancelClocks(s: ServiceChangeState, ctx: CaseContext): StepEvent[] {
  const cancelled = Object.values(s.clocks)
    .filter(cancelClock)
    .map((clock) => clock.name);
  return cancelled.length > 0 ? [event('sla.cancelled', systemActor, ctx, { clocks: cancelled })] : [];
}

function staffMessage(s: ServiceChangeState, step: string, role: 'agent' | 'supervisor', subject: string, body: string, atMs: number): StaffNotificationRequest {
  return {
    idempotencyKey: `${s.workflowId}:${step}:${atMs}`,
    role,
    kind: `change.${step}`,
    subject: `${s.caseId}: ${subject}`,
    body,
    occurredAt: iso(atMs),
    deliverAfter: iso(atMs),
  };
}
