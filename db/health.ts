import type { Sql } from './sql';

/** Readiness: Postgres answers a query. */
export async function pingDatabase(sql: Sql): Promise<void> {
  await sql`select 1`;
}
