import type { Sql } from './sql';

// Idempotency-Key of the opening routes (table `idempotency_keys`): which case a key opened, and
// the hash of the request that used it first.

export interface IdempotencyKeyRecord {
  caseId: string;
  requestHash: string;
}

export async function findIdempotencyKey(sql: Sql, scope: string, key: string): Promise<IdempotencyKeyRecord | undefined> {
  const [row] = await sql<{ case_id: string; request_hash: string }[]>`
    select case_id, request_hash from idempotency_keys where scope = ${scope} and key = ${key}`;
  return row ? { caseId: row.case_id, requestHash: row.request_hash } : undefined;
}

/**
 * Ties `key` to `caseId` unless the key is already taken, and answers whichever record holds the
 * key now: the caller's (`claimed: true`) or the one a concurrent or earlier request stored.
 */
export async function claimIdempotencyKey(sql: Sql, input: { scope: string; key: string; requestHash: string; caseId: string }): Promise<IdempotencyKeyRecord & { claimed: boolean }> {
  await sql`
    insert into idempotency_keys (scope, key, request_hash, case_id)
    values (${input.scope}, ${input.key}, ${input.requestHash}, ${input.caseId})
    on conflict (scope, key) do nothing`;
  const row = await findIdempotencyKey(sql, input.scope, input.key);
  if (!row) throw new Error(`idempotency key ${input.scope}/${input.key} vanished right after it was stored`);
  return { ...row, claimed: row.caseId === input.caseId };
}
