// Plain JavaScript: ley imports migrations with Node's own loader, which runs no TypeScript.
// The read model, the append-only audit trail (D1), the notification outbox and the ledger.
// Every table an activity writes has a unique idempotency key so retries never write twice.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    create table customers (
      id          text primary key,
      name        text not null,
      email       text,
      phone       text,
      channels    text[] not null default '{inbox}',
      locale      text not null default 'zh-CN',
      plan        text not null,
      services    text[] not null default '{}',
      region      text not null,
      created_at  timestamptz not null default now(),
      updated_at  timestamptz not null default now()
    );
    create index customers_region_idx on customers (region);
    create index customers_services_idx on customers using gin (services);

    create sequence case_number_seq;

    create table cases (
      case_id           text primary key,
      workflow_id       text not null unique,
      type              text not null,
      status            text not null,
      priority          text,
      customer_id       text,
      summary           text not null,
      sla_breached      boolean not null default false,
      next_deadline_at  timestamptz,
      opened_at         timestamptz not null,
      updated_at        timestamptz not null,
      last_step         integer not null,
      state             jsonb not null
    );
    create index cases_list_idx on cases (type, status, opened_at desc);
    create index cases_customer_idx on cases (customer_id, opened_at desc);
    create index cases_breached_idx on cases (sla_breached) where sla_breached;

    create table case_events (
      id           bigserial primary key,
      workflow_id  text not null,
      step         integer not null,
      case_id      text not null,
      type         text not null,
      actor_id     text not null,
      actor_role   text not null,
      occurred_at  timestamptz not null,
      data         jsonb not null default '{}',
      recorded_at  timestamptz not null default now(),
      unique (workflow_id, step)
    );
    create index case_events_case_idx on case_events (case_id, step);

    -- D1: the trail is append-only; the database itself refuses to change or remove a row.
    create function case_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'case_events is append-only: % is not allowed', tg_op
        using errcode = 'insufficient_privilege';
    end $$;
    create trigger case_events_no_update_delete
      before update or delete on case_events
      for each row execute function case_events_append_only();
    create trigger case_events_no_truncate
      before truncate on case_events
      for each statement execute function case_events_append_only();

    create table notifications (
      id               bigserial primary key,
      idempotency_key  text not null unique,
      customer_id      text not null,
      case_id          text,
      channel          text not null check (channel in ('inbox', 'email')),
      locale           text not null,
      template         text not null,
      subject          text not null,
      body             text not null,
      recipient        text,
      status           text not null default 'pending'
                         check (status in ('pending', 'sending', 'sent', 'failed')),
      attempts         integer not null default 0,
      last_error       text,
      created_at       timestamptz not null default now(),
      claimed_at       timestamptz,
      sent_at          timestamptz
    );
    create index notifications_pending_idx on notifications (created_at) where status = 'pending';
    create index notifications_sending_idx on notifications (claimed_at) where status = 'sending';
    create index notifications_customer_idx on notifications (customer_id, created_at desc);

    create table ledger (
      id               bigserial primary key,
      idempotency_key  text not null unique,
      customer_id      text not null,
      case_id          text,
      kind             text not null,
      amount_cents     bigint not null,
      currency         text not null default 'CNY',
      policy_version   text,
      reverses_id      bigint references ledger (id),
      created_at       timestamptz not null default now()
    );
    create index ledger_customer_idx on ledger (customer_id);

    create table idempotency_keys (
      scope         text not null,
      key           text not null,
      request_hash  text not null,
      case_id       text not null,
      created_at    timestamptz not null default now(),
      primary key (scope, key)
    );
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`
    drop table idempotency_keys, ledger, notifications, case_events, cases, customers;
    drop function case_events_append_only;
    drop sequence case_number_seq;
  `);
}
