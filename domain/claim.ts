import { z } from 'zod';
import { nonBlank, type ActionTable, type ActionUnion } from './case-actions';
import { remedyFor, type CompensationPolicy } from './compensation-policy';
import { pastInstant } from './instants';

/** P1: what a remedy is paid as. */
export const remedyKinds = ['service-credit', 'coupon', 'points'] as const;
export type RemedyKind = (typeof remedyKinds)[number];

export const claimStatuses = ['awaiting-approval', 'approved', 'paid', 'reversed', 'rejected', 'refused', 'closed'] as const;
export type ClaimStatus = (typeof claimStatuses)[number];

/** P3: the user claims compensation themselves, for an outage (an incident) or another service failure. */
export const claimIntakeSchema = z
  .object({
    customerId: z.string().min(1).max(64),
    /** The outage claimed for; its recorded interval and any remedy already paid are used. */
    incidentId: z
      .string()
      .regex(/^INC-\d{4}-\d{6,}$/, 'an incident case number, e.g. INC-2026-000042')
      .optional(),
    /** Without an incident: when the failure claimed for happened (the window counts from here). */
    eventAt: pastInstant(365).optional(),
    reason: z.string().trim().min(1).meta(nonBlank).max(2000),
    requestedRemedy: z.object({
      kind: z.enum(remedyKinds).default('service-credit'),
      /** Cents of credit or coupon value, or points; required without an incident. */
      amount: z.number().int().positive().max(10_000_000).optional(),
    }),
    evidence: z.string().max(5000).default(''),
  })
  .refine((claim) => claim.incidentId !== undefined || claim.eventAt !== undefined, { message: 'name the incident or when the failure happened', path: ['eventAt'] })
  .refine((claim) => claim.incidentId !== undefined || claim.requestedRemedy.amount !== undefined, {
    message: 'without an incident, say how much is claimed',
    path: ['requestedRemedy', 'amount'],
  })
  .meta({ anyOf: [{ required: ['incidentId'] }, { required: ['eventAt', 'requestedRemedy'], properties: { requestedRemedy: { required: ['amount'] } } }] });
export type ClaimIntake = z.infer<typeof claimIntakeSchema>;

/** P3: what a user says when claiming from the tracking page of an outage; who and which outage come from the code. */
export const userClaimSchema = z.object({
  reason: z.string().trim().min(1).meta(nonBlank).max(2000),
  requestedRemedy: z.object({ kind: z.enum(remedyKinds).default('service-credit'), amount: z.number().int().positive().max(10_000_000).optional() }).default({ kind: 'service-credit' }),
  evidence: z.string().max(5000).default(''),
});
export type UserClaim = z.infer<typeof userClaimSchema>;

/** P3, P4: the claim terms of a compensation policy, with the shipped defaults for policies pinned before they existed. */
export function claimTerms(policy: CompensationPolicy) {
  return {
    windowDays: policy.claimWindowDays ?? 30,
    decisionWorkingDays: policy.claimDecisionWorkingDays ?? 5,
    approvalThresholdCents: policy.approvalThresholdCents ?? 10_000,
    cap: policy.claimCapPerPeriod ?? null,
  };
}

/** What intake knows about the claim's outage and the customer, read from the records by the API. */
export interface ClaimFacts {
  plan: string;
  incidentStartedAt: string | null;
  incidentEndedAt: string | null;
  /** P5: already paid to this customer for the same incident (the automatic remedy), net of reversals. */
  alreadyPaidCents: number;
  /** P1: what claims paid this customer within the policy's cap period, net of reversals (absent before caps existed). */
  paidInCapPeriodCents?: number;
}

export type ClaimAssessment =
  | { eligible: false; reason: string; windowEndsAtMs: number | null }
  | { eligible: true; windowEndsAtMs: number; amount: number; entitledCents: number | null; alreadyPaidCents: number; approvalRequired: boolean; basis: string };

const dayMs = 24 * 3600_000;

/**
 * P2–P4: whether a claim is inside its window, what it may be paid, and whether a supervisor must
 * approve it. For an outage, the policy's remedy for its length and the customer's plan, less what
 * was already paid for it: never more than the policy allows, never twice.
 */
export function assessClaim(claim: Pick<ClaimIntake, 'incidentId' | 'eventAt' | 'requestedRemedy'>, facts: ClaimFacts, policy: CompensationPolicy, claimedAtMs: number): ClaimAssessment {
  const terms = claimTerms(policy);
  if (claim.incidentId !== undefined && facts.incidentEndedAt === null) {
    return { eligible: false, reason: `outage ${claim.incidentId} has not ended (or is unknown); its remedy is paid on recovery`, windowEndsAtMs: null };
  }
  const eventAtMs = Date.parse(claim.incidentId !== undefined ? facts.incidentEndedAt! : claim.eventAt!);
  const windowEndsAtMs = eventAtMs + terms.windowDays * dayMs;
  if (claimedAtMs > windowEndsAtMs) {
    return { eligible: false, reason: `the ${terms.windowDays}-day claim window ended at ${new Date(windowEndsAtMs).toISOString()}`, windowEndsAtMs };
  }
  const requested = claim.requestedRemedy.amount;
  // P1: the cap per customer and period applies to money (points are not money).
  const capLeft = terms.cap && claim.requestedRemedy.kind !== 'points' ? Math.max(0, terms.cap.amountCents - (facts.paidInCapPeriodCents ?? 0)) : Number.POSITIVE_INFINITY;
  if (capLeft === 0) {
    return { eligible: false, reason: `the cap of ${terms.cap!.amountCents} cents per ${terms.cap!.periodDays} days is reached for this customer`, windowEndsAtMs };
  }
  const capped = (amount: number) => Math.min(amount, capLeft);
  if (claim.incidentId === undefined) {
    const amount = capped(requested!);
    const basis = amount < requested! ? `amount claimed, capped at ${amount} (${terms.cap!.amountCents} per ${terms.cap!.periodDays} days)` : 'amount claimed';
    return { eligible: true, windowEndsAtMs, amount, entitledCents: null, alreadyPaidCents: facts.alreadyPaidCents, approvalRequired: amount > terms.approvalThresholdCents, basis };
  }
  const outageMinutes = Math.round((Date.parse(facts.incidentEndedAt!) - Date.parse(facts.incidentStartedAt ?? facts.incidentEndedAt!)) / 60_000);
  const entitledCents = remedyFor(policy, outageMinutes, facts.plan)?.amountCents ?? 0;
  const difference = Math.max(0, entitledCents - facts.alreadyPaidCents);
  if (difference === 0) {
    return { eligible: false, reason: `already compensated in full for ${claim.incidentId} (policy ${policy.version} allows ${entitledCents} cents for ${outageMinutes} min)`, windowEndsAtMs };
  }
  const amount = capped(requested === undefined ? difference : Math.min(requested, difference));
  return {
    eligible: true,
    windowEndsAtMs,
    amount,
    entitledCents,
    alreadyPaidCents: facts.alreadyPaidCents,
    approvalRequired: amount > terms.approvalThresholdCents,
    basis: `${outageMinutes} min outage on plan ${facts.plan} under ${policy.version}, less ${facts.alreadyPaidCents} already paid`,
  };
}

const supervisor = ['supervisor'] as const;
const staff = ['agent', 'supervisor'] as const;
const text = (max = 2000) => z.string().trim().min(1).meta(nonBlank).max(max);

export const claimActions = {
  approve: {
    roles: supervisor,
    from: ['awaiting-approval'],
    input: z.object({ amount: z.number().int().positive().max(10_000_000).optional(), note: z.string().trim().max(2000).optional() }),
    describe: 'a supervisor approves a claim above the threshold, optionally for a lower amount (P4)',
  },
  reject: {
    roles: supervisor,
    from: ['awaiting-approval'],
    input: z.object({ reason: text() }),
    describe: 'a supervisor rejects the claim, with the reason the user is told (P4)',
  },
  reverse: {
    roles: supervisor,
    from: ['paid'],
    input: z.object({ reason: text() }),
    describe: 'undo a mistaken payment with a reversal entry, never a deletion (P6)',
  },
  repay: {
    roles: supervisor,
    from: ['reversed'],
    input: z.object({ amount: z.number().int().positive().max(10_000_000), reason: text() }),
    describe: 'pay the corrected amount after a reversal (P6)',
  },
  note: {
    roles: staff,
    from: ['awaiting-approval', 'approved', 'paid', 'reversed'],
    input: z.object({ text: text(4000) }),
    describe: 'internal note, not shown to the user',
  },
  withdraw: {
    roles: ['agent', 'supervisor', 'customer'],
    from: ['awaiting-approval'],
    input: z.object({ reason: z.string().trim().max(2000).optional() }),
    describe: 'the user withdraws the claim',
  },
  close: {
    roles: staff,
    from: ['paid', 'reversed', 'rejected'],
    input: z.object({ reason: z.string().trim().max(1000).optional() }),
    describe: 'close the claim (it closes by itself 30 days after its last payment or rejection)',
  },
} satisfies ActionTable<ClaimStatus>;

export type ClaimAction = ActionUnion<typeof claimActions>;

export function claimNextStep(status: ClaimStatus): string | null {
  switch (status) {
    case 'awaiting-approval':
      return 'A supervisor approves or rejects the claim';
    case 'approved':
      return 'The remedy is being paid';
    case 'paid':
      return 'Paid; the claim closes by itself after 30 days';
    case 'reversed':
      return 'A supervisor repays the corrected amount or closes the claim';
    case 'rejected':
    case 'refused':
      return 'The user was told why; the claim closes';
    case 'closed':
      return null;
  }
}

/** What a claim shows in `details` (the claim part of domain/case-details.ts). */
export const claimDetailsSchema = z.object({
  incidentId: z.string().nullable(),
  reason: z.string(),
  evidence: z.string(),
  requestedRemedy: z.object({ kind: z.enum(remedyKinds), amount: z.number().nullable() }),
  eligible: z.boolean(),
  refusedReason: z.string().nullable(),
  windowEndsAt: z.string().nullable(),
  entitledAmount: z.number().nullable(),
  alreadyPaidAmount: z.number().nullable(),
  basis: z.string().nullable(),
  amountDue: z.number(),
  currency: z.string(),
  policyVersion: z.string(),
  approval: z.object({
    required: z.boolean(),
    decision: z.enum(['approved', 'rejected', 'automatic']).nullable(),
    by: z.string().nullable(),
    at: z.string().nullable(),
    note: z.string().nullable(),
  }),
  payments: z.array(z.object({ entryId: z.number(), amount: z.number(), at: z.string(), reversedBy: z.number().nullable(), reason: z.string().nullable() })),
});
export type ClaimDetails = z.infer<typeof claimDetailsSchema>;
