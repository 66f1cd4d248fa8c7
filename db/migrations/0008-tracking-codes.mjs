// C8: users follow their own case. Every message to a customer about a case carries a tracking
// code for that (case, customer): unguessable (random, 100 bits), scoped to one case, revocable.
// The code is the credential, so it is unique; at most one live code per (case, customer), so a
// revoked code is replaced by a fresh one with the next message.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    create table tracking_codes (
      code         text primary key,
      case_id      text not null,
      customer_id  text not null,
      created_at   timestamptz not null default now(),
      revoked_at   timestamptz,
      revoked_by   text
    );
    create unique index tracking_codes_live_idx on tracking_codes (case_id, customer_id) where revoked_at is null;
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`drop table tracking_codes;`);
}
