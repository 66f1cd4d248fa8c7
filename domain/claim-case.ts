import { systemActor, type Actor } from './actors';
import { allowedActions } from './case-actions';
import { clockStartedEvent, clockViews, isoOrNull, meetClocks, rescheduleProvisionalClocks, workingDaysClock } from './case-clocks';
import { event, noStep, type CaseContext, type CaseDefinition, type CaseStateBase, type EffectOutcome, type Step } from './case-definition';
import type { CaseState } from './case-state';
import { assessClaim, claimActions, claimNextStep, claimTerms, type ClaimAction, type ClaimDetails, type ClaimFacts, type ClaimIntake, type ClaimStatus, type RemedyKind } from './claim';
import { formatAmount, type CompensationPolicy } from './compensation-policy';
import type { NotificationRequest, StaffNotificationRequest, StepEvent } from './messages';
import type { TemplateId } from './notification-templates';
import { cancelClock, type ClockEvent } from './sla-clock';
import type { WorkingCalendar } from './working-calendar';

export interface ClaimInput {
  caseId: string;
  customerId: string;
  incidentId: string | null;
  eventAt: string | null;
  reason: string;
  requestedRemedy: { kind: RemedyKind; amount?: number };
  evidence: string;
  facts: ClaimFacts;
  openedBy: Actor;
  /** Pinned at intake: the compensation policy (P1) with its claim terms (P3, P4). */
  policy: CompensationPolicy;
  timeZone: string;
  calendar: WorkingCalendar;
}

export interface ClaimOutcome {
  caseId: string;
  status: ClaimStatus;
  paidAmount: number;
}

/** A payment to make or undo, run by the workflow as an activity (exactly once by its key, P5). */
export type ClaimEffect =
  | { kind: 'pay'; idempotencyKey: string; customerId: string; caseId: string; remedy: RemedyKind; amount: number; currency: string; policyVersion: string }
  | { kind: 'reverse'; entryId: number; idempotencyKey: string; caseId: string; reason: string };

export interface ClaimState extends CaseStateBase {
  customerId: string;
  incidentId: string | null;
  reason: string;
  evidence: string;
  requestedRemedy: { kind: RemedyKind; amount?: number };
  policy: CompensationPolicy;
  openedAtMs: number;
  status: ClaimStatus;
  assessment: ReturnType<typeof assessClaim>;
  approval: { required: boolean; by: string | null; atMs: number | null; decision: 'approved' | 'rejected' | 'automatic' | null; note: string | null };
  /** What is owed now: the assessed amount, an approver's lower amount, or a repayment. */
  amountDue: number;
  payments: { entryId: number; amount: number; atMs: number; reversedBy: number | null; reason: string | null }[];
  paymentsMade: number;
  closesAtMs: number | null;
}

const dayMs = 24 * 3600_000;
const decisionClock = 'decision';
/** A paid, reversed or rejected claim stays open this long for a correction, then closes by itself. */
const settleDays = 30;

/**
 * A compensation claim (P1–P6): the user claims within the window; below the approval threshold it
 * is paid at once, above it a supervisor decides within 5 working days; every payment and reversal
 * is a ledger entry made exactly once, and the user is told each in writing.
 */
export const claimCase: CaseDefinition<ClaimInput & { workflowId: string }, ClaimState, ClaimEffect, never, ClaimAction> = {
  type: 'compensation',
  actions: claimActions,

  open(input, ctx) {
    const claim = { incidentId: input.incidentId ?? undefined, eventAt: input.eventAt ?? undefined, requestedRemedy: input.requestedRemedy } as Pick<
      ClaimIntake,
      'incidentId' | 'eventAt' | 'requestedRemedy'
    >;
    const assessment = assessClaim(claim, input.facts, input.policy, ctx.nowMs);
    const s: ClaimState = {
      ...(ctx.rules ? { rules: ctx.rules } : {}),
      caseId: input.caseId,
      workflowId: input.workflowId,
      clocks: {},
      calendar: input.calendar,
      timeZone: input.timeZone,
      updatedAtMs: ctx.nowMs,
      customerId: input.customerId,
      incidentId: input.incidentId,
      reason: input.reason,
      evidence: input.evidence,
      requestedRemedy: input.requestedRemedy,
      policy: input.policy,
      openedAtMs: ctx.nowMs,
      status: 'refused',
      assessment,
      approval: { required: assessment.eligible && assessment.approvalRequired, by: null, atMs: null, decision: null, note: null },
      amountDue: assessment.eligible ? assessment.amount : 0,
      payments: [],
      paymentsMade: 0,
      closesAtMs: null,
    };
    const received = event('claim.received', input.openedBy, ctx, {
      incidentId: input.incidentId,
      eventAt: input.eventAt,
      reason: input.reason,
      requestedRemedy: input.requestedRemedy,
      facts: input.facts,
      assessment,
      policyVersion: input.policy.version,
    });
    if (!assessment.eligible) {
      s.status = 'closed';
      const refused = event('claim.refused', systemActor, ctx, { reason: assessment.reason }, tell(s, 'refused', 'claim.refused', { reason: assessment.reason }));
      return { state: s, events: [received, refused] };
    }
    if (!s.approval.required) {
      s.status = 'approved';
      s.approval = { ...s.approval, decision: 'automatic', atMs: ctx.nowMs };
      const approved = event('claim.approved', systemActor, ctx, { amount: s.amountDue, automatic: true, threshold: claimTerms(s.policy).approvalThresholdCents });
      return { state: s, events: [received, approved], effects: [payment(s)] };
    }
    s.status = 'awaiting-approval';
    const clock = workingDaysClock(decisionClock, {
      policyVersion: s.policy.version,
      startedAtMs: ctx.nowMs,
      workingDays: claimTerms(s.policy).decisionWorkingDays,
      warnAtFraction: 0.8,
      calendar: s.calendar,
      timeZone: s.timeZone,
    });
    s.clocks[decisionClock] = clock;
    const waiting = event(
      'claim.awaiting-approval',
      systemActor,
      ctx,
      { amount: s.amountDue, threshold: claimTerms(s.policy).approvalThresholdCents },
      tell(s, 'received', 'claim.received', { amount: amountText(s, s.amountDue) }),
    );
    return { state: s, events: [received, waiting, clockStartedEvent(clock, ctx)] };
  },

  decide(s, request, ctx) {
    const { actor } = request;
    s.updatedAtMs = ctx.nowMs;
    switch (request.action) {
      case 'approve': {
        s.status = 'approved';
        s.amountDue = Math.min(request.input.amount ?? s.amountDue, s.amountDue);
        s.approval = { ...s.approval, by: actor.id, atMs: ctx.nowMs, decision: 'approved', note: request.input.note ?? null };
        const approved = event('claim.approved', actor, ctx, { amount: s.amountDue, note: request.input.note ?? null });
        return { events: [approved, ...meetClocks(s.clocks, [decisionClock], ctx)], effects: [payment(s)] };
      }
      case 'reject': {
        s.status = 'rejected';
        s.closesAtMs = ctx.nowMs + settleDays * dayMs;
        s.approval = { ...s.approval, by: actor.id, atMs: ctx.nowMs, decision: 'rejected', note: request.input.reason };
        const rejected = event('claim.rejected', actor, ctx, { reason: request.input.reason }, tell(s, `reject-${ctx.step}`, 'claim.rejected', { reason: request.input.reason }));
        return { events: [rejected, ...meetClocks(s.clocks, [decisionClock], ctx)] };
      }
      case 'reverse': {
        const last = s.payments.at(-1)!;
        return {
          events: [event('claim.reversal-requested', actor, ctx, { entryId: last.entryId, reason: request.input.reason })],
          effects: [{ kind: 'reverse', entryId: last.entryId, idempotencyKey: `${s.workflowId}:reversal:${last.entryId}`, caseId: s.caseId, reason: request.input.reason }],
        };
      }
      case 'repay':
        s.status = 'approved';
        s.amountDue = request.input.amount;
        return { events: [event('claim.repayment-approved', actor, ctx, { amount: request.input.amount, reason: request.input.reason })], effects: [payment(s)] };
      case 'note':
        return { events: [event('claim.note', actor, ctx, { text: request.input.text })] };
      case 'withdraw':
        s.status = 'closed';
        return { events: [event('claim.withdrawn', actor, ctx, { reason: request.input.reason ?? null }), ...cancelAll(s, ctx)] };
      case 'close':
        s.status = 'closed';
        return { events: [event('claim.closed', actor, ctx, { reason: request.input.reason ?? null })] };
    }
  },

  onEffectDone(s, effect, outcome, ctx) {
    s.updatedAtMs = ctx.nowMs;
    if (!outcome.ok) return failed(s, effect, outcome, ctx);
    if (effect.kind === 'pay') {
      const { entryId } = outcome.result as { entryId: number };
      s.status = 'paid';
      s.paymentsMade++;
      s.closesAtMs = ctx.nowMs + settleDays * dayMs;
      s.payments = [...s.payments, { entryId, amount: effect.amount, atMs: ctx.nowMs, reversedBy: null, reason: null }];
      const paid = event(
        'claim.paid',
        systemActor,
        ctx,
        { entryId, amount: effect.amount, remedy: effect.remedy, currency: effect.currency, policyVersion: effect.policyVersion, ledgerKey: effect.idempotencyKey },
        tell(s, `paid-${entryId}`, 'claim.paid', { amount: amountText(s, effect.amount), policyVersion: effect.policyVersion }),
      );
      return { events: [paid] };
    }
    const { reversalId } = outcome.result as { reversalId: number };
    s.status = 'reversed';
    s.payments = s.payments.map((entry) => (entry.entryId === effect.entryId ? { ...entry, reversedBy: reversalId, reason: effect.reason } : entry));
    const amount = s.payments.find((entry) => entry.entryId === effect.entryId)?.amount ?? 0;
    const reversed = event(
      'claim.reversed',
      systemActor,
      ctx,
      { entryId: effect.entryId, reversalId, amount, reason: effect.reason },
      tell(s, `reversed-${reversalId}`, 'claim.reversed', { amount: amountText(s, amount), reason: effect.reason }),
    );
    return { events: [reversed] };
  },

  onClock(s, clockEvent, ctx) {
    s.updatedAtMs = clockEvent.atMs;
    const breached = clockEvent.kind === 'breached';
    const message = staffMessage(s, clockEvent, breached ? 'supervisor' : 'agent', `${s.caseId}: claim decision ${breached ? 'overdue' : 'due soon'}`);
    return { events: [event(breached ? 'sla.breached' : 'sla.warned', systemActor, ctx, { clock: clockEvent.clock, at: new Date(clockEvent.atMs).toISOString() }, { staffNotifications: [message] })] };
  },

  nextWakeAtMs: (s) => (s.status === 'paid' || s.status === 'reversed' || s.status === 'rejected' ? (s.closesAtMs ?? undefined) : undefined),

  onWake(s, ctx) {
    if (s.closesAtMs === null || ctx.nowMs < s.closesAtMs) return noStep;
    s.status = 'closed';
    return { events: [event('claim.closed', systemActor, ctx, { reason: `settled ${settleDays} days ago` })] };
  },

  onCalendar(s, calendar, ctx) {
    s.calendar = calendar;
    return { events: rescheduleProvisionalClocks(s.clocks, calendar, s.timeZone, 0.8, ctx) };
  },

  view(s) {
    const assessment = s.assessment;
    return {
      caseId: s.caseId,
      workflowId: s.workflowId,
      type: 'compensation',
      status: s.status,
      priority: null,
      customerId: s.customerId,
      summary: `Claim${s.incidentId ? ` for ${s.incidentId}` : ''}: ${s.reason}`.slice(0, 200),
      openedAt: new Date(s.openedAtMs).toISOString(),
      updatedAt: new Date(s.updatedAtMs).toISOString(),
      slaBreached: Object.values(s.clocks).some((clock) => clock.breachedAtMs !== undefined),
      deadlines: clockViews(s.clocks),
      nextStep: claimNextStep(s.status),
      expectedCompletionAt: isoOrNull(s.clocks[decisionClock]?.state === 'running' ? s.clocks[decisionClock].dueAtMs : null),
      allowedActions: allowedActions(claimActions, s.status),
      details: {
        incidentId: s.incidentId,
        reason: s.reason,
        evidence: s.evidence,
        requestedRemedy: { kind: s.requestedRemedy.kind, amount: s.requestedRemedy.amount ?? null },
        eligible: assessment.eligible,
        refusedReason: assessment.eligible ? null : assessment.reason,
        windowEndsAt: isoOrNull(assessment.windowEndsAtMs),
        entitledAmount: assessment.eligible ? assessment.entitledCents : null,
        alreadyPaidAmount: assessment.eligible ? assessment.alreadyPaidCents : null,
        basis: assessment.eligible ? assessment.basis : null,
        amountDue: s.amountDue,
        currency: s.policy.currency,
        policyVersion: s.policy.version,
        approval: { required: s.approval.required, decision: s.approval.decision, by: s.approval.by, at: isoOrNull(s.approval.atMs), note: s.approval.note },
        payments: s.payments.map((entry) => ({ entryId: entry.entryId, amount: entry.amount, at: new Date(entry.atMs).toISOString(), reversedBy: entry.reversedBy, reason: entry.reason })),
      } satisfies ClaimDetails,
    } satisfies CaseState;
  },

  isClosed: (s) => s.status === 'closed',
};

export function claimOutcome(s: ClaimState): ClaimOutcome {
  return { caseId: s.caseId, status: s.status, paidAmount: s.payments.filter((entry) => entry.reversedBy === null).reduce((sum, entry) => sum + entry.amount, 0) };
}

function payment(s: ClaimState): ClaimEffect {
  // One key per payment of this claim: a retried activity or a replayed workflow pays it once (P5).
  return {
    kind: 'pay',
    idempotencyKey: `${s.workflowId}:payment:${s.paymentsMade + 1}`,
    customerId: s.customerId,
    caseId: s.caseId,
    remedy: s.requestedRemedy.kind,
    amount: s.amountDue,
    currency: s.policy.currency,
    policyVersion: s.policy.version,
  };
}

function failed(s: ClaimState, effect: ClaimEffect, outcome: Extract<EffectOutcome, { ok: false }>, ctx: CaseContext): Step<ClaimEffect> {
  const what = effect.kind === 'pay' ? 'payment' : 'reversal';
  const message: StaffNotificationRequest = {
    idempotencyKey: `${s.workflowId}:${what}-failed:${ctx.step}`,
    role: 'supervisor',
    kind: `claim.${what}-failed`,
    subject: `${s.caseId}: the ${what} failed`,
    body: `${outcome.message.slice(0, 500)}. Claim: ${s.reason}`,
    occurredAt: new Date(ctx.nowMs).toISOString(),
    deliverAfter: new Date(ctx.nowMs).toISOString(),
  };
  return { events: [event(`claim.${what}-failed`, systemActor, ctx, { error: outcome.message.slice(0, 1000) }, { staffNotifications: [message] })] };
}

function cancelAll(s: ClaimState, ctx: CaseContext): StepEvent[] {
  const cancelled = Object.values(s.clocks)
    .filter(cancelClock)
    .map((clock) => clock.name);
  return cancelled.length > 0 ? [event('sla.cancelled', systemActor, ctx, { clocks: cancelled })] : [];
}

function amountText(s: ClaimState, amount: number): string {
  return s.requestedRemedy.kind === 'points' ? `${amount} points` : formatAmount(amount, s.policy.currency);
}

function tell(s: ClaimState, step: string, templateId: TemplateId, params: Record<string, string>): { notifications: NotificationRequest[] } {
  return { notifications: [{ idempotencyKey: `${s.workflowId}:${step}`, customerId: s.customerId, caseId: s.caseId, templateId, params: { caseId: s.caseId, ...params } }] };
}

function staffMessage(s: ClaimState, clockEvent: ClockEvent, role: 'agent' | 'supervisor', subject: string): StaffNotificationRequest {
  return {
    idempotencyKey: `${s.workflowId}:sla.${clockEvent.kind}:${clockEvent.clock}:${clockEvent.atMs}`,
    role,
    kind: `sla.${clockEvent.kind}`,
    subject,
    body: `${subject}: ${s.amountDue} ${s.policy.currency} claimed for ${s.incidentId ?? 'a service failure'} (P3, P4).`,
    occurredAt: new Date(clockEvent.atMs).toISOString(),
    deliverAfter: new Date(clockEvent.atMs).toISOString(),
  };
}
