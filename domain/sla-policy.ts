import type { CompensationPolicy } from './compensation-policy';
import type { IncidentPolicy } from './incident-policy';
import type { Priority } from './priority';

/**
 * The complaint SLA policy. Its version is pinned into each case when it opens, so a case keeps
 * the promises it was opened under and a replay computes the same deadlines.
 */
export interface ComplaintSlaPolicy {
  version: string;
  /** C3 (P1) and C4 (others): minutes until the first response to the user. */
  firstResponseMinutes: Record<Priority, number>;
  /** C5: minutes until the full response for a major (complex) issue. */
  majorFullResponseMinutes: number;
  /** C6: working days until the preliminary finding is reported to the user. */
  preliminaryWorkingDays: number;
  /** C7: working days until the processing result is given to the user. */
  resultWorkingDays: number;
  /** C9: the share of a clock after which a warning is raised. */
  warnAtFraction: number;
  /** C11, C12: days after the result during which the user may dispute or reopen; then the case closes. */
  disputeWindowDays: number;
  reopenWindowDays: number;
  /** C9: staff warnings inside these local hours wait for the next working hour; null = deliver at once. */
  staffQuietHours: { from: string; to: string } | null;
  /** C14: a user asked for information is reminded after this many days, and the case closes after the second figure. Optional: cases opened before 0.3 lack them. */
  awaitingCustomerReminderDays?: number;
  awaitingCustomerCloseDays?: number;
  /** C14: a dispute is arbitrated within this many working days. */
  arbitrationWorkingDays?: number;
  /** C14: while referred to a third party, staff are reminded this often. */
  referralReminderDays?: number;
}

/** C14's figures, with the shipped defaults for cases whose pinned policy predates them. */
export function waitingPolicy(policy: ComplaintSlaPolicy) {
  return {
    awaitingCustomerReminderDays: policy.awaitingCustomerReminderDays ?? 3,
    awaitingCustomerCloseDays: policy.awaitingCustomerCloseDays ?? 14,
    arbitrationWorkingDays: policy.arbitrationWorkingDays ?? 5,
    referralReminderDays: policy.referralReminderDays ?? 7,
  };
}

export const defaultComplaintSlaPolicy: ComplaintSlaPolicy = {
  version: 'complaint-sla/2026.3',
  firstResponseMinutes: { P1: 60, P2: 24 * 60, P3: 24 * 60, P4: 24 * 60 },
  majorFullResponseMinutes: 48 * 60,
  preliminaryWorkingDays: 3,
  resultWorkingDays: 5,
  warnAtFraction: 0.8,
  disputeWindowDays: 7,
  reopenWindowDays: 7,
  staffQuietHours: { from: '22:00', to: '08:00' },
  awaitingCustomerReminderDays: 3,
  awaitingCustomerCloseDays: 14,
  arbitrationWorkingDays: 5,
  referralReminderDays: 7,
};

export interface DeploymentPolicies {
  /** All deadlines are computed and shown in the provider's zone. */
  timeZone: string;
  complaintSla: ComplaintSlaPolicy;
  /** O4–O6 and the fan-out sizes. */
  incident: IncidentPolicy;
  /** P1: outage remedies. */
  compensation: CompensationPolicy;
}
