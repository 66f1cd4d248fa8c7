// Reaching people: SMS and staff pages join the outbox, rows carry a priority class, a not-before
// time (quiet hours, retry delay) and the channels to fall back to; a delivery is recorded when the
// channel confirms it (an SMS by its receipt). Customers gain consent per channel (D4), quiet hours
// and a time zone.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    alter table customers
      add column consents    jsonb not null default '{}',
      add column quiet_hours jsonb,
      add column time_zone   text not null default 'Asia/Shanghai';
    -- The channels customers already chose were their consent; recorded as coming from here.
    update customers set consents = (
      select coalesce(jsonb_object_agg(channel, jsonb_build_object('granted', true, 'recordedAt', now(), 'source', 'migration 0011')), '{}')
      from unnest(channels) as channel where channel <> 'inbox');

    alter table notifications
      alter column customer_id drop not null,
      add column staff_role   text check (staff_role in ('agent', 'supervisor')),
      add column priority     smallint not null default 1 check (priority between 0 and 2),
      add column not_before   timestamptz not null default now(),
      add column fallbacks    text[] not null default '{}',
      add column provider_ids text[] not null default '{}',
      add column delivered_at timestamptz,
      drop constraint notifications_channel_check,
      drop constraint notifications_status_check,
      add constraint notifications_channel_check check (channel in ('inbox', 'email', 'sms', 'webhook')),
      add constraint notifications_status_check
        check (status in ('pending', 'sending', 'sent', 'delivered', 'failed', 'not-sent')),
      add constraint notifications_audience_check check ((customer_id is null) <> (staff_role is null));
    -- Rows delivered before this migration: the inbox was delivered when marked, e-mail when sent.
    update notifications set status = 'delivered', delivered_at = sent_at where status = 'sent';

    drop index notifications_pending_idx;
    create index notifications_ready_idx on notifications (priority, not_before) where status = 'pending';
    create index notifications_provider_ids_idx on notifications using gin (provider_ids) where status = 'sent';
    create index notifications_case_idx on notifications (case_id, template) where case_id is not null;

    -- Delivery receipts by the provider's message id (an SMS part's SMSC id). A receipt may arrive
    -- before its submit's answer has been recorded, so it is kept here rather than on the row.
    create table notification_receipts (
      provider_id  text primary key,
      state        text not null check (state in ('delivered', 'failed')),
      detail       text,
      received_at  timestamptz not null default now()
    );
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`
    drop table notification_receipts;
    drop index notifications_ready_idx, notifications_provider_ids_idx, notifications_case_idx;
    delete from notifications where channel in ('sms', 'webhook') or customer_id is null;
    update notifications set status = 'sent' where status = 'delivered';
    update notifications set status = 'failed' where status = 'not-sent';
    alter table notifications
      drop constraint notifications_audience_check,
      drop constraint notifications_channel_check,
      drop constraint notifications_status_check,
      add constraint notifications_channel_check check (channel in ('inbox', 'email')),
      add constraint notifications_status_check check (status in ('pending', 'sending', 'sent', 'failed')),
      drop column staff_role, drop column priority, drop column not_before, drop column fallbacks,
      drop column provider_ids, drop column delivered_at,
      alter column customer_id set not null;
    create index notifications_pending_idx on notifications (created_at) where status = 'pending';
    alter table customers drop column consents, drop column quiet_hours, drop column time_zone;
  `);
}
