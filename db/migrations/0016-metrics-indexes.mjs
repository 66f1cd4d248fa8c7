// /metrics counts SLA warnings and breaches at every scrape: a partial index keeps that a small scan.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`create index case_events_sla_alerts_idx on case_events (case_id) where type in ('sla.warned', 'sla.breached');`);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`drop index case_events_sla_alerts_idx;`);
}
