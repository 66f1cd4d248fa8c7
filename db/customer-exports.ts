import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type postgres from 'postgres';
import { dataDir } from '../scripts/toolchain/paths';
import { openDeep } from '../codec/customer-data-keys';
import { loadCustomerCipher } from './customer-keys';
import { inTransaction, type Sql } from './sql';

// Exports of one customer's data (T3, T4, T7): what goes in (their customer row, their cases, the
// events of those cases, the messages sent to them and their ledger — nothing of anyone else), the
// file under `<data dir>/exports/`, and its record (table `customer_exports`, append-only).

export interface CustomerExportRecord {
  id: number;
  caseId: string;
  n: number;
  customerId: string;
  purpose: 'requested' | 'final';
  /** Relative to the data dir, e.g. `exports/TRM-2026-000001-1.json`. */
  path: string;
  sha256: string;
  sizeBytes: number;
  createdAt: string;
}

/** The data dir as it is now (PLEDGE_DATA_DIR read on each call, so tests can point it at a temp dir). */
export function currentDataDir(): string {
  return process.env.PLEDGE_DATA_DIR ? resolve(process.env.PLEDGE_DATA_DIR) : dataDir;
}

/** Where an export's relative path lives on disk; refuses a path that would leave `<data dir>/exports/`. */
export function exportFileLocation(relativePath: string): string {
  const root = join(currentDataDir(), 'exports');
  const location = resolve(currentDataDir(), relativePath);
  if (!location.startsWith(root + sep)) throw new Error(`export path ${relativePath} is outside ${root}`);
  return location;
}

/** Everything Pledge holds about one customer, as JSON-ready rows, sealed values opened (D5). */
export async function collectCustomerData(sql: Sql, customerId: string) {
  const [customer] = await sql<{ row: Record<string, unknown> }[]>`select to_jsonb(c) - 'data_key' as row from customers c where c.id = ${customerId}`;
  if (!customer) return undefined;
  const cases = await sql<{ row: Record<string, unknown> }[]>`select to_jsonb(c) as row from cases c where c.customer_id = ${customerId} order by c.opened_at, c.case_id`;
  const events = await sql<{ row: Record<string, unknown> }[]>`
    select to_jsonb(e) - 'id' as row from case_events e
    where e.case_id in (select case_id from cases where customer_id = ${customerId})
    order by e.case_id, e.step`;
  const notifications = await sql<{ row: Record<string, unknown> }[]>`
    select to_jsonb(n) - 'staff_role' as row from notifications n where n.customer_id = ${customerId} order by n.created_at, n.id`;
  const ledger = await sql<{ row: Record<string, unknown> }[]>`select to_jsonb(l) as row from ledger l where l.customer_id = ${customerId} order by l.created_at, l.id`;
  const cipher = await loadCustomerCipher(sql, customerId);
  const rows = (entries: { row: Record<string, unknown> }[]) => entries.map((entry) => openDeep(cipher, entry.row));
  return {
    customer: openDeep(cipher, customer.row),
    cases: rows(cases),
    caseEvents: rows(events),
    notifications: rows(notifications),
    ledger: rows(ledger),
  };
}

type ExportRow = { id: string; case_id: string; n: number; customer_id: string; purpose: 'requested' | 'final'; path: string; sha256: string; size_bytes: string; created_at: Date };

const recordOf = (row: ExportRow): CustomerExportRecord => ({
  id: Number(row.id),
  caseId: row.case_id,
  n: row.n,
  customerId: row.customer_id,
  purpose: row.purpose,
  path: row.path,
  sha256: row.sha256,
  sizeBytes: Number(row.size_bytes),
  createdAt: row.created_at.toISOString(),
});

/**
 * Writes export `n` of a case once: the customer's data as one JSON file, then its record. A retry
 * (or a second worker) finds the record and answers it, leaving the file as first written.
 */
export async function writeCustomerExport(
  sql: postgres.Sql,
  request: { caseId: string; customerId: string; n: number; purpose: 'requested' | 'final'; createdAt: string },
): Promise<CustomerExportRecord | undefined> {
  return inTransaction(sql, async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext(${`customer-export:${request.caseId}:${request.n}`}))`;
    const existing = await findCustomerExport(tx, request.caseId, request.n);
    if (existing) return existing;
    const data = await collectCustomerData(tx, request.customerId);
    if (!data) return undefined;
    const document = { format: 'pledge-customer-export/1', caseId: request.caseId, n: request.n, purpose: request.purpose, customerId: request.customerId, createdAt: request.createdAt, ...data };
    const bytes = Buffer.from(JSON.stringify(document, null, 2), 'utf8');
    const path = `exports/${request.caseId}-${request.n}.json`;
    const location = exportFileLocation(path);
    await mkdir(dirname(location), { recursive: true });
    await writeFile(`${location}.partial`, bytes, { mode: 0o600 });
    await rename(`${location}.partial`, location);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const [row] = await tx<ExportRow[]>`
      insert into customer_exports (case_id, n, customer_id, purpose, path, sha256, size_bytes, created_at)
      values (${request.caseId}, ${request.n}, ${request.customerId}, ${request.purpose}, ${path}, ${sha256}, ${bytes.length}, ${request.createdAt})
      returning *`;
    return recordOf(row!);
  });
}

export async function findCustomerExport(sql: Sql, caseId: string, n: number): Promise<CustomerExportRecord | undefined> {
  const [row] = await sql<ExportRow[]>`select * from customer_exports where case_id = ${caseId} and n = ${n}`;
  return row ? recordOf(row) : undefined;
}

/** The newest export of a case (the final backup once there is one), or a given one. */
export async function latestCustomerExport(sql: Sql, caseId: string, n?: number): Promise<CustomerExportRecord | undefined> {
  if (n !== undefined) return findCustomerExport(sql, caseId, n);
  const [row] = await sql<ExportRow[]>`select * from customer_exports where case_id = ${caseId} order by n desc limit 1`;
  return row ? recordOf(row) : undefined;
}

/** The export's bytes, checked against the SHA-256 recorded when it was written. */
export async function readCustomerExport(record: CustomerExportRecord): Promise<Buffer> {
  const bytes = await readFile(exportFileLocation(record.path));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== record.sha256) throw new Error(`export ${record.path} does not match its recorded SHA-256 (${record.sha256}); it was changed on disk`);
  return bytes;
}

/** T7: every download is recorded (append-only). */
export async function recordExportDownload(sql: Sql, download: { exportId: number; actorId: string; actorRole: string }): Promise<void> {
  await sql`insert into customer_export_downloads (export_id, actor_id, actor_role) values (${download.exportId}, ${download.actorId}, ${download.actorRole})`;
}
