// O2 at scale: what the API last delivered to the incident for each alert, so a re-send of an
// alert group signals only what changed (a new alert, a status or end change). Null until the
// signal carrying the alert succeeded: an alert whose delivery failed is sent again on the next post.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    alter table incident_alerts
      add column delivered_status   text check (delivered_status in ('firing', 'resolved')),
      add column delivered_ends_at  timestamptz;
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`alter table incident_alerts drop column delivered_status, drop column delivered_ends_at;`);
}
