import type { IncidentScope } from '../domain/incident';
import { affectedCustomersCondition, contactColumns, contactOf, type ContactRow, type CustomerContact } from './customers';
import { inTransaction, type Sql } from './sql';

// O4, O7: the recipients of one fan-out (tables `fanout_snapshots`, `fanout_recipients`), fixed
// when it starts.

export interface SnapshotOptions {
  /**
   * O2/P5: leave out customers who have a notification whose key starts with any of these prefixes
   * (told of the outage by an incident merged into this one). Looked up per customer by its index.
   */
  skipNotifiedUnder?: readonly string[];
}

/**
 * Stores the customers the scopes touch now as the recipients of `fanoutKey`, once: the first
 * call takes the snapshot, every later call (a retry, a continued run) finds it and changes
 * nothing. Returns how many recipients the fan-out has.
 */
export async function snapshotFanoutRecipients(sql: Sql, fanoutKey: string, scopes: readonly IncidentScope[], options: SnapshotOptions = {}): Promise<number> {
  return inTransaction(sql, (tx) => takeSnapshot(tx, fanoutKey, scopes, options.skipNotifiedUnder ?? []));
}

const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

async function takeSnapshot(sql: Sql, fanoutKey: string, scopes: readonly IncidentScope[], skipNotifiedUnder: readonly string[]): Promise<number> {
  // The primary key serialises concurrent calls: the second waits for the first to commit, then finds it.
  const [claimed] = await sql<{ fanout_key: string }[]>`
    insert into fanout_snapshots (fanout_key, recipients) values (${fanoutKey}, 0)
    on conflict (fanout_key) do nothing
    returning fanout_key`;
  if (!claimed) return (await findFanoutSnapshot(sql, fanoutKey))!;
  const inserted = await sql`
    insert into fanout_recipients (fanout_key, customer_id)
    select ${fanoutKey}, customers.id from customers
    where (${affectedCustomersCondition(sql, scopes)})
      ${
        skipNotifiedUnder.length === 0
          ? sql``
          : sql`and not exists (
              select 1 from notifications n
              where n.customer_id = customers.id and n.idempotency_key like any(${skipNotifiedUnder.map(likePrefix)}::text[]))`
      }
    on conflict do nothing
    returning customer_id`;
  await sql`update fanout_snapshots set recipients = ${inserted.length} where fanout_key = ${fanoutKey}`;
  return inserted.length;
}

/** The recipient count of a snapshot taken, or undefined when none was taken yet. */
export async function findFanoutSnapshot(sql: Sql, fanoutKey: string): Promise<number | undefined> {
  const [row] = await sql<{ recipients: number }[]>`select recipients from fanout_snapshots where fanout_key = ${fanoutKey}`;
  return row?.recipients;
}

export interface FanoutRecipient {
  /** Always set: the keyset moves by recipient, even one whose customer row has since gone. */
  customerId: string;
  /** The customer's current contact and plan; null when the customer was deleted after the snapshot. */
  customer: (CustomerContact & { plan: string }) | null;
}

/** The next `limit` recipients after `afterCustomerId` (keyset, in id order), with their contact as it is now. */
export async function pageFanoutRecipients(sql: Sql, fanoutKey: string, afterCustomerId: string | null, limit: number): Promise<FanoutRecipient[]> {
  const rows = await sql<(ContactRow & { customer_id: string; id: string | null; plan: string })[]>`
    select r.customer_id, ${sql.unsafe(contactColumns)}, c.plan
    from fanout_recipients r left join customers c on c.id = r.customer_id
    where r.fanout_key = ${fanoutKey} ${afterCustomerId === null ? sql`` : sql`and r.customer_id > ${afterCustomerId}`}
    order by r.customer_id
    limit ${limit}`;
  return rows.map((row) => ({
    customerId: row.customer_id,
    customer: row.id === null ? null : { ...contactOf(row), plan: row.plan },
  }));
}
