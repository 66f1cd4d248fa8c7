// The SMSC message ids of each sent SMS part, keyed for the receipts that come back: a receipt
// finds its message by primary key (a GIN search over provider_ids was ~0.1 ms per receipt).
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    create table notification_parts (
      provider_id      text primary key,
      notification_id  bigint not null references notifications (id)
    );
    create index notification_parts_notification_idx on notification_parts (notification_id);
    insert into notification_parts (provider_id, notification_id)
      select unnest(provider_ids), id from notifications where channel = 'sms' and cardinality(provider_ids) > 0
      on conflict do nothing;
    drop index notifications_provider_ids_idx;
    create index notifications_awaiting_receipts_idx on notifications (sent_at) where status = 'sent';
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`
    drop index notifications_awaiting_receipts_idx;
    create index notifications_provider_ids_idx on notifications using gin (provider_ids) where status = 'sent';
    drop table notification_parts;
  `);
}
