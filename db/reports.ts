import type { Sql } from './sql';

// D7, D8, C10, O9: the figures a regulator-facing team reports, computed in SQL from the read model
// and the append-only events (never by loading cases into memory).

export interface ClockReportRow {
  caseType: string;
  clock: string;
  priority: string | null;
  /** Clocks started in the period. */
  started: number;
  metOnTime: number;
  metLate: number;
  /** Breached and not met (yet). */
  breached: number;
  stillRunning: number;
  /** metOnTime / (started − stillRunning); null when none has ended. */
  compliancePercent: number | null;
  medianSecondsToMeet: number | null;
  p90SecondsToMeet: number | null;
}

/** Every clock started in [from, to), by case type, clock and priority: how it ended and how long meeting it took. */
export async function clockReport(sql: Sql, period: { from: Date; to: Date }, caseType?: string): Promise<ClockReportRow[]> {
  const rows = await sql<
    {
      case_type: string;
      clock: string;
      priority: string | null;
      started: number;
      met_on_time: number;
      met_late: number;
      breached: number;
      still_running: number;
      median_seconds: number | null;
      p90_seconds: number | null;
    }[]
  >`
    with started as (
      select e.case_id, e.data->>'clock' as clock, max(e.occurred_at) as started_at
      from case_events e
      where e.type = 'sla.started' and e.occurred_at >= ${period.from} and e.occurred_at < ${period.to}
      group by e.case_id, e.data->>'clock'
    ), outcomes as (
      select c.type as case_type, s.clock, c.priority, s.started_at,
             (select min(m.occurred_at) from case_events m
               where m.case_id = s.case_id and m.type = 'sla.met' and m.data->>'clock' = s.clock and m.occurred_at >= s.started_at) as met_at,
             exists (select 1 from case_events b
               where b.case_id = s.case_id and b.type = 'sla.breached' and b.data->>'clock' = s.clock and b.occurred_at >= s.started_at) as breached,
             exists (select 1 from case_events x
               where x.case_id = s.case_id and x.type = 'sla.cancelled' and x.data->'clocks' ? s.clock and x.occurred_at >= s.started_at) as cancelled
      from started s join cases c on c.case_id = s.case_id
      ${caseType ? sql`where c.type = ${caseType}` : sql``}
    )
    select case_type, clock, priority,
           count(*)::int as started,
           (count(*) filter (where met_at is not null and not breached))::int as met_on_time,
           (count(*) filter (where met_at is not null and breached))::int as met_late,
           (count(*) filter (where met_at is null and breached))::int as breached,
           (count(*) filter (where met_at is null and not breached))::int as still_running,
           percentile_cont(0.5) within group (order by extract(epoch from met_at - started_at)) filter (where met_at is not null) as median_seconds,
           percentile_cont(0.9) within group (order by extract(epoch from met_at - started_at)) filter (where met_at is not null) as p90_seconds
    from outcomes
    where not cancelled or met_at is not null or breached
    group by case_type, clock, priority
    order by case_type, clock, priority nulls first`;
  return rows.map((row) => {
    const ended = row.started - row.still_running;
    return {
      caseType: row.case_type,
      clock: row.clock,
      priority: row.priority,
      started: row.started,
      metOnTime: row.met_on_time,
      metLate: row.met_late,
      breached: row.breached,
      stillRunning: row.still_running,
      compliancePercent: ended > 0 ? round((row.met_on_time / ended) * 100) : null,
      medianSecondsToMeet: row.median_seconds === null ? null : Math.round(row.median_seconds),
      p90SecondsToMeet: row.p90_seconds === null ? null : Math.round(row.p90_seconds),
    };
  });
}

/** Complaints opened in the period by category, and how many reached a result (resolved or closed after one). */
export async function complaintsByCategory(sql: Sql, period: { from: Date; to: Date }): Promise<{ category: string; opened: number; resolved: number }[]> {
  const rows = await sql<{ category: string; opened: number; resolved: number }[]>`
    select coalesce(c.state->'details'->>'category', 'unknown') as category,
           count(*)::int as opened,
           (count(*) filter (where exists (select 1 from case_events e where e.case_id = c.case_id and e.type = 'complaint.resolved')))::int as resolved
    from cases c
    where c.type = 'complaint' and c.opened_at >= ${period.from} and c.opened_at < ${period.to}
    group by 1 order by 2 desc, 1`;
  return [...rows];
}

/** C10: ratings given per month in the provider's zone; satisfied means 4 or 5 of 5. */
export async function satisfactionByMonth(sql: Sql, period: { from: Date; to: Date }, timeZone: string): Promise<{ month: string; ratings: number; satisfied: number }[]> {
  const rows = await sql<{ month: string; ratings: number; satisfied: number }[]>`
    select to_char(occurred_at at time zone ${timeZone}, 'YYYY-MM') as month,
           count(*)::int as ratings,
           (count(*) filter (where (data->>'rating')::int >= 4))::int as satisfied
    from case_events
    where type = 'complaint.rated' and occurred_at >= ${period.from} and occurred_at < ${period.to}
    group by 1 order by 1`;
  return [...rows];
}

/** P5: remedies paid in the period by kind and currency, reversals netted and counted. */
export async function remediesPaid(sql: Sql, period: { from: Date; to: Date }): Promise<{ kind: string; currency: string; payments: number; reversals: number; netAmountCents: number }[]> {
  const rows = await sql<{ kind: string; currency: string; payments: number; reversals: number; net: string }[]>`
    select kind, currency,
           (count(*) filter (where reverses_id is null))::int as payments,
           (count(*) filter (where reverses_id is not null))::int as reversals,
           coalesce(sum(amount_cents), 0) as net
    from ledger where created_at >= ${period.from} and created_at < ${period.to}
    group by kind, currency order by kind, currency`;
  return rows.map((row) => ({ kind: row.kind, currency: row.currency, payments: row.payments, reversals: row.reversals, netAmountCents: Number(row.net) }));
}

/** O9: the services incidents touched in the period (an outage naming none is counted under '*'). */
export async function servicesWithOutages(sql: Sql, period: { from: Date; to: Date }): Promise<{ service: string; incidents: number }[]> {
  const rows = await sql<{ service: string; incidents: number }[]>`
    select coalesce(service, '*') as service, count(distinct case_id)::int as incidents
    from incident_outages left join lateral unnest(services) as service on true
    where started_at < ${period.to} and (ended_at is null or ended_at > ${period.from})
    group by 1 order by 1`;
  return [...rows];
}

/** Cases of a type opened in the period and how many are closed. */
export async function casesOpenedAndClosed(sql: Sql, period: { from: Date; to: Date }, caseType: string): Promise<{ opened: number; closed: number }> {
  const [row] = await sql<{ opened: number; closed: number }[]>`
    select count(*)::int as opened, (count(*) filter (where status in ('closed', 'completed', 'refused')))::int as closed
    from cases where type = ${caseType} and opened_at >= ${period.from} and opened_at < ${period.to}`;
  return row!;
}

const round = (value: number) => Math.round(value * 100) / 100;
