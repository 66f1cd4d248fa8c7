import type { Sql } from './sql';

// O9: each incident's outage interval and reach (table `incident_outages`), for availability.

export interface OutageRecord {
  caseId: string;
  title: string;
  severity: string;
  services: string[];
  regions: string[];
  startedAt: string;
  endedAt: string | null;
}

export async function upsertOutage(sql: Sql, outage: OutageRecord): Promise<void> {
  await sql`
    insert into incident_outages (case_id, title, severity, services, regions, started_at, ended_at)
    values (${outage.caseId}, ${outage.title}, ${outage.severity}, ${outage.services}, ${outage.regions}, ${outage.startedAt}, ${outage.endedAt})
    on conflict (case_id) do update set
      title = excluded.title, severity = excluded.severity, services = excluded.services, regions = excluded.regions,
      started_at = excluded.started_at, ended_at = excluded.ended_at, updated_at = now()`;
}

/**
 * Outages that touched `service` (in `region`, when given) and overlap [start, end). An outage
 * scoped by region only (no service named) took down every service there.
 */
export async function listOutagesOverlapping(
  sql: Sql,
  query: { service: string; region?: string; start: Date; end: Date },
): Promise<{ caseId: string; startedAtMs: number; endedAtMs: number | null }[]> {
  const rows = await sql<{ case_id: string; started_at: Date; ended_at: Date | null }[]>`
    select case_id, started_at, ended_at from incident_outages
    where (services && ${[query.service]}::text[] or cardinality(services) = 0)
      ${query.region ? sql`and (cardinality(regions) = 0 or ${query.region} = any(regions))` : sql``}
      and started_at < ${query.end} and (ended_at is null or ended_at > ${query.start})`;
  return rows.map((row) => ({ caseId: row.case_id, startedAtMs: row.started_at.getTime(), endedAtMs: row.ended_at?.getTime() ?? null }));
}
