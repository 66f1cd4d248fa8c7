import type postgres from 'postgres';
import { inTransaction, type Sql } from './sql';

// The ledger (table `ledger`): remedies paid, one row per idempotency key (P5); append-only in the
// database, a mistake is taken back by a reversal entry linked by `reverses_id` (P6, migration 0009).

/** P1: what a remedy is paid as (the column stays text; this is what the code writes). */
export type LedgerKind = 'service-credit' | 'coupon' | 'points';

export interface LedgerEntry {
  /** P5: one payment per key, whatever retries or restarts happen, e.g. `<workflowId>:remedy:<customerId>`. */
  idempotencyKey: string;
  customerId: string;
  caseId: string;
  kind: LedgerKind;
  amountCents: number;
  currency: string;
  /** P2: the policy version the amount was computed under. */
  policyVersion: string;
}

/** Pays a batch of entries in one statement; an entry already paid is skipped. Returns what this call added. */
export async function insertLedgerEntries(sql: Sql, entries: readonly LedgerEntry[]): Promise<{ paid: number; amountCents: number }> {
  if (entries.length === 0) return { paid: 0, amountCents: 0 };
  const rows = entries.map((entry) => ({
    idempotency_key: entry.idempotencyKey,
    customer_id: entry.customerId,
    case_id: entry.caseId,
    kind: entry.kind,
    amount_cents: entry.amountCents,
    currency: entry.currency,
    policy_version: entry.policyVersion,
  }));
  const inserted = await sql<{ amount_cents: string }[]>`
    insert into ledger (idempotency_key, customer_id, case_id, kind, amount_cents, currency, policy_version)
    select idempotency_key, customer_id, case_id, kind, amount_cents, currency, policy_version
    from jsonb_to_recordset(${sql.json(rows as unknown as postgres.JSONValue)}) as r(
      idempotency_key text, customer_id text, case_id text, kind text, amount_cents bigint, currency text, policy_version text)
    on conflict (idempotency_key) do nothing
    returning amount_cents`;
  return { paid: inserted.length, amountCents: inserted.reduce((sum, row) => sum + Number(row.amount_cents), 0) };
}

/** What is paid under these keys, whichever call paid it. */
export async function sumLedgerByKeys(sql: Sql, idempotencyKeys: readonly string[]): Promise<{ paid: number; amountCents: number }> {
  if (idempotencyKeys.length === 0) return { paid: 0, amountCents: 0 };
  const [row] = await sql<{ paid: number; amount_cents: string }[]>`
    select count(*)::int as paid, coalesce(sum(amount_cents), 0) as amount_cents
    from ledger where idempotency_key = any(${idempotencyKeys as string[]}::text[])`;
  return { paid: row!.paid, amountCents: Number(row!.amount_cents) };
}

export type LedgerRefusalCode = 'already-reversed' | 'not-found' | 'is-a-reversal' | 'key-conflict';

/**
 * P5, P6: what the ledger refuses to do, with a code the caller can act on: reverse an entry that
 * was already reversed (under another key), does not exist or is itself a reversal; or reuse an
 * idempotency key for a different entry.
 */
export class LedgerRefusal extends Error {
  override readonly name = 'LedgerRefusal';
  constructor(
    readonly code: LedgerRefusalCode,
    message: string,
    readonly entryId?: number,
  ) {
    super(message);
  }
}

export interface StoredLedgerEntry {
  id: number;
  idempotencyKey: string;
  customerId: string;
  caseId: string | null;
  kind: string;
  amountCents: number;
  currency: string;
  policyVersion: string | null;
  /** P6: set on a reversal: the entry it takes back. */
  reversesId: number | null;
  /** P6: set on an entry that was reversed: its reversal. */
  reversedById: number | null;
  /** Why a reversal or a repayment was made. */
  reason: string | null;
  createdAt: string;
}

type StoredRow = {
  id: string;
  idempotency_key: string;
  customer_id: string;
  case_id: string | null;
  kind: string;
  amount_cents: string;
  currency: string;
  policy_version: string | null;
  reverses_id: string | null;
  reversed_by_id: string | null;
  reason: string | null;
  created_at: Date;
};

const storedOf = (row: StoredRow): StoredLedgerEntry => ({
  id: Number(row.id),
  idempotencyKey: row.idempotency_key,
  customerId: row.customer_id,
  caseId: row.case_id,
  kind: row.kind,
  amountCents: Number(row.amount_cents),
  currency: row.currency,
  policyVersion: row.policy_version,
  reversesId: row.reverses_id === null ? null : Number(row.reverses_id),
  reversedById: row.reversed_by_id === null ? null : Number(row.reversed_by_id),
  reason: row.reason,
  createdAt: row.created_at.toISOString(),
});

async function selectEntries(sql: Sql, where: postgres.PendingQuery<postgres.Row[]>, tail: postgres.PendingQuery<postgres.Row[]> = sql``): Promise<StoredLedgerEntry[]> {
  const rows = await sql<StoredRow[]>`
    select e.id, e.idempotency_key, e.customer_id, e.case_id, e.kind, e.amount_cents, e.currency, e.policy_version,
           e.reverses_id, r.id as reversed_by_id, e.reason, e.created_at
    from ledger e left join ledger r on r.reverses_id = e.id
    where ${where} ${tail}`;
  return rows.map(storedOf);
}

export async function findLedgerEntry(sql: Sql, id: number): Promise<StoredLedgerEntry | undefined> {
  const [entry] = await selectEntries(sql, sql`e.id = ${id}`);
  return entry;
}

async function findLedgerEntryByKey(sql: Sql, idempotencyKey: string): Promise<StoredLedgerEntry | undefined> {
  const [entry] = await selectEntries(sql, sql`e.idempotency_key = ${idempotencyKey}`);
  return entry;
}

/**
 * P5: pays one entry, once per idempotency key. A second call with the key (a retried activity, a
 * restarted worker) inserts nothing and answers the entry the first call wrote; the key reused for
 * another customer, kind or amount is refused ('key-conflict').
 */
export async function insertLedgerEntry(sql: Sql, entry: LedgerEntry & { reason?: string | null }): Promise<{ id: number; inserted: boolean }> {
  const [row] = await sql<{ id: string }[]>`
    insert into ledger (idempotency_key, customer_id, case_id, kind, amount_cents, currency, policy_version, reason)
    values (${entry.idempotencyKey}, ${entry.customerId}, ${entry.caseId}, ${entry.kind}, ${entry.amountCents}, ${entry.currency}, ${entry.policyVersion}, ${entry.reason ?? null})
    on conflict (idempotency_key) do nothing
    returning id`;
  if (row) return { id: Number(row.id), inserted: true };
  const existing = await findLedgerEntryByKey(sql, entry.idempotencyKey);
  if (!existing) throw new Error(`ledger key ${entry.idempotencyKey} conflicted but no entry holds it`);
  if (existing.customerId !== entry.customerId || existing.kind !== entry.kind || existing.amountCents !== entry.amountCents || existing.currency !== entry.currency || existing.reversesId !== null) {
    throw new LedgerRefusal(
      'key-conflict',
      `ledger key ${entry.idempotencyKey} already pays entry ${existing.id} (${existing.customerId}, ${existing.kind}, ${existing.amountCents} ${existing.currency}), not this one`,
      existing.id,
    );
  }
  return { id: existing.id, inserted: false };
}

export interface LedgerReversal {
  /** The entry taken back. */
  entryId: number;
  /** P5: one reversal per key; a retry with the key answers the reversal it wrote. */
  idempotencyKey: string;
  /** P6: why, recorded on the reversal row. */
  reason: string;
  /** The case that reverses it (e.g. the claim), recorded on the reversal row. */
  caseId: string;
}

/**
 * P6: takes an entry back with a reversal entry (the opposite amount, the same customer, kind,
 * currency and policy version, `reverses_id` = the entry), never by changing or removing it.
 * Idempotent by key. Refused (LedgerRefusal) when the entry does not exist ('not-found'), is itself
 * a reversal ('is-a-reversal') or was already reversed under another key ('already-reversed').
 */
export async function reverseLedgerEntry(sql: Sql, reversal: LedgerReversal): Promise<{ id: number; inserted: boolean }> {
  return inTransaction(sql, async (tx) => {
    const byKey = await findLedgerEntryByKey(tx, reversal.idempotencyKey);
    if (byKey) {
      if (byKey.reversesId === reversal.entryId) return { id: byKey.id, inserted: false };
      throw new LedgerRefusal('key-conflict', `ledger key ${reversal.idempotencyKey} already holds entry ${byKey.id}, not a reversal of entry ${reversal.entryId}`, reversal.entryId);
    }
    // The entry's row lock makes concurrent reversals of one entry take turns (a lock, not a change: no trigger fires).
    const [target] = await tx<
      { id: string; customer_id: string; case_id: string | null; kind: string; amount_cents: string; currency: string; policy_version: string | null; reverses_id: string | null }[]
    >`
      select id, customer_id, case_id, kind, amount_cents, currency, policy_version, reverses_id from ledger where id = ${reversal.entryId} for update`;
    if (!target) throw new LedgerRefusal('not-found', `ledger entry ${reversal.entryId} does not exist`, reversal.entryId);
    if (target.reverses_id !== null) {
      throw new LedgerRefusal('is-a-reversal', `ledger entry ${reversal.entryId} is itself a reversal (of entry ${target.reverses_id}) and cannot be reversed`, reversal.entryId);
    }
    const [inserted] = await tx<{ id: string }[]>`
      insert into ledger (idempotency_key, customer_id, case_id, kind, amount_cents, currency, policy_version, reverses_id, reason)
      values (${reversal.idempotencyKey}, ${target.customer_id}, ${reversal.caseId}, ${target.kind}, ${-Number(target.amount_cents)}, ${target.currency},
              ${target.policy_version}, ${reversal.entryId}, ${reversal.reason})
      on conflict do nothing
      returning id`;
    if (inserted) return { id: Number(inserted.id), inserted: true };
    // Either the key was taken meanwhile (its own retry, answered above next time) or the entry has its reversal.
    const raced = await findLedgerEntryByKey(tx, reversal.idempotencyKey);
    if (raced?.reversesId === reversal.entryId) return { id: raced.id, inserted: false };
    const [existing] = await tx<{ id: string }[]>`select id from ledger where reverses_id = ${reversal.entryId}`;
    if (existing) throw new LedgerRefusal('already-reversed', `ledger entry ${reversal.entryId} was already reversed by entry ${existing.id}; an entry is reversed at most once`, reversal.entryId);
    throw new LedgerRefusal('key-conflict', `ledger key ${reversal.idempotencyKey} already holds another entry`, reversal.entryId);
  });
}

export interface LedgerBalance {
  kind: string;
  currency: string;
  /** Sum of every entry of this kind and currency, reversals included (they are negative). */
  amountCents: number;
}

export interface CustomerLedger {
  /** Newest first. */
  entries: StoredLedgerEntry[];
  /** Every entry counted, whatever `limit` returned. */
  total: number;
  balances: LedgerBalance[];
}

/** P6: a customer's ledger: the entries newest first (at most `limit`) and the balance per remedy kind and currency over all of them. */
export async function ledgerOfCustomer(sql: Sql, customerId: string, options: { limit?: number } = {}): Promise<CustomerLedger> {
  const entries = await selectEntries(sql, sql`e.customer_id = ${customerId}`, sql`order by e.created_at desc, e.id desc limit ${options.limit ?? 1000}`);
  const balances = await sql<{ kind: string; currency: string; amount_cents: string; entries: number }[]>`
    select kind, currency, sum(amount_cents) as amount_cents, count(*)::int as entries
    from ledger where customer_id = ${customerId}
    group by kind, currency order by kind, currency`;
  return {
    entries,
    total: balances.reduce((sum, row) => sum + row.entries, 0),
    balances: balances.map((row) => ({ kind: row.kind, currency: row.currency, amountCents: Number(row.amount_cents) })),
  };
}
