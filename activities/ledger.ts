import type postgres from 'postgres';

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

/** Pays a batch of entries in one statement; an entry already paid is skipped. Returns what was added. */
export async function insertLedgerEntries(
  sql: postgres.Sql | postgres.TransactionSql,
  entries: readonly LedgerEntry[],
): Promise<{ paid: number; amountCents: number }> {
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
