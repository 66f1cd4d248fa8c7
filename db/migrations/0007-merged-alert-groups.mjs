// O2/P5: an incident merged into another hands its alert group to the target, so one incident may
// own several groups (its own and those of the incidents merged into it). A group row is keyed by
// (case, dedup key); the partial unique index still lets only one incident own a group at a time.
// An alert's incident is no longer tied to a group row by a foreign key: merged alerts move with
// their group to the target.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    alter table incident_alerts drop constraint incident_alerts_case_id_fkey;
    alter table incident_alert_groups drop constraint incident_alert_groups_pkey;
    alter table incident_alert_groups add primary key (case_id, dedup_key);
    create index incident_alerts_case_idx on incident_alerts (case_id);
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`
    drop index incident_alerts_case_idx;
    alter table incident_alert_groups drop constraint incident_alert_groups_pkey;
    alter table incident_alert_groups add primary key (case_id);
    alter table incident_alerts add foreign key (case_id) references incident_alert_groups (case_id);
  `);
}
