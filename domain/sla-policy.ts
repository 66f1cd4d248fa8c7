import type { Priority } from './priority';

/**
 * The complaint SLA policy. Its version is pinned into each case when it opens, so a case keeps
 * the promises it was opened under and a replay computes the same deadlines.
 */
export interface ComplaintSlaPolicy {
  version: string;
  /** C3 (P1) and C4 (others): minutes until the first response to the user. */
  firstResponseMinutes: Record<Priority, number>;
  /** C9: the share of a clock after which a warning is raised. */
  warnAtFraction: number;
}

export const defaultComplaintSlaPolicy: ComplaintSlaPolicy = {
  version: 'complaint-sla/2026.1',
  firstResponseMinutes: { P1: 60, P2: 24 * 60, P3: 24 * 60, P4: 24 * 60 },
  warnAtFraction: 0.8,
};

export interface DeploymentPolicies {
  /** All deadlines are computed and shown in the provider's zone. */
  timeZone: string;
  complaintSla: ComplaintSlaPolicy;
}
