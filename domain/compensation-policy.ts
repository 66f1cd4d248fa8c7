/**
 * P1: a versioned compensation policy that maps an outage's duration (and the customer's plan) to
 * a remedy. The version is pinned into the incident when it opens and recorded on every ledger
 * row it pays (P2). The Compensation issue adds claims and approvals on top of the same policy.
 */
export interface CompensationTier {
  /** The tier applies to outages at least this long. */
  minOutageMinutes: number;
  /** Days of the plan's monthly fee credited. */
  creditDays: number;
}

export interface CompensationPolicy {
  version: string;
  currency: string;
  /** Ascending by minOutageMinutes; an outage shorter than the first tier earns nothing. */
  tiers: CompensationTier[];
  /** Monthly fee per plan, in cents; the credit is fee × creditDays / 30. */
  planMonthlyFeeCents: Record<string, number>;
  /** For plans not listed above. */
  defaultMonthlyFeeCents: number;
  /** Plans with a stronger promise (e.g. business lines) get a multiple of the credit. */
  planMultiplier: Record<string, number>;
  /** P3: days after the outage (or the failure claimed for) during which a user may claim. Optional: policies pinned before claims lack it. */
  claimWindowDays?: number;
  /** P3: a claim is decided within this many working days. */
  claimDecisionWorkingDays?: number;
  /** P4: claims above this amount (cents, coupon value or points) need a supervisor's approval; at or below it they are paid at once. */
  approvalThresholdCents?: number;
  /** P1: what claims may pay one customer within a rolling period (money kinds, net of reversals). */
  claimCapPerPeriod?: { periodDays: number; amountCents: number };
}

export const defaultCompensationPolicy: CompensationPolicy = {
  version: 'compensation/2026.1',
  currency: 'CNY',
  tiers: [
    { minOutageMinutes: 30, creditDays: 1 },
    { minOutageMinutes: 4 * 60, creditDays: 3 },
    { minOutageMinutes: 24 * 60, creditDays: 7 },
    { minOutageMinutes: 48 * 60, creditDays: 15 },
  ],
  planMonthlyFeeCents: { 'home-100m': 9_900, 'home-300m': 12_900, 'home-500m': 14_900, 'home-1000m': 19_900, 'business-1g': 59_900 },
  defaultMonthlyFeeCents: 9_900,
  planMultiplier: { 'business-1g': 2 },
  claimWindowDays: 30,
  claimDecisionWorkingDays: 5,
  approvalThresholdCents: 10_000,
  claimCapPerPeriod: { periodDays: 30, amountCents: 50_000 },
};

export interface Remedy {
  kind: 'service-credit';
  creditDays: number;
  amountCents: number;
  currency: string;
  policyVersion: string;
}

/** O8/P1: the remedy for one customer, or null when the outage is below the first tier. */
export function remedyFor(policy: CompensationPolicy, outageMinutes: number, plan: string): Remedy | null {
  const tier = [...policy.tiers].reverse().find((candidate) => outageMinutes >= candidate.minOutageMinutes);
  if (!tier) return null;
  const monthlyFee = policy.planMonthlyFeeCents[plan] ?? policy.defaultMonthlyFeeCents;
  const creditDays = tier.creditDays * (policy.planMultiplier[plan] ?? 1);
  return { kind: 'service-credit', creditDays, amountCents: Math.round((monthlyFee * creditDays) / 30), currency: policy.currency, policyVersion: policy.version };
}

/** "¥4.97": amounts in notices are written the same in every locale. */
export function formatAmount(amountCents: number, currency: string): string {
  const symbol = currency === 'CNY' ? '¥' : `${currency} `;
  return `${symbol}${(amountCents / 100).toFixed(2)}`;
}
