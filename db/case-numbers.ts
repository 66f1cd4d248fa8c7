import type { Sql } from './sql';

/** C1: the next case number (sequence `case_number_seq`, shared by every case type); callers format it with formatCaseId. */
export async function nextCaseNumber(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: string }[]>`select nextval('case_number_seq') as n`;
  return Number(row!.n);
}
