/**
 * The incident policy, pinned into each incident when it opens (like the complaint SLA policy), so
 * an incident keeps the promises it was opened under and a replay computes the same deadlines.
 */
export interface IncidentPolicy {
  version: string;
  /** O4: affected users are told within this many minutes of the outage's start. */
  noticeWithinMinutes: number;
  /** O4: Pledge publishes the drafted notice itself this long before the notice deadline. */
  noticeSafetyMarginMinutes: number;
  /** O5: repair finished within this many minutes of the start. */
  repairWithinMinutes: number;
  /** O5: the share of a clock after which a warning is raised. */
  warnAtFraction: number;
  /** O5: while open, a reminder to post an update when none was posted for this long. */
  updateEveryMinutes: number;
  /** O6: the post-incident review is due this many working days after recovery. */
  reviewWithinWorkingDays: number;
  /** O6: while the review is pending, a reminder this often. */
  reviewReminderEveryMinutes: number;
  /** Fan-out: customers per activity, and pages per run of the fan-out workflow before continue-as-new. */
  fanoutPageSize: number;
  fanoutPagesPerRun: number;
  /** The incident continues as new once a run's history is this long (an alert storm stays bounded). */
  maxHistoryEventsPerRun?: number;
}

export const defaultIncidentPolicy: IncidentPolicy = {
  version: 'incident/2026.1',
  noticeWithinMinutes: 120,
  noticeSafetyMarginMinutes: 15,
  repairWithinMinutes: 48 * 60,
  warnAtFraction: 0.8,
  updateEveryMinutes: 4 * 60,
  reviewWithinWorkingDays: 5,
  reviewReminderEveryMinutes: 24 * 60,
  fanoutPageSize: 1000,
  fanoutPagesPerRun: 10,
  maxHistoryEventsPerRun: 8_000,
};

export interface NoticeSchedule {
  /** O4: start + 2 h. */
  dueAtMs: number;
  /** Start + 2 h − safety margin: Pledge publishes here if nobody has. */
  autoPublishAtMs: number;
}

export function noticeSchedule(policy: IncidentPolicy, startedAtMs: number): NoticeSchedule {
  const dueAtMs = startedAtMs + policy.noticeWithinMinutes * 60_000;
  return { dueAtMs, autoPublishAtMs: dueAtMs - policy.noticeSafetyMarginMinutes * 60_000 };
}
