import { inTransaction, type Sql } from './sql';

// N4: a renewal notice to one customer uses the fan-out's recipient tables (`fanout_snapshots`,
// `fanout_recipients`, see db/fanout-recipients.ts) with that customer as the only recipient, so
// one page activity serves a customer and a segment alike.

/**
 * Fixes one customer as the recipients of `fanoutKey`, once (a retry changes nothing); a customer
 * that does not exist gives an empty snapshot. Returns the recipient count.
 */
export async function snapshotOneCustomer(sql: Sql, fanoutKey: string, customerId: string): Promise<number> {
  return inTransaction(sql, async (tx) => {
    const [claimed] = await tx<{ fanout_key: string }[]>`
      insert into fanout_snapshots (fanout_key, recipients) values (${fanoutKey}, 0)
      on conflict (fanout_key) do nothing
      returning fanout_key`;
    if (!claimed) {
      const [row] = await tx<{ recipients: number }[]>`select recipients from fanout_snapshots where fanout_key = ${fanoutKey}`;
      return row!.recipients;
    }
    const inserted = await tx`
      insert into fanout_recipients (fanout_key, customer_id)
      select ${fanoutKey}, id from customers where id = ${customerId}
      on conflict do nothing
      returning customer_id`;
    await tx`update fanout_snapshots set recipients = ${inserted.length} where fanout_key = ${fanoutKey}`;
    return inserted.length;
  });
}
