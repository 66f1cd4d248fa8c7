// Data rights (D2, D3, D4): consent per purpose and channel with its history; legal holds with
// theirs; the corrections made on a user's request (old → new); the retention purge's runs and
// what it purged (cases, messages). Every history table is append-only, like case_events (D1).
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    create function data_rights_append_only() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only (D1): % is not allowed', tg_table_name, tg_op
        using errcode = 'insufficient_privilege';
    end $$;

    -- D4: every consent answer given, per customer, purpose and channel, with its time and source.
    create table consent_events (
      id           bigserial primary key,
      customer_id  text not null,
      purpose      text not null,
      channel      text not null,
      granted      boolean not null,
      source       text not null,
      recorded_at  timestamptz not null,
      recorded_by  text,
      inserted_at  timestamptz not null default now()
    );
    create index consent_events_customer_idx on consent_events (customer_id, purpose, channel, id desc);
    create trigger consent_events_no_update_delete before update or delete on consent_events
      for each row execute function data_rights_append_only();

    -- The answers in force: the latest per customer, purpose and channel.
    create view customer_consents as
      select distinct on (customer_id, purpose, channel) customer_id, purpose, channel, granted, source, recorded_at, recorded_by
      from consent_events order by customer_id, purpose, channel, id desc;

    -- The per-channel consents the outbox reads (customers.consents, migration 0011) are the
    -- 'service-notices' answers: what is on record now becomes their first history entry, and every
    -- later change to them (this API, the CRM sync, anonymisation) is recorded by the triggers below.
    create function pledge_try_timestamptz(value text) returns timestamptz language plpgsql stable as $$
    begin
      return value::timestamptz;
    exception when others then
      return null;
    end $$;

    insert into consent_events (customer_id, purpose, channel, granted, source, recorded_at, recorded_by)
      select c.id, 'service-notices', entry.key, coalesce((entry.value ->> 'granted')::boolean, false), coalesce(entry.value ->> 'source', 'before migration 0015'),
             coalesce(pledge_try_timestamptz(entry.value ->> 'recordedAt'), c.updated_at), 'migration 0015'
      from customers c cross join lateral jsonb_each(c.consents) as entry
      where jsonb_typeof(entry.value) = 'object';

    create function customers_consents_inserted() returns trigger language plpgsql as $$
    begin
      insert into consent_events (customer_id, purpose, channel, granted, source, recorded_at, recorded_by)
        select n.id, 'service-notices', entry.key, coalesce((entry.value ->> 'granted')::boolean, false), coalesce(entry.value ->> 'source', 'unknown'),
               coalesce(pledge_try_timestamptz(entry.value ->> 'recordedAt'), now()), nullif(current_setting('pledge.actor', true), '')
        from inserted n cross join lateral jsonb_each(n.consents) as entry
        where jsonb_typeof(entry.value) = 'object';
      return null;
    end $$;
    create trigger customers_consents_inserted after insert on customers
      referencing new table as inserted for each statement execute function customers_consents_inserted();

    create function customers_consents_updated() returns trigger language plpgsql as $$
    begin
      insert into consent_events (customer_id, purpose, channel, granted, source, recorded_at, recorded_by)
        -- an answer given or changed
        select n.id, 'service-notices', entry.key, coalesce((entry.value ->> 'granted')::boolean, false), coalesce(entry.value ->> 'source', 'unknown'),
               coalesce(pledge_try_timestamptz(entry.value ->> 'recordedAt'), now()), nullif(current_setting('pledge.actor', true), '')
        from updated n join previous o on o.id = n.id cross join lateral jsonb_each(n.consents) as entry
        where n.consents is distinct from o.consents and jsonb_typeof(entry.value) = 'object'
          and (o.consents -> entry.key) is distinct from entry.value
        union all
        -- an answer removed (anonymisation clears them all): no consent from now on
        select n.id, 'service-notices', gone.key, false, coalesce(nullif(current_setting('pledge.consent_source', true), ''), 'consents cleared'),
               now(), nullif(current_setting('pledge.actor', true), '')
        from updated n join previous o on o.id = n.id cross join lateral jsonb_each(o.consents) as gone
        where n.consents is distinct from o.consents and (n.consents -> gone.key) is null and coalesce((gone.value ->> 'granted')::boolean, false);
      return null;
    end $$;
    create trigger customers_consents_updated after update on customers
      referencing old table as previous new table as updated for each statement execute function customers_consents_updated();

    -- D2: legal holds placed and lifted (the hold in force stays on customers.legal_hold, migration 0012).
    create table legal_hold_events (
      id           bigserial primary key,
      customer_id  text not null,
      action       text not null check (action in ('placed', 'lifted')),
      reason       text not null,
      actor_id     text not null,
      actor_role   text not null,
      at           timestamptz not null default now()
    );
    create index legal_hold_events_customer_idx on legal_hold_events (customer_id, id);
    create trigger legal_hold_events_no_update_delete before update or delete on legal_hold_events
      for each row execute function data_rights_append_only();

    -- D3, D1: a correction made on a data request, once per case (old → new per field).
    create table customer_corrections (
      case_id       text primary key,
      customer_id   text not null,
      changes       jsonb not null,
      corrected_at  timestamptz not null,
      corrected_by  text not null
    );
    create index customer_corrections_customer_idx on customer_corrections (customer_id);
    create trigger customer_corrections_no_update_delete before update or delete on customer_corrections
      for each row execute function data_rights_append_only();

    -- D2: each run of the retention purge, with its counts.
    create table purge_runs (
      id                      bigserial primary key,
      run_key                 text not null unique,
      policy_version          text not null,
      retention_years         integer not null,
      cutoff                  timestamptz not null,
      started_at              timestamptz not null default now(),
      finished_at             timestamptz,
      cases_purged            integer not null default 0,
      notifications_redacted  integer not null default 0,
      export_files_removed    integer not null default 0,
      held_cases              integer not null default 0
    );

    -- D2: a case whose personal data is gone keeps its row (type, status, dates, deadlines), marked.
    alter table cases add column purged_at timestamptz, add column purge_reason text;
    create index cases_retention_idx on cases (updated_at) where purged_at is null;
    -- D2, D3: a message whose text and address were removed (its subject, channel and times stay).
    alter table notifications add column redacted_at timestamptz;
    create index notifications_unredacted_case_idx on notifications (case_id) where redacted_at is null and customer_id is not null;
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`
    drop index notifications_unredacted_case_idx, cases_retention_idx;
    alter table notifications drop column redacted_at;
    alter table cases drop column purged_at, drop column purge_reason;
    drop trigger customers_consents_updated on customers;
    drop trigger customers_consents_inserted on customers;
    drop function customers_consents_updated, customers_consents_inserted, pledge_try_timestamptz;
    drop view customer_consents;
    drop table purge_runs, customer_corrections, legal_hold_events, consent_events;
    drop function data_rights_append_only;
  `);
}
