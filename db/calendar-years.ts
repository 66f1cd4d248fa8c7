import type { Sql } from './sql';

// Working-calendar years loaded by an operator (table `calendar_years`); shipped years are not stored.

export interface StoredCalendarYear {
  year: number;
  holidays: string[];
  workdays: string[];
}

export async function listCalendarYears(sql: Sql): Promise<StoredCalendarYear[]> {
  return sql<StoredCalendarYear[]>`select year, holidays, workdays from calendar_years order by year`;
}

/** Loads (or replaces) one year. */
export async function upsertCalendarYear(sql: Sql, input: StoredCalendarYear & { loadedBy: string }): Promise<void> {
  await sql`
    insert into calendar_years (year, holidays, workdays, loaded_by)
    values (${input.year}, ${input.holidays}, ${input.workdays}, ${input.loadedBy})
    on conflict (year) do update set holidays = excluded.holidays, workdays = excluded.workdays,
      loaded_by = excluded.loaded_by, loaded_at = now()`;
}
