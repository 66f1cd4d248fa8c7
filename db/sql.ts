import type postgres from 'postgres';

/** What every query function takes first: the pool, or the transaction it should run in. */
export type Sql = postgres.Sql | postgres.TransactionSql;

/**
 * Runs `work` in a transaction: a new one on a pool, the caller's own inside a transaction (so a
 * function that needs one composes into a larger transaction instead of escaping it).
 */
export async function inTransaction<T>(sql: Sql, work: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  if ('begin' in sql) return (await sql.begin((tx) => work(tx))) as T;
  return work(sql);
}
