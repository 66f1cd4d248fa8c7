// C9: what staff are told about cases (warnings, breaches). Separate from the customer outbox:
// the audience is a role, not a customer, and a warning may wait for working hours.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    create table staff_notifications (
      id               bigserial primary key,
      idempotency_key  text not null unique,
      role             text not null check (role in ('agent', 'supervisor')),
      case_id          text not null,
      kind             text not null,
      subject          text not null,
      body             text not null,
      occurred_at      timestamptz not null,
      deliver_after    timestamptz not null,
      created_at       timestamptz not null default now()
    );
    create index staff_notifications_inbox_idx on staff_notifications (role, deliver_after desc);
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`drop table staff_notifications;`);
}
