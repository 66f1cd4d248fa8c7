// Terminations (T4, T6, T7): a customer's account can be deactivated (status, when, which services
// were released), held against deletion (legal hold) and anonymised; the exports of their data are
// recorded (file path, SHA-256, size) and kept, as are their downloads.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    alter table customers
      add column status            text not null default 'active' check (status in ('active', 'terminated')),
      add column terminated_at     timestamptz,
      add column released_services text[],
      add column legal_hold        boolean not null default false,
      add column legal_hold_reason text,
      add column legal_hold_at     timestamptz,
      add column anonymised_at     timestamptz;
    create index customers_terminated_idx on customers (terminated_at) where status = 'terminated';

    -- T3, T4, T7: each export of a customer's data, numbered per case; written once, never changed.
    create table customer_exports (
      id           bigserial primary key,
      case_id      text not null,
      n            integer not null,
      customer_id  text not null,
      purpose      text not null check (purpose in ('requested', 'final')),
      path         text not null,
      sha256       text not null,
      size_bytes   bigint not null,
      created_at   timestamptz not null,
      unique (case_id, n)
    );
    create index customer_exports_customer_idx on customer_exports (customer_id);

    -- T7: who downloaded an export, when.
    create table customer_export_downloads (
      id             bigserial primary key,
      export_id      bigint not null references customer_exports (id),
      actor_id       text not null,
      actor_role     text not null,
      downloaded_at  timestamptz not null default now()
    );
    create index customer_export_downloads_export_idx on customer_export_downloads (export_id);

    create function customer_exports_append_only() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only (T7): % is not allowed', tg_table_name, tg_op
        using errcode = 'insufficient_privilege';
    end $$;
    create trigger customer_exports_no_update_delete before update or delete on customer_exports
      for each row execute function customer_exports_append_only();
    create trigger customer_export_downloads_no_update_delete before update or delete on customer_export_downloads
      for each row execute function customer_exports_append_only();
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`
    drop table customer_export_downloads, customer_exports;
    drop function customer_exports_append_only;
    drop index customers_terminated_idx;
    alter table customers
      drop column status, drop column terminated_at, drop column released_services, drop column legal_hold,
      drop column legal_hold_reason, drop column legal_hold_at, drop column anonymised_at;
  `);
}
