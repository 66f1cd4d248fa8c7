import { systemActor, type Actor } from './actors';
import { clockStartedEvent, clockViews, isoOrNull, meetClocks, minutesClock, rescheduleProvisionalClocks, workingDaysClock } from './case-clocks';
import { allowedActions } from './case-actions';
import { event, joinSteps, noStep, type CaseContext, type CaseDefinition, type CaseStateBase, type Step } from './case-definition';
import type { ComplaintDetails } from './case-details';
import type { CaseState } from './case-state';
import { complaintActions, complaintClocks, complaintNextStep, type ComplaintAction, type ComplaintCategory, type ComplaintStatus } from './complaint';
import type { NotificationRequest, StaffNotificationRequest, StepEvent } from './messages';
import type { TemplateId } from './notification-templates';
import { raisePriority, type Priority } from './priority';
import { staffDeliveryAtMs } from './quiet-hours';
import { cancelClock, pauseClock, resumeClock, type ClockEvent } from './sla-clock';
import type { ComplaintSlaPolicy } from './sla-policy';
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
  outcome: 'resolved' | 'withdrawn' | 'referred';
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
}

const dayMs = 24 * 3600_000;

/**
 * A complaint from intake to closure (C1–C12): four SLA clocks that pause while the user is asked
 * for information, warn at 80 % and escalate at breach; rating, dispute, arbitration, referral and
 * reopening; closure by itself once the dispute and reopen windows have passed.
 */
export const complaintCase: CaseDefinition<ComplaintInput & { workflowId: string }, ComplaintState, never, never, ComplaintAction> = {
  type: 'complaint',
  actions: complaintActions,

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
    const refused = timeRefusal(state, request.action, ctx.nowMs);
    return refused ? { ok: false, kind: 'refused', message: `cannot ${request.action}: ${refused}` } : checked;
  },

  decide(s, request, ctx) {
    const { actor } = request;
    const tell = (templateId: TemplateId, message?: string) => ({ notifications: [tellCustomer(s, `${request.action}-${ctx.step}`, templateId, message)] });
    const { firstResponse, fullResponse, preliminary } = complaintClocks;
    s.updatedAtMs = ctx.nowMs;
    switch (request.action) {
      case 'acknowledge': {
        const { message } = request.input;
        s.status = 'acknowledged';
        return steps(event('complaint.acknowledged', actor, ctx, { message }, tell('complaint.acknowledged', message)), meetClocks(s.clocks, [firstResponse], ctx));
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
        return steps(asked, meetClocks(s.clocks, [firstResponse], ctx), pauseAll(s, 'waiting for information from the user', ctx));
      }
      case 'customer-reply':
        s.status = s.statusBeforePause;
        return steps(event('complaint.customer-replied', actor, ctx, { message: request.input.message }), resumeAll(s, ctx));
      case 'report-preliminary': {
        const { finding } = request.input;
        s.status = 'preliminary-reported';
        return steps(event('complaint.preliminary-reported', actor, ctx, { finding }, tell('complaint.preliminary', finding)), meetClocks(s.clocks, [firstResponse, fullResponse, preliminary], ctx));
      }
      case 'resolve':
        s.status = 'resolved';
        s.resolution = { text: request.input.resolution, atMs: ctx.nowMs };
        return steps(
          event('complaint.resolved', actor, ctx, { resolution: s.resolution.text }, tell('complaint.resolved', s.resolution.text)),
          meetClocks(s.clocks, [firstResponse, fullResponse, preliminary, s.resultClock], ctx),
        );
      case 'rate':
        s.rating = { rating: request.input.rating, comment: request.input.comment ?? null };
        return steps(event('complaint.rated', actor, ctx, s.rating));
      case 'dispute':
        s.status = 'disputed';
        return steps(event('complaint.disputed', actor, ctx, { reason: request.input.reason }));
      case 'arbitrate': {
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
        return steps(arbitrated, upheld ? [] : [clockStartedEvent(s.clocks[s.resultClock]!, ctx)]);
      }
      case 'refer-third-party':
        s.status = 'referred';
        s.outcome = 'referred';
        s.referral = { body: request.input.body, reference: request.input.reference };
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
        return steps(event('complaint.withdrawn', actor, ctx, { reason: request.input.reason ?? null }, tell('complaint.withdrawn')), cancelAll(s, ctx));
      case 'close':
        s.status = 'closed';
        return steps(event('complaint.closed', actor, ctx, { reason: request.input.reason ?? null }, tell('complaint.closed')), cancelAll(s, ctx));
    }
  },

  onClock(s, clockEvent, ctx) {
    s.updatedAtMs = clockEvent.atMs;
    const at = new Date(clockEvent.atMs).toISOString();
    if (clockEvent.kind === 'warned') {
      const deliverAfter = new Date(staffDeliveryAtMs(clockEvent.atMs, s.policy.staffQuietHours, s.timeZone, s.calendar)).toISOString();
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

  nextWakeAtMs: windowEndsAtMs,

  onWake(s, ctx) {
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
  if (action === 'refer-third-party' && s.arbitration?.decision !== 'uphold') {
    return 'a referral to a third party follows platform arbitration that upheld the result; dispute first';
  }
  return undefined;
}

function windowEndsAtMs(s: ComplaintState): number | undefined {
  return s.status === 'resolved' && s.resolution ? s.resolution.atMs + Math.max(s.policy.disputeWindowDays, s.policy.reopenWindowDays) * dayMs : undefined;
}

function tellCustomer(s: ComplaintState, step: string, templateId: TemplateId, message?: string): NotificationRequest {
  return {
    idempotencyKey: `${s.workflowId}:${step}`,
    customerId: s.customerId,
    caseId: s.caseId,
    templateId,
    params: { caseId: s.caseId, summary: s.summary, ...(message === undefined ? {} : { message }) },
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
  const paused = Object.values(s.clocks)
    .filter((clock) => pauseClock(clock, ctx.nowMs))
    .map((clock) => clock.name);
  s.pause = { reason, sinceMs: ctx.nowMs };
  return [event('sla.paused', systemActor, ctx, { reason, since: new Date(ctx.nowMs).toISOString(), clocks: paused })];
}

function resumeAll(s: ComplaintState, ctx: CaseContext): StepEvent[] {
  const resumed = Object.values(s.clocks)
    .map((clock) => ({ clock, pausedMs: resumeClock(clock, ctx.nowMs) }))
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
