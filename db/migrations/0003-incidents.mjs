// Incidents (O1–O9): which open incident owns an alert group (O2), which incident each alert
// (fingerprint + start) belongs to, and each incident's outage interval for availability (O9).
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    -- O2: one open incident per alert group. The partial unique index is the guarantee: however
    -- many posts race, only one row per dedup key can be open. Resolution closes the row, so the
    -- next outage of the same group opens a new incident.
    create table incident_alert_groups (
      case_id     text primary key,
      dedup_key   text not null,
      opened_at   timestamptz not null default now(),
      closed_at   timestamptz
    );
    create unique index incident_alert_groups_open_idx on incident_alert_groups (dedup_key) where closed_at is null;
    create index incident_alert_groups_key_idx on incident_alert_groups (dedup_key, opened_at desc);

    -- An alert (one firing episode: fingerprint + startsAt) belongs to one incident for good, so a
    -- late re-send of an alert the incident already saw never opens another.
    create table incident_alerts (
      source       text not null,
      fingerprint  text not null,
      starts_at    timestamptz not null,
      case_id      text not null references incident_alert_groups (case_id),
      first_seen   timestamptz not null default now(),
      primary key (source, fingerprint, starts_at)
    );

    -- O9: the outage interval of each incident and what it touched.
    create table incident_outages (
      case_id     text primary key,
      title       text not null,
      severity    text not null,
      services    text[] not null,
      regions     text[] not null,
      started_at  timestamptz not null,
      ended_at    timestamptz,
      updated_at  timestamptz not null default now()
    );
    create index incident_outages_services_idx on incident_outages using gin (services);
    create index incident_outages_period_idx on incident_outages (started_at, ended_at);
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`drop table incident_outages, incident_alerts, incident_alert_groups;`);
}
