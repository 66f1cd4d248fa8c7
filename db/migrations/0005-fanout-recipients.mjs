// O4, O7: who a fan-out tells is fixed when it starts. The recipients are stored once per fan-out
// (its key is the notification key prefix, e.g. `<workflowId>:notice`) and pages read them in id
// order, so a customer who joins or leaves the scope mid-fan-out neither shifts the keyset nor
// changes who is told. The snapshot row marks the set as taken: a retry takes nothing again.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    create table fanout_snapshots (
      fanout_key  text primary key,
      recipients  integer not null,
      taken_at    timestamptz not null default now()
    );

    create table fanout_recipients (
      fanout_key   text not null,
      customer_id  text not null,
      primary key (fanout_key, customer_id)
    );
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`drop table fanout_recipients, fanout_snapshots;`);
}
