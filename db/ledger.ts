import type postgres from 'postgres';
import type { Sql } from './sql';

// The ledger (table `ledger`): remedies paid, one row per idempotency key (P5).

export interface LedgerEntry {
  /** P5: one payment per key, whatever retries or restarts happen, e.g. `<workflowId>:remedy:<customerId>`. */
  idempotencyKey: string;
  customerId: string;
  caseId: string;
  kind: string;
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
