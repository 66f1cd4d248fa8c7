import { randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import { trackingCodeAlphabet, trackingCodeLength } from '../domain/tracking';
import type { Sql } from './sql';

// C8: tracking codes (table `tracking_codes`): one live code per (case, customer), created with the
// first message of the case to that customer, in the transaction that queues it; revocable.

export interface TrackingCode {
  code: string;
  caseId: string;
  customerId: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface TrackingPair {
  caseId: string;
  customerId: string;
}

/** 100 random bits: each byte's low 5 bits pick one of 32 characters, so every character is uniform. */
export function newTrackingCode(): string {
  return newTrackingCodes(1)[0]!;
}

/** `count` fresh codes from one draw of the system's CSPRNG (a fan-out page asks for thousands). */
export function newTrackingCodes(count: number): string[] {
  const bytes = randomBytes(count * trackingCodeLength);
  return Array.from({ length: count }, (_, index) => {
    let code = '';
    for (let offset = index * trackingCodeLength; offset < (index + 1) * trackingCodeLength; offset++) code += trackingCodeAlphabet[bytes[offset]! & 31];
    return code;
  });
}

export const trackingPairKey = (pair: TrackingPair) => JSON.stringify([pair.caseId, pair.customerId]);

/**
 * The live code of each (case, customer), created where there is none: one statement for the whole
 * set (fresh candidates inserted, existing live codes read). Call it inside the transaction that
 * queues the messages, so a code exists exactly when a message carrying it does. A pair the
 * statement could not see (a concurrent transaction created its code meanwhile, or a candidate
 * collided) is asked again in a new statement. Keyed by trackingPairKey.
 */
export async function ensureTrackingCodes(sql: Sql, pairs: readonly TrackingPair[]): Promise<Map<string, string>> {
  const codes = new Map<string, string>();
  let missing = [...new Map(pairs.map((pair) => [trackingPairKey(pair), pair])).values()];
  for (let attempt = 0; attempt < 3 && missing.length > 0; attempt++) {
    const fresh = newTrackingCodes(missing.length);
    const candidates = missing.map((pair, index) => ({ case_id: pair.caseId, customer_id: pair.customerId, code: fresh[index]! }));
    const rows = await sql<{ case_id: string; customer_id: string; code: string }[]>`
      with candidate as (
        select * from jsonb_to_recordset(${sql.json(candidates as unknown as postgres.JSONValue)}) as c(case_id text, customer_id text, code text)
      ),
      fresh as (
        insert into tracking_codes (code, case_id, customer_id)
        select code, case_id, customer_id from candidate
        on conflict do nothing
        returning case_id, customer_id, code
      )
      select case_id, customer_id, code from fresh
      union all
      select t.case_id, t.customer_id, t.code
      from tracking_codes t join candidate c on t.case_id = c.case_id and t.customer_id = c.customer_id
      where t.revoked_at is null`;
    for (const row of rows) codes.set(trackingPairKey({ caseId: row.case_id, customerId: row.customer_id }), row.code);
    missing = missing.filter((pair) => !codes.has(trackingPairKey(pair)));
  }
  if (missing.length > 0) throw new Error(`no tracking code could be created for ${missing.length} (case, customer) pairs, e.g. ${trackingPairKey(missing[0]!)}`);
  return codes;
}

type TrackingCodeRow = { code: string; case_id: string; customer_id: string; created_at: Date; revoked_at: Date | null };

const trackingCodeOf = (row: TrackingCodeRow): TrackingCode => ({
  code: row.code,
  caseId: row.case_id,
  customerId: row.customer_id,
  createdAt: row.created_at.toISOString(),
  revokedAt: row.revoked_at?.toISOString() ?? null,
});

/** The code's record, revoked or not; undefined when no such code was ever issued. */
export async function findTrackingCode(sql: Sql, code: string): Promise<TrackingCode | undefined> {
  const [row] = await sql<TrackingCodeRow[]>`
    select code, case_id, customer_id, created_at, revoked_at from tracking_codes where code = ${code}`;
  return row ? trackingCodeOf(row) : undefined;
}

/**
 * Revokes a code for good (the first revocation's time and actor stay); the next message of the case
 * to that customer carries a new one. Undefined when no such code was issued.
 */
export async function revokeTrackingCode(sql: Sql, code: string, revokedBy: string): Promise<TrackingCode | undefined> {
  const [row] = await sql<TrackingCodeRow[]>`
    update tracking_codes
    set revoked_at = coalesce(revoked_at, now()), revoked_by = coalesce(revoked_by, ${revokedBy})
    where code = ${code}
    returning code, case_id, customer_id, created_at, revoked_at`;
  return row ? trackingCodeOf(row) : undefined;
}
