import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { listCalendarYears } from '../db/calendar-years';
import type { Sql } from '../db/sql';
import type { CalendarYear, WorkingCalendar } from '../domain/working-calendar';

const require = createRequire(import.meta.url);
const shippedPackage = 'chinese-days';

let shipped: { years: Record<string, CalendarYear>; source: string } | undefined;

/** The State Council calendar as published in the `chinese-days` package (check its last year before relying on it). */
export function shippedCalendarYears(): Record<string, CalendarYear> {
  return { ...shippedCalendar().years };
}

/** Built once per process: the package's data does not change while it runs. */
function shippedCalendar(): { years: Record<string, CalendarYear>; source: string } {
  if (shipped) return shipped;
  const data = require('chinese-days/dist/chinese-days.json') as { holidays: Record<string, string>; workdays: Record<string, string> };
  const source = `${shippedPackage}@${(require('chinese-days/package.json') as { version: string }).version}`;
  const years: Record<string, CalendarYear> = {};
  const yearOf = (date: string) => (years[date.slice(0, 4)] ??= { holidays: [], workdays: [], source });
  for (const date of Object.keys(data.holidays)) yearOf(date).holidays.push(date);
  for (const date of Object.keys(data.workdays)) yearOf(date).workdays.push(date);
  for (const year of Object.values(years)) {
    year.holidays.sort();
    year.workdays.sort();
  }
  shipped = { years, source };
  return shipped;
}

/**
 * The working calendar in force: the shipped years, overridden or extended by the years an
 * operator loaded (table calendar_years). The version names every source, so a deadline records
 * exactly which data it was computed from.
 */
export async function loadWorkingCalendar(sql: Sql): Promise<WorkingCalendar> {
  const years = shippedCalendarYears();
  const operatorRows = await listCalendarYears(sql);
  const operatorParts: string[] = [];
  for (const row of operatorRows) {
    const digest = createHash('sha256')
      .update(JSON.stringify([row.holidays, row.workdays]))
      .digest('hex')
      .slice(0, 8);
    years[String(row.year)] = { holidays: [...row.holidays].sort(), workdays: [...row.workdays].sort(), source: `operator:${digest}` };
    operatorParts.push(`${row.year}:${digest}`);
  }
  return { version: [shippedCalendar().source, ...operatorParts.map((part) => `operator ${part}`)].join(' + '), years };
}
