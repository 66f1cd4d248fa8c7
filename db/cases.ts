import type postgres from 'postgres';
import { nextPendingDeadline, type CaseState } from '../domain/case-state';
import type { Sql } from './sql';

// The read model (table `cases`): one row per case, its last recorded state. Written only by the
// recordSteps activity, moving forward by step; read by the list, the fallback of GET /v1/cases/{id}
// once a workflow has left Temporal, the calendar reload and the metrics.

/**
 * Moves a case's row to `state`, recorded at `lastStep`; a row already at that step or later is
 * left as it is, so a retried or late record never moves the read model back.
 */
export async function upsertCaseReadModel(sql: Sql, input: { workflowId: string; state: CaseState; lastStep: number }): Promise<void> {
  const { state } = input;
  await sql`
    insert into cases (case_id, workflow_id, type, status, priority, customer_id, summary, sla_breached,
                       next_deadline_at, opened_at, updated_at, last_step, state)
    values (${state.caseId}, ${input.workflowId}, ${state.type}, ${state.status}, ${state.priority},
            ${state.customerId}, ${state.summary}, ${state.slaBreached},
            ${nextPendingDeadline(state.deadlines)?.dueAt ?? null}, ${state.openedAt}, ${state.updatedAt},
            ${input.lastStep}, ${sql.json(state as unknown as postgres.JSONValue)})
    on conflict (case_id) do update set
      status = excluded.status, priority = excluded.priority, summary = excluded.summary,
      sla_breached = excluded.sla_breached, next_deadline_at = excluded.next_deadline_at,
      updated_at = excluded.updated_at, last_step = excluded.last_step, state = excluded.state
    where cases.last_step < excluded.last_step`;
}

/** Whether the case has a row yet (its intake is recorded). */
export async function caseIsRecorded(sql: Sql, caseId: string): Promise<boolean> {
  const rows = await sql`select 1 from cases where case_id = ${caseId}`;
  return rows.length > 0;
}

/** The last recorded state of a case (D2: answers once its workflow has left Temporal). */
export async function findRecordedCaseState(sql: Sql, caseId: string): Promise<CaseState | undefined> {
  const [row] = await sql<{ state: CaseState }[]>`select state from cases where case_id = ${caseId}`;
  return row?.state;
}

export interface CaseListFilter {
  type?: string;
  status?: string;
  priority?: string;
  customerId?: string;
  breached?: boolean;
  /** Keyset: the last case of the previous page (the list runs newest first). */
  after?: { openedAt: string; caseId: string };
  limit: number;
}

export interface CaseSummary {
  caseId: string;
  workflowId: string;
  type: string;
  status: string;
  priority: string | null;
  customerId: string | null;
  summary: string;
  slaBreached: boolean;
  nextDeadlineAt: string | null;
  openedAt: string;
  updatedAt: string;
}

/** One page of the read model, newest first; `next` is the keyset of the following page, null on the last. */
export async function listCases(sql: Sql, filter: CaseListFilter): Promise<{ cases: CaseSummary[]; next: { openedAt: string; caseId: string } | null }> {
  const rows = await sql<
    {
      case_id: string;
      workflow_id: string;
      type: string;
      status: string;
      priority: string | null;
      customer_id: string | null;
      summary: string;
      sla_breached: boolean;
      next_deadline_at: Date | null;
      opened_at: Date;
      updated_at: Date;
    }[]
  >`
    select case_id, workflow_id, type, status, priority, customer_id, summary, sla_breached, next_deadline_at, opened_at, updated_at
    from cases
    where true
      ${filter.type ? sql`and type = ${filter.type}` : sql``}
      ${filter.status ? sql`and status = ${filter.status}` : sql``}
      ${filter.priority ? sql`and priority = ${filter.priority}` : sql``}
      ${filter.customerId ? sql`and customer_id = ${filter.customerId}` : sql``}
      ${filter.breached !== undefined ? sql`and sla_breached = ${filter.breached}` : sql``}
      ${filter.after ? sql`and (opened_at, case_id) < (${filter.after.openedAt}, ${filter.after.caseId})` : sql``}
    order by opened_at desc, case_id desc
    limit ${filter.limit + 1}`;
  const cases = rows.slice(0, filter.limit).map((row) => ({
    caseId: row.case_id,
    workflowId: row.workflow_id,
    type: row.type,
    status: row.status,
    priority: row.priority,
    customerId: row.customer_id,
    summary: row.summary,
    slaBreached: row.sla_breached,
    nextDeadlineAt: row.next_deadline_at?.toISOString() ?? null,
    openedAt: row.opened_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  }));
  const last = cases.at(-1);
  return { cases, next: rows.length > filter.limit && last ? { openedAt: last.openedAt, caseId: last.caseId } : null };
}

/** Open cases with at least one provisional (working-day) deadline: those a newly loaded calendar year can move. */
export async function listOpenCasesWithProvisionalDeadlines(sql: Sql): Promise<{ workflowId: string; openedAt: Date }[]> {
  const rows = await sql<{ workflow_id: string; opened_at: Date }[]>`
    select workflow_id, opened_at from cases
    where status <> 'closed' and state -> 'deadlines' @> '[{"provisional": true}]'`;
  return rows.map((row) => ({ workflowId: row.workflow_id, openedAt: row.opened_at }));
}

/** Metrics: cases by type, status and priority. */
export async function countCasesByTypeStatusPriority(sql: Sql): Promise<{ type: string; status: string; priority: string | null; count: number }[]> {
  const rows = await sql<{ type: string; status: string; priority: string | null; count: string }[]>`
    select type, status, priority, count(*) as count from cases group by type, status, priority`;
  return rows.map((row) => ({ type: row.type, status: row.status, priority: row.priority, count: Number(row.count) }));
}

/** Metrics: cases not yet closed with a breached clock, by type. */
export async function countOpenBreachedCasesByType(sql: Sql): Promise<{ type: string; count: number }[]> {
  const rows = await sql<{ type: string; count: string }[]>`
    select type, count(*) as count from cases where sla_breached and status <> 'closed' group by type`;
  return rows.map((row) => ({ type: row.type, count: Number(row.count) }));
}

/** Metrics: seconds until the earliest pending deadline of any open case (negative when past); null when none. */
export async function secondsToNextDeadline(sql: Sql): Promise<number | null> {
  const [row] = await sql<{ seconds: number | null }[]>`
    select extract(epoch from min(next_deadline_at) - now())::float8 as seconds from cases where status <> 'closed'`;
  return row?.seconds ?? null;
}

/** Metrics: cases ever opened and those ended, by type. */
export async function countCasesOpenedClosedByType(sql: Sql): Promise<{ type: string; opened: number; closed: number }[]> {
  return sql<{ type: string; opened: number; closed: number }[]>`
    select type, count(*)::int as opened,
           (count(*) filter (where status in ('closed', 'completed', 'cancelled', 'withdrawn', 'refused', 'overran')))::int as closed
    from cases group by type order by type`;
}

/** Metrics (C9): SLA warnings and breaches recorded, by case type, clock and kind. */
export async function countSlaEvents(sql: Sql): Promise<{ type: string; clock: string; kind: string; count: number }[]> {
  return sql<{ type: string; clock: string; kind: string; count: number }[]>`
    select c.type, coalesce(e.data->>'clock', '') as clock, substr(e.type, 5) as kind, count(*)::int as count
    from case_events e join cases c on c.case_id = e.case_id
    where e.type in ('sla.warned', 'sla.breached')
    group by 1, 2, 3 order by 1, 2, 3`;
}
