import type postgres from 'postgres';
import { openDeep } from '../codec/customer-data-keys';
import { correctableFields, type BlockingCase, type CustomerChanges, type DataRequestKind, type FieldChange } from '../domain/data-request';
import type { CorrectionResult, ErasureResult } from '../domain/data-request-case';
import { finalCaseStatuses } from '../domain/retention';
import { anonymiseCustomer, anonymisedFields } from './customer-lifecycle';
import { cipherOfRow, keyColumns, type KeyRow } from './customer-keys';
import { purgeCaseRows, redactedBody, removeExportFiles, type PurgedCase } from './purge';
import { inTransaction, type Sql } from './sql';

// What data-subject requests (D3) do to the records: corrections of the customer row, recorded
// once per case with old → new (table customer_corrections, append-only); deletion, which
// anonymises the customer (db/customer-lifecycle.ts) and removes the personal text Pledge can
// remove without rewriting the record (db/purge.ts) — refused under a legal hold, deferred while
// the customer's open cases still need the data.

const finalStatuses = finalCaseStatuses as unknown as string[];

/** An open data request of the customer of this kind, as last recorded (one at a time per kind). */
export async function findOpenDataRequest(sql: Sql, customerId: string, kind: DataRequestKind): Promise<{ caseId: string; status: string } | undefined> {
  const [row] = await sql<{ case_id: string; status: string }[]>`
    select case_id, status from cases
    where type = 'data-request' and customer_id = ${customerId} and status <> all(${finalStatuses}::text[]) and state -> 'details' ->> 'kind' = ${kind}
    order by opened_at desc limit 1`;
  return row ? { caseId: row.case_id, status: row.status } : undefined;
}

/** The customer's cases that are still open (other than `exceptCaseId`), with when each expects to complete. */
export async function listBlockingCases(sql: Sql, customerId: string, exceptCaseId: string): Promise<BlockingCase[]> {
  const rows = await sql<{ case_id: string; type: string; status: string; expected: string | null }[]>`
    select case_id, type, status, state ->> 'expectedCompletionAt' as expected from cases
    where customer_id = ${customerId} and case_id <> ${exceptCaseId} and status <> all(${finalStatuses}::text[])
    order by opened_at, case_id`;
  return rows.map((row) => ({ caseId: row.case_id, type: row.type, status: row.status, expectedCompletionAt: row.expected }));
}

type CustomerFieldsRow = KeyRow & { name: string; email: string | null; phone: string | null; anonymised_at: Date | null };

/**
 * D3, D1: applies a correction once per case: the fields whose value differs are changed and the
 * change (old → new) recorded; a retry answers the first correction. Undefined for an unknown
 * customer. D5: the values, in the customer row and in the record, are sealed under the customer's data key.
 */
export async function correctCustomer(sql: postgres.Sql, request: { caseId: string; customerId: string; changes: CustomerChanges; at: string; by: string }): Promise<CorrectionResult | undefined> {
  return inTransaction(sql, async (tx) => {
    const [customer] = await tx<CustomerFieldsRow[]>`select c.id, c.name, c.email, c.phone, c.anonymised_at, ${tx.unsafe(keyColumns)} from customers c where c.id = ${request.customerId} for update`;
    if (!customer) return undefined;
    const cipher = cipherOfRow(customer);
    const [done] = await tx<{ changes: FieldChange[]; corrected_at: Date }[]>`select changes, corrected_at from customer_corrections where case_id = ${request.caseId}`;
    if (done) return { outcome: 'corrected', changes: openDeep(cipher, done.changes) as FieldChange[], correctedAt: done.corrected_at.toISOString() };
    if (customer.anonymised_at) return { outcome: 'refused', reason: `the personal data was deleted on ${customer.anonymised_at.toISOString()}; there is nothing left to correct` };
    const changes: FieldChange[] = correctableFields.flatMap((field) => {
      const to = request.changes[field];
      const from = cipher.open(customer[field]) as string | null;
      return to === undefined || to === from ? [] : [{ field, from, to }];
    });
    if (changes.length > 0) {
      const values = Object.fromEntries(changes.map((change) => [change.field, cipher.seal(change.to)]));
      await tx`update customers set ${tx(values, ...changes.map((change) => change.field))}, updated_at = now() where id = ${request.customerId}`;
    }
    const sealedChanges = changes.map((change) => ({ field: change.field, from: cipher.seal(change.from), to: cipher.seal(change.to) }));
    await tx`
      insert into customer_corrections (case_id, customer_id, changes, corrected_at, corrected_by)
      values (${request.caseId}, ${request.customerId}, ${tx.json(sealedChanges as unknown as postgres.JSONValue)}, ${request.at}, ${request.by})`;
    return { outcome: 'corrected', changes, correctedAt: request.at };
  });
}

/** What deletion removes besides the customer row's own fields (anonymisedFields). */
export const erasedRecords = ['notifications.body', 'cases.summary', 'cases.state.details', 'tracking codes of closed cases', 'data-request export files'];

/**
 * D3: deletes the customer's personal data for data request `caseId`, in one transaction with the
 * customer row locked: refused while a legal hold stands (D2); deferred while another of their cases
 * is open (it may still need the data). Otherwise the customer is anonymised, the text and address
 * of every message to them removed (one still waiting for an external channel is not sent), their
 * closed cases' read model purged (their events stay, D1) and the export files of their data
 * requests removed. A retry after success answers it again.
 */
export async function eraseCustomer(sql: postgres.Sql, request: { caseId: string; customerId: string; at: string }): Promise<ErasureResult | undefined> {
  return inTransaction(sql, async (tx) => {
    const [customer] = await tx<{ legal_hold: boolean; legal_hold_reason: string | null; legal_hold_at: Date | null }[]>`
      select legal_hold, legal_hold_reason, legal_hold_at from customers where id = ${request.customerId} for update`;
    if (!customer) return undefined;
    if (customer.legal_hold) return { outcome: 'held', reason: customer.legal_hold_reason ?? 'legal hold', since: customer.legal_hold_at?.toISOString() ?? null };
    const blocking = await listBlockingCases(tx, request.customerId, request.caseId);
    if (blocking.length > 0) return { outcome: 'deferred', blocking };

    const why = `personal data deleted on request ${request.caseId}`;
    await tx`select set_config('pledge.actor', ${`pledge (${request.caseId})`}, true), set_config('pledge.consent_source', ${why}, true)`;
    const anonymised = await anonymiseCustomer(tx, { customerId: request.customerId, at: request.at });
    if (!anonymised?.deleted) return { outcome: 'held', reason: anonymised ? anonymised.heldReason : 'legal hold', since: null };
    const cases = await tx<PurgedCase[]>`
      select case_id, workflow_id, type, last_step from cases
      where customer_id = ${request.customerId} and case_id <> ${request.caseId} and purged_at is null and status = any(${finalStatuses}::text[])
      for update`;
    // T7: a termination's final backup stays (until the retention purge); the copies data requests made go.
    const purged = await purgeCaseRows(tx, cases, { at: request.at, reason: why, runId: null, removeExports: false });
    const files = await tx<{ path: string }[]>`select path from customer_exports where customer_id = ${request.customerId} and case_id like 'DSR-%'`;
    const dataRequestFiles = await removeExportFiles(files.map((file) => file.path));
    // Messages not yet sent cannot reach anyone now: an external one is ended as not sent (no fallback is queued).
    const redacted = await tx`
      update notifications set body = ${redactedBody(why)}, recipient = null, redacted_at = ${request.at},
        last_error = case when status = 'pending' and channel <> 'inbox' then 'personal data deleted (D3)' else last_error end,
        status = case when status = 'pending' and channel <> 'inbox' then 'not-sent' else status end
      where customer_id = ${request.customerId} and redacted_at is null and status <> 'sending'
      returning id`;
    return {
      outcome: 'deleted',
      deletedAt: anonymised.deletedAt,
      fields: [...anonymisedFields, ...erasedRecords],
      notificationsRedacted: redacted.length,
      casesPurged: cases.length,
      exportFilesRemoved: purged.exportFilesRemoved + dataRequestFiles,
    };
  });
}
