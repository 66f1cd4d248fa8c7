import type postgres from 'postgres';
import { contactColumns, contactOf, type ContactRow, type CustomerContact } from './customers';
import type { LedgerEntry } from './ledger';
import type { Sql } from './sql';

// Outage remedies waiting for a supervisor (table `pending_remedies`, P4): kept under the ledger key
// they will be paid with, so approving twice, or a retried approval, pays each once.

/** Records remedies that wait for approval; one already waiting is left as it is. */
export async function insertPendingRemedies(sql: Sql, entries: readonly LedgerEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((entry) => ({
    idempotency_key: entry.idempotencyKey,
    case_id: entry.caseId,
    customer_id: entry.customerId,
    kind: entry.kind,
    amount_cents: entry.amountCents,
    currency: entry.currency,
    policy_version: entry.policyVersion,
  }));
  await sql`
    insert into pending_remedies (idempotency_key, case_id, customer_id, kind, amount_cents, currency, policy_version)
    select idempotency_key, case_id, customer_id, kind, amount_cents, currency, policy_version
    from jsonb_to_recordset(${sql.json(rows as unknown as postgres.JSONValue)}) as r(
      idempotency_key text, case_id text, customer_id text, kind text, amount_cents bigint, currency text, policy_version text)
    on conflict (idempotency_key) do nothing`;
}

/** How many remedies, for how much, wait under these keys (a retried page counts the same rows). */
export async function sumPendingByKeys(sql: Sql, keys: readonly string[]): Promise<{ pending: number; amountCents: number }> {
  if (keys.length === 0) return { pending: 0, amountCents: 0 };
  const [row] = await sql<{ pending: number; amount_cents: string }[]>`
    select count(*)::int as pending, coalesce(sum(amount_cents), 0) as amount_cents
    from pending_remedies where idempotency_key = any(${keys as string[]}::text[]) and approved_at is null`;
  return { pending: row!.pending, amountCents: Number(row!.amount_cents) };
}

export interface WaitingRemedy extends LedgerEntry {
  customer: CustomerContact;
}

/** The next remedies of a case still waiting, with the customers' contact, in key order. */
export async function waitingRemedies(sql: Sql, caseId: string, limit: number): Promise<WaitingRemedy[]> {
  const rows = await sql<(ContactRow & { idempotency_key: string; customer_id: string; kind: string; amount_cents: string; currency: string; policy_version: string })[]>`
    select p.idempotency_key, p.customer_id, p.kind, p.amount_cents, p.currency, p.policy_version, ${sql.unsafe(contactColumns)}
    from pending_remedies p join customers c on c.id = p.customer_id
    where p.case_id = ${caseId} and p.approved_at is null
    order by p.idempotency_key limit ${limit}`;
  return rows.map((row) => ({
    idempotencyKey: row.idempotency_key,
    customerId: row.customer_id,
    caseId,
    kind: row.kind as LedgerEntry['kind'],
    amountCents: Number(row.amount_cents),
    currency: row.currency,
    policyVersion: row.policy_version,
    customer: contactOf(row),
  }));
}

export async function markRemediesApproved(sql: Sql, keys: readonly string[], approvedBy: string): Promise<void> {
  if (keys.length === 0) return;
  await sql`update pending_remedies set approved_at = now(), approved_by = ${approvedBy} where idempotency_key = any(${keys as string[]}::text[]) and approved_at is null`;
}
