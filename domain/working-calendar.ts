import { DateTime } from 'luxon';

/**
 * Mainland-China working days: Monday–Friday, minus statutory holidays, plus the adjusted
 * working weekends (调休) the State Council publishes each year. The calendar is data, passed in
 * whole so a workflow computes the same deadline on every replay; its version travels with each
 * deadline it produced.
 */
export interface CalendarYear {
  /** Days off that would otherwise be working days (YYYY-MM-DD). */
  holidays: string[];
  /** Weekend days that are working days (调休). */
  workdays: string[];
  /** Where the year's data came from, e.g. `chinese-days@1.5.7` or `operator`. */
  source: string;
}

export interface WorkingCalendar {
  version: string;
  years: Record<string, CalendarYear>;
}

export interface WorkingDayDeadline {
  dueAtMs: number;
  /** True when a day counted lies in a year the calendar does not cover: weekends alone were used. */
  provisional: boolean;
  calendarVersion: string;
  /** Years the deadline would need to stop being provisional. */
  missingYears: number[];
}

export function isWorkingDay(calendar: WorkingCalendar, date: DateTime): { working: boolean; covered: boolean } {
  const year = calendar.years[String(date.year)];
  const isoDate = date.toISODate()!;
  const weekend = date.weekday >= 6;
  if (!year) return { working: !weekend, covered: false };
  if (year.workdays.includes(isoDate)) return { working: true, covered: true };
  if (year.holidays.includes(isoDate)) return { working: false, covered: true };
  return { working: !weekend, covered: true };
}

/**
 * C6/C7: "within N working days" of `fromMs` ends at the close (24:00 local) of the Nth working
 * day after the day it started, in the provider's zone.
 */
export function addWorkingDays(calendar: WorkingCalendar, fromMs: number, workingDays: number, timeZone: string): WorkingDayDeadline {
  let day = DateTime.fromMillis(fromMs, { zone: timeZone }).startOf('day');
  const missingYears = new Set<number>();
  let counted = 0;
  while (counted < workingDays) {
    day = day.plus({ days: 1 });
    const { working, covered } = isWorkingDay(calendar, day);
    if (!covered) missingYears.add(day.year);
    if (working) counted++;
  }
  return {
    dueAtMs: day.plus({ days: 1 }).toMillis(),
    provisional: missingYears.size > 0,
    calendarVersion: calendar.version,
    missingYears: [...missingYears].sort(),
  };
}

/** Only the years a case can reach, so a workflow's input stays small. */
export function calendarForYears(calendar: WorkingCalendar, fromYear: number, toYear: number): WorkingCalendar {
  const years: Record<string, CalendarYear> = {};
  for (let year = fromYear; year <= toYear; year++) {
    const data = calendar.years[String(year)];
    if (data) years[String(year)] = data;
  }
  return { version: calendar.version, years };
}

/**
 * C6/C7: how much working time lies between two instants: only the hours of working days count
 * (a working day counts whole, 00:00–24:00 local, as "within N working days" ends at 24:00).
 */
export function workingMsBetween(calendar: WorkingCalendar, fromMs: number, toMs: number, timeZone: string): number {
  let total = 0;
  for (let day = DateTime.fromMillis(fromMs, { zone: timeZone }).startOf('day'); day.toMillis() < toMs; day = day.plus({ days: 1 })) {
    if (!isWorkingDay(calendar, day).working) continue;
    total += Math.max(0, Math.min(toMs, day.plus({ days: 1 }).toMillis()) - Math.max(fromMs, day.toMillis()));
  }
  return total;
}

/** The instant at which `workingMs` of working time has passed after `fromMs` (days off do not count). */
export function addWorkingMs(calendar: WorkingCalendar, fromMs: number, workingMs: number, timeZone: string): number {
  let left = workingMs;
  let cursor = fromMs;
  for (let day = DateTime.fromMillis(fromMs, { zone: timeZone }).startOf('day'); ; day = day.plus({ days: 1 })) {
    const dayEnd = day.plus({ days: 1 }).toMillis();
    if (isWorkingDay(calendar, day).working) {
      const available = dayEnd - Math.max(cursor, day.toMillis());
      if (left <= available) return Math.max(cursor, day.toMillis()) + left;
      left -= available;
    }
    cursor = dayEnd;
  }
}
