import { DateTime } from 'luxon';

/** O9: the availability target from g3. */
export const availabilityTargetPercent = 99.9;

export interface OutageInterval {
  caseId: string;
  startedAtMs: number;
  /** Null while the outage is still going on. */
  endedAtMs: number | null;
}

export interface MonthlyAvailability {
  month: string;
  periodStart: string;
  periodEnd: string;
  minutesInPeriod: number;
  downtimeMinutes: number;
  availabilityPercent: number;
  targetPercent: number;
  met: boolean;
  incidents: string[];
}

/** The month `YYYY-MM` as [start, end) in the provider's zone. */
export function monthPeriod(month: string, timeZone: string): { startMs: number; endMs: number } {
  const start = DateTime.fromFormat(month, 'yyyy-MM', { zone: timeZone });
  if (!start.isValid) throw new Error(`month must look like 2026-11, got '${month}'`);
  return { startMs: start.toMillis(), endMs: start.plus({ months: 1 }).toMillis() };
}

/**
 * O9: availability of one service over a month, from its incidents. Overlapping incidents count
 * once (their union), an ongoing one counts until `nowMs`, and a month still running is measured
 * up to `nowMs`.
 */
export function monthlyAvailability(month: string, timeZone: string, outages: readonly OutageInterval[], nowMs: number): MonthlyAvailability {
  const { startMs, endMs: monthEndMs } = monthPeriod(month, timeZone);
  const endMs = Math.max(startMs, Math.min(monthEndMs, nowMs));
  const clipped = outages
    .map((outage) => ({ caseId: outage.caseId, from: Math.max(outage.startedAtMs, startMs), to: Math.min(outage.endedAtMs ?? nowMs, endMs) }))
    .filter((interval) => interval.to > interval.from)
    .sort((a, b) => a.from - b.from);
  let downtimeMs = 0;
  let currentFrom = -Infinity;
  let currentTo = -Infinity;
  for (const interval of clipped) {
    if (interval.from > currentTo) {
      if (currentTo > currentFrom) downtimeMs += currentTo - currentFrom;
      currentFrom = interval.from;
      currentTo = interval.to;
    } else currentTo = Math.max(currentTo, interval.to);
  }
  if (currentTo > currentFrom) downtimeMs += currentTo - currentFrom;
  const periodMs = endMs - startMs;
  const availabilityPercent = periodMs === 0 ? 100 : Math.round((1 - downtimeMs / periodMs) * 1e6) / 1e4;
  return {
    month,
    periodStart: new Date(startMs).toISOString(),
    periodEnd: new Date(endMs).toISOString(),
    minutesInPeriod: Math.round(periodMs / 60_000),
    downtimeMinutes: Math.round(downtimeMs / 60_000),
    availabilityPercent,
    targetPercent: availabilityTargetPercent,
    met: availabilityPercent >= availabilityTargetPercent,
    incidents: [...new Set(clipped.map((interval) => interval.caseId))],
  };
}
