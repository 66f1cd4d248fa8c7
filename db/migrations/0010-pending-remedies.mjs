// P4: an outage remedy above the approval threshold is not paid at once: it waits here, under the
// ledger key it will be paid with, until a supervisor approves the incident's pending remedies.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    create table pending_remedies (
      idempotency_key  text primary key,
      case_id          text not null,
      customer_id      text not null references customers (id),
      kind             text not null,
      amount_cents     bigint not null check (amount_cents > 0),
      currency         text not null,
      policy_version   text not null,
      created_at       timestamptz not null default now(),
      approved_at      timestamptz,
      approved_by      text
    );
    create index pending_remedies_waiting_idx on pending_remedies (case_id) where approved_at is null;
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`drop table pending_remedies;`);
}
