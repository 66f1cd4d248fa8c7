import { unlink } from 'node:fs/promises';
import type postgres from 'postgres';
import { finalCaseStatuses, purgedSummary } from '../domain/retention';
import { exportFileLocation } from './customer-exports';
import { inTransaction, type Sql } from './sql';

// Removing personal data from records that stay (D2 retention, D3 deletion). What a case keeps:
// its read-model row (type, status, dates, deadlines) marked `purged_at`, and its whole event trail
// (case_events is append-only, D1: a purge appends `case.personal-data-purged`, it rewrites nothing).
// What goes: the read model's summary and details, the text and address of the messages sent about
// it, its tracking codes (revoked) and its export files (the export record and checksum stay).

const finalStatuses = finalCaseStatuses as unknown as string[];

/** What a message's body becomes once its text is removed. */
export function redactedBody(why: string): string {
  return `[text removed: ${why}]`;
}

export interface PurgedCase {
  case_id: string;
  workflow_id: string;
  type: string;
  last_step: number;
}

/**
 * Purges the read model of these cases (locked by the caller): summary and details replaced, marked
 * purged with the reason, one `case.personal-data-purged` event appended to each trail, tracking
 * codes revoked, and (`removeExports`) their export files removed. Answers how many files were removed.
 */
export async function purgeCaseRows(
  tx: postgres.TransactionSql,
  cases: readonly PurgedCase[],
  purge: { at: string; reason: string; runId: number | null; removeExports: boolean },
): Promise<{ exportFilesRemoved: number }> {
  if (cases.length === 0) return { exportFilesRemoved: 0 };
  const ids = cases.map((entry) => entry.case_id);
  // Files first: if the transaction then fails, the next run finds the case again and removing is idempotent.
  const files = purge.removeExports ? await tx<{ path: string }[]>`select path from customer_exports where case_id = any(${ids}::text[])` : [];
  const exportFilesRemoved = await removeExportFiles(files.map((file) => file.path));
  const rows = cases.map((entry) => ({ case_id: entry.case_id, summary: purgedSummary(entry.case_id, entry.type, purge.at) }));
  await tx`
    update cases c set
      summary = r.summary,
      state = c.state || jsonb_build_object('summary', r.summary, 'nextStep', null,
                                            'details', jsonb_build_object('purgedAt', ${purge.at}::text, 'purgeReason', ${purge.reason}::text)),
      purged_at = ${purge.at}, purge_reason = ${purge.reason}, last_step = c.last_step + 1
    from jsonb_to_recordset(${tx.json(rows as unknown as postgres.JSONValue)}) as r(case_id text, summary text)
    where c.case_id = r.case_id`;
  const events = cases.map((entry) => ({ workflow_id: entry.workflow_id, step: entry.last_step + 1, case_id: entry.case_id }));
  const data = { reason: purge.reason, runId: purge.runId, removed: ['cases.summary', 'cases.state.details', 'tracking codes', ...(purge.removeExports ? ['export files'] : [])] };
  await tx`
    insert into case_events (workflow_id, step, case_id, type, actor_id, actor_role, occurred_at, data)
    select workflow_id, step, case_id, 'case.personal-data-purged', 'pledge', 'system', ${purge.at}, ${tx.json(data as unknown as postgres.JSONValue)}
    from jsonb_to_recordset(${tx.json(events as unknown as postgres.JSONValue)}) as e(workflow_id text, step integer, case_id text)
    on conflict (workflow_id, step) do nothing`;
  await tx`update tracking_codes set revoked_at = ${purge.at}, revoked_by = ${`pledge: ${purge.reason}`} where case_id = any(${ids}::text[]) and revoked_at is null`;
  return { exportFilesRemoved };
}

/** Removes export files (paths relative to the data dir); answers how many were still on disk. */
export async function removeExportFiles(paths: readonly string[]): Promise<number> {
  let removed = 0;
  for (const path of paths) {
    try {
      await unlink(exportFileLocation(path));
      removed++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return removed;
}

export interface PurgeRun {
  id: number;
  runKey: string;
  policyVersion: string;
  retentionYears: number;
  cutoff: string;
  startedAt: string;
  finishedAt: string | null;
  casesPurged: number;
  notificationsRedacted: number;
  exportFilesRemoved: number;
  heldCases: number;
}

type PurgeRunRow = {
  id: string;
  run_key: string;
  policy_version: string;
  retention_years: number;
  cutoff: Date;
  started_at: Date;
  finished_at: Date | null;
  cases_purged: number;
  notifications_redacted: number;
  export_files_removed: number;
  held_cases: number;
};

const runOf = (row: PurgeRunRow): PurgeRun => ({
  id: Number(row.id),
  runKey: row.run_key,
  policyVersion: row.policy_version,
  retentionYears: row.retention_years,
  cutoff: row.cutoff.toISOString(),
  startedAt: row.started_at.toISOString(),
  finishedAt: row.finished_at?.toISOString() ?? null,
  casesPurged: row.cases_purged,
  notificationsRedacted: row.notifications_redacted,
  exportFilesRemoved: row.export_files_removed,
  heldCases: row.held_cases,
});

/** D2: the record of one purge run, created once per key (a retried activity finds the same run). */
export async function startPurgeRun(sql: Sql, request: { runKey: string; policyVersion: string; retentionYears: number; cutoff: string }): Promise<PurgeRun> {
  const [row] = await sql<PurgeRunRow[]>`
    with fresh as (
      insert into purge_runs (run_key, policy_version, retention_years, cutoff)
      values (${request.runKey}, ${request.policyVersion}, ${request.retentionYears}, ${request.cutoff})
      on conflict (run_key) do nothing
      returning *
    )
    select * from fresh union all select * from purge_runs where run_key = ${request.runKey}
    limit 1`;
  return runOf(row!);
}

/**
 * D2: one page of the purge, in one transaction: closed customer cases last changed before `cutoff`
 * whose customer is not under a legal hold lose their personal data; then messages about closed
 * cases (incidents included) older than the cutoff, to customers not under a hold, lose their text
 * and address. The run's counts grow in the same transaction, so a retried page counts nothing twice.
 */
export async function purgeExpiredPage(
  sql: postgres.Sql,
  request: { runId: number; cutoff: string; limit: number; retentionYears: number },
): Promise<{ casesPurged: number; notificationsRedacted: number; exportFilesRemoved: number; more: boolean }> {
  return inTransaction(sql, async (tx) => {
    const at = new Date().toISOString();
    const cases = await tx<PurgedCase[]>`
      select c.case_id, c.workflow_id, c.type, c.last_step
      from cases c left join customers cu on cu.id = c.customer_id
      where c.purged_at is null and c.customer_id is not null and c.status = any(${finalStatuses}::text[])
        and c.updated_at < ${request.cutoff} and not coalesce(cu.legal_hold, false)
      order by c.updated_at
      limit ${request.limit}
      for update of c skip locked`;
    const { exportFilesRemoved } = await purgeCaseRows(tx, cases, { at, reason: `retention: closed more than ${request.retentionYears} years ago (D2)`, runId: request.runId, removeExports: true });
    const redacted = await tx`
      update notifications n set body = ${redactedBody(`retention purge, closed more than ${request.retentionYears} years ago`)}, recipient = null, redacted_at = ${at}
      from (
        select m.id from notifications m
        join cases c on c.case_id = m.case_id
        left join customers cu on cu.id = m.customer_id
        where m.redacted_at is null and m.customer_id is not null and m.status not in ('pending', 'sending')
          and c.status = any(${finalStatuses}::text[]) and c.updated_at < ${request.cutoff} and not coalesce(cu.legal_hold, false)
        limit ${request.limit}
        for update of m skip locked
      ) page
      where n.id = page.id
      returning n.id`;
    await tx`
      update purge_runs set cases_purged = cases_purged + ${cases.length}, notifications_redacted = notifications_redacted + ${redacted.length},
        export_files_removed = export_files_removed + ${exportFilesRemoved}
      where id = ${request.runId}`;
    return { casesPurged: cases.length, notificationsRedacted: redacted.length, exportFilesRemoved, more: cases.length === request.limit || redacted.length === request.limit };
  });
}

/** D2: the run is finished: the cases kept only because their customer is under a legal hold are counted. */
export async function finishPurgeRun(sql: Sql, request: { runId: number; cutoff: string }): Promise<PurgeRun> {
  const [row] = await sql<PurgeRunRow[]>`
    update purge_runs set finished_at = coalesce(finished_at, now()), held_cases = (
      select count(*)::int from cases c join customers cu on cu.id = c.customer_id
      where c.purged_at is null and c.status = any(${finalStatuses}::text[]) and c.updated_at < ${request.cutoff} and cu.legal_hold)
    where id = ${request.runId}
    returning *`;
  return runOf(row!);
}

export async function listPurgeRuns(sql: Sql, limit: number): Promise<PurgeRun[]> {
  const rows = await sql<PurgeRunRow[]>`select * from purge_runs order by id desc limit ${limit}`;
  return rows.map(runOf);
}
