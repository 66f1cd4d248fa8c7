// P5, P6: the ledger is append-only in the database itself, whatever code runs against it. A
// remedy paid by mistake is never changed or removed: it is corrected by a reversal entry (a
// negative amount linked by `reverses_id`, with its reason), at most one per entry, and a
// corrected amount, if any, is paid again as a new entry.
/** @param {import('postgres').Sql} sql */
export async function up(sql) {
  await sql.unsafe(`
    alter table ledger add column reason text;

    -- P6: a reversal is told apart by reverses_id; it takes money back (a negative amount) and says
    -- why. Any other entry pays (a positive amount).
    alter table ledger
      add constraint ledger_amount_sign check ((reverses_id is null and amount_cents > 0) or (reverses_id is not null and amount_cents < 0)),
      add constraint ledger_reversal_reason check (reverses_id is null or (reason is not null and reason <> ''));

    -- P6: an entry is reversed at most once.
    create unique index ledger_reverses_once on ledger (reverses_id) where reverses_id is not null;
    create index ledger_case_idx on ledger (case_id) where case_id is not null;

    -- P6: a reversal undoes exactly its entry: the same customer, kind and currency, the opposite
    -- amount; a reversal is never itself reversed.
    create function ledger_reversal_matches() returns trigger language plpgsql as $$
    declare
      target ledger%rowtype;
    begin
      if new.reverses_id is null then
        return new;
      end if;
      select * into target from ledger where id = new.reverses_id;
      if not found then
        raise exception 'ledger entry % does not exist: nothing to reverse', new.reverses_id
          using errcode = 'foreign_key_violation';
      end if;
      if target.reverses_id is not null then
        raise exception 'ledger entry % is itself a reversal and cannot be reversed', target.id
          using errcode = 'check_violation';
      end if;
      if new.customer_id <> target.customer_id or new.kind <> target.kind or new.currency <> target.currency
         or new.amount_cents <> -target.amount_cents then
        raise exception 'a reversal of ledger entry % must have its customer, kind and currency and the opposite amount', target.id
          using errcode = 'check_violation';
      end if;
      return new;
    end $$;
    create trigger ledger_reversal_matches
      before insert on ledger
      for each row execute function ledger_reversal_matches();

    create function ledger_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'ledger is append-only: % is not allowed; a mistake is corrected by a reversal entry (reverses_id), never by changing or removing a row', tg_op
        using errcode = 'insufficient_privilege';
    end $$;
    create trigger ledger_no_update_delete
      before update or delete on ledger
      for each row execute function ledger_append_only();
    create trigger ledger_no_truncate
      before truncate on ledger
      for each statement execute function ledger_append_only();
  `);
}

/** @param {import('postgres').Sql} sql */
export async function down(sql) {
  await sql.unsafe(`
    drop trigger ledger_no_truncate on ledger;
    drop trigger ledger_no_update_delete on ledger;
    drop function ledger_append_only;
    drop trigger ledger_reversal_matches on ledger;
    drop function ledger_reversal_matches;
    drop index ledger_case_idx;
    drop index ledger_reverses_once;
    alter table ledger drop constraint ledger_reversal_reason, drop constraint ledger_amount_sign, drop column reason;
  `);
}
