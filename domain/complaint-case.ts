import { systemActor, type Actor } from './actors';
import { clockStartedEvent, clockViews, isoOrNull, meetClocks, minutesClock, pauseOnWorkingTime, rescheduleProvisionalClocks, resumeOnWorkingTime, workingDaysClock } from './case-clocks';
import { allowedActions, type ActionCheck } from './case-actions';
import { event, joinSteps, noStep, ruleIsOn, type CaseContext, type CaseDefinition, type CaseStateBase, type Step } from './case-definition';
import type { ComplaintDetails } from './case-details';
import type { CaseState } from './case-state';
import { complaintActions, complaintClocks, complaintNextStep, complaintPriorityRefusal, type ComplaintAction, type ComplaintCategory, type ComplaintStatus } from './complaint';
import type { NotificationRequest, StaffNotificationRequest, StepEvent } from './messages';
import type { TemplateId } from './notification-templates';
import { raisePriority, type Priority } from './priority';
import { DateTime } from 'luxon';
import { staffDeliveryAtMs } from './quiet-hours';
import { cancelClock, pauseClock, rescheduleClock, type ClockEvent } from './sla-clock';
import { waitingPolicy, type ComplaintSlaPolicy } from './sla-policy';
import type { WorkingCalendar } from './working-calendar';

export interface ComplaintInput {
  caseId: string;
  customerId: string;
  channel: string;
  category: ComplaintCategory;
  priority: Priority;
  priorityReason: string;
  major: boolean;
  summary: string;
  description: string;
  /** When the user complained; the clocks run from here. Defaults to the workflow's start. */
  receivedAt?: string;
  openedBy: Actor;
  /** Pinned at intake so the case keeps the promises it was opened under. */
  policy: ComplaintSlaPolicy;
  timeZone: string;
  /** The working calendar for the years this case can reach, pinned at intake. */
  calendar: WorkingCalendar;
}

export interface ComplaintOutcome {
  caseId: string;
  status: ComplaintStatus;
  outcome: 'resolved' | 'withdrawn' | 'referred' | 'unanswered';
  slaBreached: boolean;
  rating: number | null;
}

export interface ComplaintState extends CaseStateBase {
  customerId: string;
  channel: string;
  category: ComplaintCategory;
  priorityReason: string;
  major: boolean;
  summary: string;
  policy: ComplaintSlaPolicy;
  receivedAtMs: number;
  status: ComplaintStatus;
  statusBeforePause: ComplaintStatus;
  priority: Priority;
  slaBreached: boolean;
  assignee: string | null;
  rating: { rating: number; comment: string | null } | null;
  resolution: { text: string; atMs: number } | null;
  arbitration: { decision: 'uphold' | 'overturn'; reasons: string } | null;
  referral: { body: string; reference: string } | null;
  outcome: ComplaintOutcome['outcome'];
  reopenCount: number;
  pause: { reason: string; sinceMs: number } | null;
  /** The result clock now running: `result`, then `result-1`, … after each reopening. */
  resultClock: string;
  /** C14 (later rule): since when the user has been asked for information, and whether reminded. */
  waiting?: { sinceMs: number; question: string; reminded: boolean } | null;
  /** C14 (later rule): the next reminder to staff while the case is with a third party. */
  referralRemindAtMs?: number | null;
}

/** Rules added after complaints were already running (see CaseDefinition.laterRules). */
export const complaintRules = {
  windowsKept: 'c12-windows-kept',
  workingTimePauses: 'c6-c7-working-time-pauses',
  waitingReminders: 'c14-waiting-reminders',
  warningBeforeBreach: 'c9-warning-before-breach',
} as const;

const dayMs = 24 * 3600_000;

/**
 * A complaint from intake to closure (C1–C12): four SLA clocks that pause while the user is asked
 * for information, warn at 80 % and escalate at breach; rating, dispute, arbitration, referral and
 * reopening; closure by itself once the dispute and reopen windows have passed.
 */
export const complaintCase: CaseDefinition<ComplaintInput & { workflowId: string }, ComplaintState, never, never, ComplaintAction> = {
  type: 'complaint',
  actions: complaintActions,
  laterRules: Object.values(complaintRules),

  open(input, ctx) {
    const { policy, timeZone, calendar } = input;
    const receivedAtMs = input.receivedAt ? Date.parse(input.receivedAt) : ctx.nowMs;
    const clockOptions = { policyVersion: policy.version, startedAtMs: receivedAtMs, warnAtFraction: policy.warnAtFraction };
    const workingDays = (workingDays: number) => ({ ...clockOptions, workingDays, calendar, timeZone });
    const clocks = {
      [complaintClocks.firstResponse]: minutesClock(complaintClocks.firstResponse, { ...clockOptions, minutes: policy.firstResponseMinutes[input.priority] }),
      ...(input.major ? { [complaintClocks.fullResponse]: minutesClock(complaintClocks.fullResponse, { ...clockOptions, minutes: policy.majorFullResponseMinutes }) } : {}),
      [complaintClocks.preliminary]: workingDaysClock(complaintClocks.preliminary, workingDays(policy.preliminaryWorkingDays)),
      [complaintClocks.result]: workingDaysClock(complaintClocks.result, workingDays(policy.resultWorkingDays)),
    };
    const state: ComplaintState = {
      ...(ctx.rules ? { rules: ctx.rules } : {}),
      caseId: input.caseId,
      workflowId: input.workflowId,
      clocks,
      calendar,
      timeZone,
      updatedAtMs: ctx.nowMs,
      customerId: input.customerId,
      channel: input.channel,
      category: input.category,
      priorityReason: input.priorityReason,
      major: input.major,
      summary: input.summary,
      policy,
      receivedAtMs,
      status: 'received',
      statusBeforePause: 'received',
      priority: input.priority,
      slaBreached: false,
      assignee: null,
      rating: null,
      resolution: null,
      arbitration: null,
      referral: null,
      outcome: 'resolved',
      reopenCount: 0,
      pause: null,
      resultClock: complaintClocks.result,
      waiting: null,
      referralRemindAtMs: null,
    };
    const received = event(
      'complaint.received',
      input.openedBy,
      ctx,
      {
        channel: input.channel,
        category: input.category,
        priority: input.priority,
        priorityReason: input.priorityReason,
        major: input.major,
        description: input.description,
        policyVersion: policy.version,
        calendarVersion: calendar.version,
        provisionalDeadlines: Object.values(clocks)
          .filter((clock) => clock.provisional)
          .map((clock) => clock.name),
      },
      { notifications: [tellCustomer(state, 'received', 'complaint.received')] },
    );
    return { state, events: [received, ...Object.values(clocks).map((clock) => clockStartedEvent(clock, ctx))] };
  },

  refine(state, request, checked, ctx) {
    if (!checked.ok) return checked;
    if (request.action === 'reclassify') return reclassifyCheck(state, checked.input);
    const refused = timeRefusal(state, request.action, ctx.nowMs);
    return refused ? { ok: false, kind: 'refused', message: `cannot ${request.action}: ${refused}` } : checked;
  },

  decide(s, request, ctx) {
    const { actor } = request;
    const tell = (templateId: TemplateId, message?: string, extra?: Record<string, string>) => ({
      notifications: [tellCustomer(s, `${request.action}-${ctx.step}`, templateId, message, extra)],
    });
    const { firstResponse, fullResponse, preliminary } = complaintClocks;
    s.updatedAtMs = ctx.nowMs;
    switch (request.action) {
      case 'acknowledge': {
        const { message } = request.input;
        s.status = 'acknowledged';
        const response = responseOf(s, request.input);
        return steps(event('complaint.acknowledged', actor, ctx, { message, ...response.data }, tell('complaint.acknowledged', message, response.params)), meetClocks(s.clocks, [firstResponse], ctx));
      }
      case 'assign':
        s.assignee = request.input.assignee;
        return steps(event('complaint.assigned', actor, ctx, { assignee: s.assignee }));
      case 'note':
        return steps(event('complaint.note', actor, ctx, { text: request.input.text }));
      case 'request-info': {
        const { question } = request.input;
        s.statusBeforePause = s.status;
        s.status = 'awaiting-customer';
        // Asking the user is a response to them: it keeps the first-response promise.
        const asked = event('complaint.info-requested', actor, ctx, { question }, tell('complaint.info-requested', question));
        if (ruleIsOn(s, complaintRules.waitingReminders)) s.waiting = { sinceMs: ctx.nowMs, question, reminded: false };
        return steps(asked, meetClocks(s.clocks, [firstResponse], ctx), pauseAll(s, 'waiting for information from the user', ctx));
      }
      case 'customer-reply':
        s.status = s.statusBeforePause;
        s.waiting = null;
        return steps(event('complaint.customer-replied', actor, ctx, { message: request.input.message }), resumeAll(s, ctx));
      case 'report-preliminary': {
        const { finding } = request.input;
        s.status = 'preliminary-reported';
        const response = responseOf(s, request.input);
        return steps(
          event('complaint.preliminary-reported', actor, ctx, { finding, ...response.data }, tell('complaint.preliminary', finding, response.params)),
          meetClocks(s.clocks, [firstResponse, fullResponse, preliminary], ctx),
        );
      }
      case 'resolve': {
        s.status = 'resolved';
        s.resolution = { text: request.input.resolution, atMs: ctx.nowMs };
        const response = responseOf(s, request.input);
        return steps(
          event('complaint.resolved', actor, ctx, { resolution: s.resolution.text, ...response.data }, tell('complaint.resolved', s.resolution.text, response.params)),
          meetClocks(s.clocks, [firstResponse, fullResponse, preliminary, s.resultClock], ctx),
        );
      }
      case 'rate':
        s.rating = { rating: request.input.rating, comment: request.input.comment ?? null };
        return steps(event('complaint.rated', actor, ctx, s.rating));
      case 'dispute': {
        s.status = 'disputed';
        const disputed = event('complaint.disputed', actor, ctx, { reason: request.input.reason });
        if (!ruleIsOn(s, complaintRules.waitingReminders)) return steps(disputed);
        // C14: the platform decides a dispute within its own working-day clock, with warning and escalation.
        const clock = workingDaysClock(arbitrationClock(s), {
          policyVersion: s.policy.version,
          startedAtMs: ctx.nowMs,
          workingDays: waitingPolicy(s.policy).arbitrationWorkingDays,
          warnAtFraction: s.policy.warnAtFraction,
          calendar: s.calendar,
          timeZone: s.timeZone,
        });
        s.clocks[clock.name] = clock;
        return steps(disputed, [clockStartedEvent(clock, ctx)]);
      }
      case 'arbitrate': {
        const arbitrationMet = meetClocks(
          s.clocks,
          Object.keys(s.clocks).filter((name) => name.startsWith('arbitration')),
          ctx,
        );
        s.arbitration = { decision: request.input.decision, reasons: request.input.reasons };
        const upheld = s.arbitration.decision === 'uphold';
        const message = `${upheld ? 'upheld / 维持原处理结果' : 'overturned / 撤销原处理结果，重新调查'} — ${s.arbitration.reasons}`;
        if (upheld) {
          s.status = 'resolved';
          s.resolution = { text: s.resolution?.text ?? '', atMs: ctx.nowMs };
        } else {
          s.status = 'acknowledged';
          s.resolution = null;
          startNextResultClock(s, ctx);
        }
        const arbitrated = event('complaint.arbitrated', actor, ctx, s.arbitration, tell('complaint.arbitrated', message));
        return steps(arbitrated, arbitrationMet, upheld ? [] : [clockStartedEvent(s.clocks[s.resultClock]!, ctx)]);
      }
      case 'refer-third-party':
        s.status = 'referred';
        s.outcome = 'referred';
        s.referral = { body: request.input.body, reference: request.input.reference };
        if (ruleIsOn(s, complaintRules.waitingReminders)) s.referralRemindAtMs = ctx.nowMs + waitingPolicy(s.policy).referralReminderDays * dayMs;
        return steps(event('complaint.referred', actor, ctx, s.referral, tell('complaint.referred', `${s.referral.body} (${s.referral.reference})`)));
      case 'reopen': {
        s.status = 'acknowledged';
        s.resolution = null;
        s.arbitration = null;
        const clock = startNextResultClock(s, ctx);
        const reopened = event('complaint.reopened', actor, ctx, { reason: request.input.reason, resultDueAt: new Date(clock.dueAtMs).toISOString() }, tell('complaint.reopened'));
        return steps(reopened, [clockStartedEvent(clock, ctx)]);
      }
      case 'withdraw':
        s.status = 'closed';
        s.outcome = 'withdrawn';
        s.pause = null;
        s.waiting = null;
        return steps(event('complaint.withdrawn', actor, ctx, { reason: request.input.reason ?? null }, tell('complaint.withdrawn')), cancelAll(s, ctx));
      case 'close':
        s.status = 'closed';
        return steps(event('complaint.closed', actor, ctx, { reason: request.input.reason ?? null }, tell('complaint.closed')), cancelAll(s, ctx));
      case 'confirm': {
        // C12: only the user can end their own windows early; the event is the user's, whoever pressed the button.
        s.status = 'closed';
        const user = { id: s.customerId, role: 'customer' as const };
        const confirmed = event('complaint.confirmed', user, ctx, { comment: request.input.comment ?? null, recordedBy: actor.id });
        return steps(confirmed, event('complaint.closed', user, ctx, { reason: 'the user confirmed the result' }, tell('complaint.closed')), cancelAll(s, ctx));
      }
      case 'reclassify':
        return reclassify(s, request.input, actor, ctx);
    }
  },

  onClock(s, clockEvent, ctx) {
    s.updatedAtMs = clockEvent.atMs;
    const at = new Date(clockEvent.atMs).toISOString();
    if (clockEvent.kind === 'warned') {
      const deliverAfter = new Date(warningDeliveryAtMs(s, clockEvent)).toISOString();
      const message = staffMessage(s, clockEvent, 'warned', 'agent', `SLA warning: ${s.caseId} ${clockEvent.clock} is 80 % through`, deliverAfter);
      return steps(event('sla.warned', systemActor, ctx, { clock: clockEvent.clock, at, staffNotifiedAt: deliverAfter }, { staffNotifications: [message] }));
    }
    // C9: a breach escalates at once: supervisor told, priority up one step, flagged for monitoring.
    s.slaBreached = true;
    const previousPriority = s.priority;
    s.priority = raisePriority(s.priority);
    const message = staffMessage(s, clockEvent, 'breached', 'supervisor', `SLA breached: ${s.caseId} ${clockEvent.clock} was due ${at}; priority now ${s.priority}`, at);
    const data = { clock: clockEvent.clock, dueAt: at, priorityRaisedFrom: previousPriority === s.priority ? null : previousPriority };
    return steps(event('sla.breached', systemActor, ctx, data, { staffNotifications: [message] }));
  },

  nextWakeAtMs(s) {
    const times = [windowEndsAtMs(s), waitingWakeAtMs(s), s.status === 'referred' ? (s.referralRemindAtMs ?? undefined) : undefined].filter((time): time is number => time !== undefined);
    return times.length > 0 ? Math.min(...times) : undefined;
  },

  onWake(s, ctx) {
    const waited = waitingDue(s, ctx);
    if (waited) return waited;
    const referral = referralReminderDue(s, ctx);
    if (referral) return referral;
    const windowEnd = windowEndsAtMs(s);
    if (windowEnd === undefined || ctx.nowMs < windowEnd) return noStep;
    s.status = 'closed';
    s.updatedAtMs = ctx.nowMs;
    const closed = event('complaint.closed', systemActor, ctx, { reason: 'dispute and reopen windows ended' }, { notifications: [tellCustomer(s, 'auto-closed', 'complaint.closed')] });
    return steps(closed, cancelAll(s, ctx));
  },

  onCalendar(s, calendar, ctx) {
    s.calendar = calendar;
    return steps(rescheduleProvisionalClocks(s.clocks, calendar, s.timeZone, s.policy.warnAtFraction, ctx));
  },

  view(s, ctx) {
    const deadlines = clockViews(s.clocks);
    const resultDeadline = deadlines.find((deadline) => deadline.name === s.resultClock);
    const windowEnd = windowEndsAtMs(s);
    const expectedCompletion = s.status === 'closed' ? null : s.status === 'resolved' ? windowEnd : resultDeadline && resultDeadline.state !== 'met' ? Date.parse(resultDeadline.dueAt!) : undefined;
    return {
      caseId: s.caseId,
      workflowId: s.workflowId,
      type: 'complaint',
      status: s.status,
      priority: s.priority,
      customerId: s.customerId,
      summary: s.summary,
      openedAt: new Date(s.receivedAtMs).toISOString(),
      updatedAt: new Date(s.updatedAtMs).toISOString(),
      slaBreached: s.slaBreached,
      deadlines,
      nextStep: complaintNextStep(s.status),
      expectedCompletionAt: isoOrNull(expectedCompletion),
      allowedActions: allowedActions(complaintActions, s.status).filter((action) => timeRefusal(s, action, ctx.nowMs) === undefined),
      details: {
        channel: s.channel,
        category: s.category,
        major: s.major,
        priorityReason: s.priorityReason,
        assignee: s.assignee,
        pausedFor: s.pause ? { reason: s.pause.reason, since: new Date(s.pause.sinceMs).toISOString() } : null,
        resolution: s.resolution?.text ?? null,
        resolvedAt: isoOrNull(s.resolution?.atMs),
        disputeAndReopenUntil: isoOrNull(windowEnd),
        rating: s.rating,
        arbitration: s.arbitration,
        referral: s.referral,
        reopenCount: s.reopenCount,
        timeZone: s.timeZone,
      } satisfies ComplaintDetails,
    } satisfies CaseState;
  },

  isClosed: (s) => s.status === 'closed',
};

export function complaintOutcome(s: ComplaintState): ComplaintOutcome {
  return { caseId: s.caseId, status: s.status, outcome: s.outcome, slaBreached: s.slaBreached, rating: s.rating?.rating ?? null };
}

/** Time-dependent refusals the status table cannot express (C11, C12). */
function timeRefusal(s: ComplaintState, action: string, nowMs: number): string | undefined {
  const { disputeWindowDays, reopenWindowDays } = s.policy;
  if (action === 'dispute' && s.resolution && nowMs > s.resolution.atMs + disputeWindowDays * dayMs) {
    return `the ${disputeWindowDays}-day dispute window ended at ${new Date(s.resolution.atMs + disputeWindowDays * dayMs).toISOString()}`;
  }
  if (action === 'reopen' && s.resolution && nowMs > s.resolution.atMs + reopenWindowDays * dayMs) {
    return `the ${reopenWindowDays}-day reopen window ended at ${new Date(s.resolution.atMs + reopenWindowDays * dayMs).toISOString()}`;
  }
  const windowEnd = windowEndsAtMs(s);
  if (action === 'close' && ruleIsOn(s, complaintRules.windowsKept) && windowEnd !== undefined && nowMs < windowEnd) {
    return `the user's dispute and reopen windows run until ${new Date(windowEnd).toISOString()}; the case closes by itself then, or earlier when the user confirms (C12)`;
  }
  if (action === 'refer-third-party' && s.arbitration?.decision !== 'uphold') {
    return 'a referral to a third party follows platform arbitration that upheld the result; dispute first';
  }
  return undefined;
}

function windowEndsAtMs(s: ComplaintState): number | undefined {
  return s.status === 'resolved' && s.resolution ? s.resolution.atMs + Math.max(s.policy.disputeWindowDays, s.policy.reopenWindowDays) * dayMs : undefined;
}

function tellCustomer(s: ComplaintState, step: string, templateId: TemplateId, message?: string, extra: Record<string, string> = {}): NotificationRequest {
  return {
    idempotencyKey: `${s.workflowId}:${step}`,
    customerId: s.customerId,
    caseId: s.caseId,
    templateId,
    params: { caseId: s.caseId, summary: s.summary, ...(message === undefined ? {} : { message }), ...extra },
  };
}

function staffMessage(s: ComplaintState, clockEvent: ClockEvent, kind: string, role: 'agent' | 'supervisor', subject: string, deliverAfter: string): StaffNotificationRequest {
  return {
    idempotencyKey: `${s.workflowId}:sla.${kind}:${clockEvent.clock}:${clockEvent.atMs}`,
    role,
    kind: `sla.${kind}`,
    subject,
    body: `${subject}. Case: ${s.summary}. Status: ${s.status}. Assignee: ${s.assignee ?? 'none'}.`,
    occurredAt: new Date(clockEvent.atMs).toISOString(),
    deliverAfter,
  };
}

function pauseAll(s: ComplaintState, reason: string, ctx: CaseContext): StepEvent[] {
  const onWorkingTime = ruleIsOn(s, complaintRules.workingTimePauses);
  const paused = Object.values(s.clocks)
    .filter((clock) => (onWorkingTime ? pauseOnWorkingTime(clock, ctx.nowMs, s.calendar, s.timeZone) : pauseClock(clock, ctx.nowMs)))
    .map((clock) => clock.name);
  s.pause = { reason, sinceMs: ctx.nowMs };
  return [event('sla.paused', systemActor, ctx, { reason, since: new Date(ctx.nowMs).toISOString(), clocks: paused })];
}

function resumeAll(s: ComplaintState, ctx: CaseContext): StepEvent[] {
  const resumed = Object.values(s.clocks)
    .map((clock) => ({ clock, pausedMs: resumeOnWorkingTime(clock, ctx.nowMs, s.calendar, s.timeZone) }))
    .filter((entry) => entry.clock.state === 'running' && entry.pausedMs > 0);
  const pausedMs = s.pause ? ctx.nowMs - s.pause.sinceMs : 0;
  const data = {
    reason: s.pause?.reason ?? null,
    pausedMs,
    pausedMinutes: Math.round(pausedMs / 60_000),
    clocks: resumed.map((entry) => ({ clock: entry.clock.name, dueAt: new Date(entry.clock.dueAtMs).toISOString() })),
  };
  s.pause = null;
  return [event('sla.resumed', systemActor, ctx, data)];
}

function cancelAll(s: ComplaintState, ctx: CaseContext): StepEvent[] {
  const cancelled = Object.values(s.clocks)
    .filter(cancelClock)
    .map((clock) => clock.name);
  return cancelled.length > 0 ? [event('sla.cancelled', systemActor, ctx, { clocks: cancelled, outcome: s.outcome })] : [];
}

function startNextResultClock(s: ComplaintState, ctx: CaseContext) {
  s.reopenCount++;
  s.resultClock = `${complaintClocks.result}-${s.reopenCount}`;
  const clock = workingDaysClock(s.resultClock, {
    policyVersion: s.policy.version,
    startedAtMs: ctx.nowMs,
    workingDays: s.policy.resultWorkingDays,
    warnAtFraction: s.policy.warnAtFraction,
    calendar: s.calendar,
    timeZone: s.timeZone,
  });
  s.clocks[s.resultClock] = clock;
  return clock;
}

function steps(...parts: Array<StepEvent | StepEvent[]>): Step {
  return joinSteps({ events: parts.flat() });
}

/** C13: what a response says besides its text; an action recorded before the rule shows "—". */
function responseOf(s: ComplaintState, input: { problem?: string; steps?: string; expectedCompletionAt?: string }) {
  const expected = input.expectedCompletionAt ? DateTime.fromISO(input.expectedCompletionAt).setZone(s.timeZone).toFormat('yyyy-MM-dd HH:mm') + ` (${s.timeZone})` : '—';
  return {
    data: input.problem === undefined ? {} : { problem: input.problem, steps: input.steps ?? null, expectedCompletionAt: input.expectedCompletionAt ?? null },
    params: { problem: input.problem ?? '—', steps: input.steps ?? '—', expectedCompletion: expected },
  };
}

/**
 * C9: a warning waits out quiet hours only if it still arrives before its breach; a P1 warning is
 * never held. Otherwise it goes at once.
 */
function warningDeliveryAtMs(s: ComplaintState, clockEvent: ClockEvent): number {
  const held = staffDeliveryAtMs(clockEvent.atMs, s.policy.staffQuietHours, s.timeZone, s.calendar);
  if (!ruleIsOn(s, complaintRules.warningBeforeBreach)) return held;
  if (s.priority === 'P1') return clockEvent.atMs;
  const dueAtMs = s.clocks[clockEvent.clock]?.dueAtMs;
  return dueAtMs !== undefined && held >= dueAtMs ? clockEvent.atMs : held;
}

const arbitrationClock = (s: ComplaintState) => {
  const earlier = Object.keys(s.clocks).filter((name) => name.startsWith('arbitration')).length;
  return earlier === 0 ? 'arbitration' : `arbitration-${earlier}`;
};

/** C14: the next wake-up while the user owes an answer: the reminder, then the closure. */
function waitingWakeAtMs(s: ComplaintState): number | undefined {
  if (s.status !== 'awaiting-customer' || !s.waiting) return undefined;
  const policy = waitingPolicy(s.policy);
  return s.waiting.sinceMs + (s.waiting.reminded ? policy.awaitingCustomerCloseDays : policy.awaitingCustomerReminderDays) * dayMs;
}

function waitingDue(s: ComplaintState, ctx: CaseContext): Step | undefined {
  const dueAt = waitingWakeAtMs(s);
  if (dueAt === undefined || ctx.nowMs < dueAt || !s.waiting) return undefined;
  const policy = waitingPolicy(s.policy);
  if (!s.waiting.reminded) {
    s.waiting.reminded = true;
    const reminder = tellCustomer(s, `info-reminder-${ctx.step}`, 'complaint.info-reminder', s.waiting.question, { days: String(policy.awaitingCustomerCloseDays) });
    return steps(
      event(
        'complaint.info-reminder',
        systemActor,
        ctx,
        { askedAt: new Date(s.waiting.sinceMs).toISOString(), closesAt: new Date(s.waiting.sinceMs + policy.awaitingCustomerCloseDays * dayMs).toISOString() },
        { notifications: [reminder] },
      ),
    );
  }
  s.status = 'closed';
  s.outcome = 'unanswered';
  s.waiting = null;
  s.pause = null;
  s.updatedAtMs = ctx.nowMs;
  const closed = event(
    'complaint.closed',
    systemActor,
    ctx,
    { reason: `no answer from the user within ${policy.awaitingCustomerCloseDays} days` },
    { notifications: [tellCustomer(s, 'closed-unanswered', 'complaint.closed-unanswered', undefined, { days: String(policy.awaitingCustomerCloseDays) })] },
  );
  return steps(closed, cancelAll(s, ctx));
}

/** C14: while a third party has the case, staff are reminded every so often until it is closed. */
function referralReminderDue(s: ComplaintState, ctx: CaseContext): Step | undefined {
  if (s.status !== 'referred' || !s.referralRemindAtMs || ctx.nowMs < s.referralRemindAtMs) return undefined;
  const at = s.referralRemindAtMs;
  s.referralRemindAtMs = at + waitingPolicy(s.policy).referralReminderDays * dayMs;
  const message: StaffNotificationRequest = {
    idempotencyKey: `${s.workflowId}:referral-reminder:${at}`,
    role: 'agent',
    kind: 'complaint.referral-reminder',
    subject: `${s.caseId} is still with ${s.referral?.body ?? 'a third party'}`,
    body: `Referred as ${s.referral?.reference ?? '?'}: ask for the decision, then close the case. Case: ${s.summary}.`,
    occurredAt: new Date(at).toISOString(),
    deliverAfter: new Date(at).toISOString(),
  };
  return steps(event('complaint.referral-reminder', systemActor, ctx, { at: new Date(at).toISOString(), nextAt: new Date(s.referralRemindAtMs).toISOString() }, { staffNotifications: [message] }));
}

type ReclassifyInput = { category?: ComplaintCategory; priority?: Priority; major?: boolean; reason: string };

/** C2 on reclassification: something must change, and account security stays P1. */
function reclassifyCheck(s: ComplaintState, input: Record<string, unknown>): ActionCheck {
  const { category, priority, major } = input as ReclassifyInput;
  if (category === undefined && priority === undefined && major === undefined) {
    return { ok: false, kind: 'invalid-input', message: "invalid input for 'reclassify'", fields: [{ field: 'input', message: 'name a category, a priority or major' }] };
  }
  const refused = complaintPriorityRefusal(category ?? s.category, priority ?? (category === 'account-security' ? undefined : s.priority));
  if (refused) return { ok: false, kind: 'invalid-input', message: "invalid input for 'reclassify'", fields: [{ field: 'input.priority', message: refused }] };
  return { ok: true, input };
}

/** C2–C5: a new category, priority or major flag; the first-response and full-response clocks follow it. */
function reclassify(s: ComplaintState, input: ReclassifyInput, actor: Actor, ctx: CaseContext): Step {
  const before = { category: s.category, priority: s.priority, major: s.major };
  s.category = input.category ?? s.category;
  s.priority = input.priority ?? (s.category === 'account-security' ? 'P1' : s.priority);
  s.major = input.major ?? s.major;
  s.priorityReason = `reclassified: ${input.reason}`;
  const events: StepEvent[] = [event('complaint.reclassified', actor, ctx, { from: before, to: { category: s.category, priority: s.priority, major: s.major }, reason: input.reason })];
  const firstResponse = s.clocks[complaintClocks.firstResponse];
  if (firstResponse && s.priority !== before.priority) {
    const previousDueAt = new Date(firstResponse.dueAtMs).toISOString();
    const dueAtMs = firstResponse.startedAtMs + firstResponse.pausedTotalMs + s.policy.firstResponseMinutes[s.priority] * 60_000;
    if (rescheduleClock(firstResponse, dueAtMs, s.policy.warnAtFraction)) {
      events.push(event('sla.rescheduled', systemActor, ctx, { clock: firstResponse.name, previousDueAt, dueAt: new Date(dueAtMs).toISOString(), reason: 'reclassified' }));
    }
  }
  const fullResponse = s.clocks[complaintClocks.fullResponse];
  if (s.major && !fullResponse) {
    const clock = minutesClock(complaintClocks.fullResponse, {
      policyVersion: s.policy.version,
      startedAtMs: s.receivedAtMs,
      minutes: s.policy.majorFullResponseMinutes,
      warnAtFraction: s.policy.warnAtFraction,
    });
    if (s.pause) pauseClock(clock, ctx.nowMs);
    s.clocks[clock.name] = clock;
    events.push(clockStartedEvent(clock, ctx));
  } else if (!s.major && fullResponse && cancelClock(fullResponse)) {
    events.push(event('sla.cancelled', systemActor, ctx, { clocks: [fullResponse.name], reason: 'no longer major' }));
  }
  return steps(...events);
}
