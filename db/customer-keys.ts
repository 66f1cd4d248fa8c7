import { customerCipher, newWrappedDataKey, unkeyedCipher as unkeyed, type CustomerCipher } from '../codec/customer-data-keys';
import { payloadCodecFromEnv } from '../codec/data-converter';
import type { Sql } from './sql';

// Customers' data keys (columns customers.data_key, data_key_shredded_at; D5): made when the
// customer is first written through Pledge, read for every seal and open — never cached across
// calls, so a key destroyed by one process is gone for all of them at once — and destroyed by deletion.

/** The columns a cipher is made from (table alias `c`). */
export const keyColumns = 'c.data_key, c.data_key_shredded_at';

export type KeyRow = { id: string; data_key: string | null; data_key_shredded_at: Date | null };

export const cipherOfRow = (row: KeyRow): CustomerCipher => customerCipher(payloadCodecFromEnv(), row.id, { wrapped: row.data_key, shredded: row.data_key_shredded_at !== null });

/** A new wrapped data key for a customer not yet written. */
export const newCustomerDataKey = (customerId: string): string => newWrappedDataKey(payloadCodecFromEnv(), customerId);

/** The ciphers of these customers; an unknown customer gets the unkeyed one (values as they are). */
export async function loadCustomerCiphers(sql: Sql, customerIds: Iterable<string>): Promise<(customerId: string | null) => CustomerCipher> {
  const ids = [...new Set(customerIds)];
  const rows = ids.length === 0 ? [] : await sql<KeyRow[]>`select c.id, ${sql.unsafe(keyColumns)} from customers c where c.id = any(${ids}::text[])`;
  const ciphers = new Map(rows.map((row) => [row.id, cipherOfRow(row)]));
  return (customerId) => (customerId === null ? unkeyed : (ciphers.get(customerId) ?? unkeyed));
}

/** The cipher of one customer. */
export async function loadCustomerCipher(sql: Sql, customerId: string | null): Promise<CustomerCipher> {
  return (await loadCustomerCiphers(sql, customerId === null ? [] : [customerId]))(customerId);
}

/** The cipher of the customer a case belongs to (unkeyed for a case of no customer, such as an incident). */
export async function loadCaseCipher(sql: Sql, caseId: string): Promise<CustomerCipher> {
  const [row] = await sql<KeyRow[]>`select c.id, ${sql.unsafe(keyColumns)} from cases k join customers c on c.id = k.customer_id where k.case_id = ${caseId}`;
  return row ? cipherOfRow(row) : unkeyed;
}

/**
 * D3: destroys the customer's data key (crypto-shredding): every value sealed under it stays where
 * it is and can no longer be read by anyone. Once only; answers when it happened.
 */
export async function shredCustomerKey(sql: Sql, customerId: string, at: string): Promise<string | undefined> {
  const [row] = await sql<{ data_key_shredded_at: Date }[]>`
    update customers set data_key = null, data_key_shredded_at = coalesce(data_key_shredded_at, ${at}), updated_at = now()
    where id = ${customerId}
    returning data_key_shredded_at`;
  return row?.data_key_shredded_at.toISOString();
}
