import { z } from 'zod';

// D2: how long Pledge keeps the personal data of closed cases, and what "closed" means for every
// case type. Pure: the purge workflow computes its cutoff from here, the SQL reads the statuses.

/** The statuses each case type ends in (domain/*-case.ts `isClosed`): nothing more happens to such a case. */
export const finalCaseStatuses = ['closed', 'withdrawn', 'completed', 'cancelled', 'overran', 'refused'] as const;

export function caseIsFinished(status: string): boolean {
  return (finalCaseStatuses as readonly string[]).includes(status);
}

/** The retention figures of a deployment; the version is recorded with every purge run. */
export interface RetentionPolicy {
  version: string;
  /** D2: a closed case keeps its personal data at least this many years after it closed. */
  closedCaseYears: number;
  /** Cases (and messages) purged per transaction: one activity per page. */
  pageSize: number;
  /** When the daily purge runs, provider time ("HH:MM"). */
  runAt: string;
}

export const defaultRetentionPolicy: RetentionPolicy = { version: 'retention/2026.1', closedCaseYears: 3, pageSize: 500, runAt: '03:00' };

/** A deployment's overrides (PLEDGE_POLICY_FILE, key `retention`); D2 forbids fewer than 3 years. */
export const retentionPolicyOverridesSchema = z.object({
  version: z.string().min(1),
  closedCaseYears: z.number().int().min(3, 'D2: records are kept at least 3 years').max(100).optional(),
  pageSize: z.number().int().min(1).max(10_000).optional(),
  runAt: z
    .string()
    .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'local time as HH:MM')
    .optional(),
});

/** D2: cases closed before this instant are past retention (the same day and time, `years` earlier, UTC). */
export function retentionCutoffMs(nowMs: number, years: number): number {
  const cutoff = new Date(nowMs);
  cutoff.setUTCFullYear(cutoff.getUTCFullYear() - years);
  return cutoff.getTime();
}

/** What a purge leaves in a case's read model instead of its summary. */
export function purgedSummary(caseId: string, type: string, purgedAtIso: string): string {
  return `${caseId} · ${type} · personal data purged ${purgedAtIso.slice(0, 10)} (D2)`;
}
