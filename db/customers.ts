import type postgres from 'postgres';
import type { ChannelConsent, ChannelProfile, QuietHours } from '../domain/channels';
import { scopeIsEmpty, type IncidentScope } from '../domain/incident';
import type { CustomerCipher } from '../codec/customer-data-keys';
import { personalCustomerFields } from '../domain/personal-data';
import { cipherOfRow, keyColumns, newCustomerDataKey, type KeyRow } from './customer-keys';
import { inTransaction, type Sql } from './sql';

// Customers (table `customers`, D4): how to reach them and what they are subscribed to.

/** What the outbox needs to reach a customer: locale, addresses, channel choice and consent (D4), quiet hours. */
export interface CustomerContact extends ChannelProfile {
  id: string;
  locale: string;
  channels: string[];
}

/** The customer columns a CustomerContact is read from (table alias `c`), the data key among them to open the sealed ones. */
export const contactColumns = `c.id, c.locale, c.email, c.phone, c.channels, c.consents, c.quiet_hours, c.time_zone, ${keyColumns}`;

export type ContactRow = {
  id: string;
  locale: string;
  email: string | null;
  phone: string | null;
  channels: string[];
  consents: Record<string, ChannelConsent>;
  quiet_hours: QuietHours | null;
  time_zone: string;
} & Omit<KeyRow, 'id'>;

/** D5: a contact with its sealed fields opened. */
export const contactOf = (row: ContactRow): CustomerContact => contactWith(row, cipherOfRow(row));

const contactWith = (row: ContactRow, cipher: CustomerCipher): CustomerContact => ({
  id: row.id,
  locale: row.locale,
  email: cipher.open(row.email) as string | null,
  phone: cipher.open(row.phone) as string | null,
  channels: row.channels,
  consents: row.consents,
  quietHours: row.quiet_hours,
  timeZone: row.time_zone,
});

export interface Customer extends CustomerContact {
  name: string;
  plan: string;
  services: string[];
  region: string;
  updatedAt: string;
}

export type CustomerFields = Omit<Customer, 'id' | 'updatedAt'>;

type CustomerRow = ContactRow & { name: string; plan: string; services: string[]; region: string; updated_at: Date };

const customerColumns = `${contactColumns}, c.name, c.plan, c.services, c.region, c.updated_at`;

const customerOf = (row: CustomerRow): Customer => {
  const cipher = cipherOfRow(row);
  return {
    ...contactWith(row, cipher),
    name: cipher.open(row.name) as string,
    plan: row.plan,
    services: row.services,
    region: row.region,
    updatedAt: row.updated_at.toISOString(),
  };
};

export async function customerExists(sql: Sql, customerId: string): Promise<boolean> {
  const rows = await sql`select 1 from customers where id = ${customerId}`;
  return rows.length > 0;
}

export async function findCustomer(sql: Sql, customerId: string): Promise<Customer | undefined> {
  const [row] = await sql<CustomerRow[]>`select ${sql.unsafe(customerColumns)} from customers c where c.id = ${customerId}`;
  return row ? customerOf(row) : undefined;
}

/** What the outbox needs to address a customer. */
export async function findCustomerContact(sql: Sql, customerId: string): Promise<CustomerContact | undefined> {
  const [row] = await sql<ContactRow[]>`select ${sql.unsafe(contactColumns)} from customers c where c.id = ${customerId}`;
  return row ? contactOf(row) : undefined;
}

/**
 * Creates or replaces a customer (CRM sync); `created` tells which. D5: name, e-mail and phone are
 * sealed under the customer's data key, made with the row (or on its first write since field
 * encryption); a customer whose key was destroyed (D3) keeps only erased values.
 */
export async function upsertCustomer(sql: Sql, id: string, fields: CustomerFields): Promise<{ customer: Customer; created: boolean }> {
  return inTransaction(sql, async (tx) => {
    const [existing] = await tx<KeyRow[]>`select c.id, ${tx.unsafe(keyColumns)} from customers c where c.id = ${id} for update`;
    const key: KeyRow = existing?.data_key || existing?.data_key_shredded_at ? existing : { id, data_key: newCustomerDataKey(id), data_key_shredded_at: null };
    const cipher = cipherOfRow(key);
    const [name, email, phone] = personalCustomerFields.map((field) => cipher.seal(fields[field]));
    const [row] = await tx<(CustomerRow & { created: boolean })[]>`
      insert into customers as c (id, name, email, phone, channels, consents, quiet_hours, time_zone, locale, plan, services, region, data_key)
      values (${id}, ${name!}, ${email ?? null}, ${phone ?? null}, ${fields.channels}, ${tx.json(fields.consents as unknown as postgres.JSONValue)},
              ${fields.quietHours ? tx.json(fields.quietHours as unknown as postgres.JSONValue) : null}, ${fields.timeZone},
              ${fields.locale}, ${fields.plan}, ${fields.services}, ${fields.region}, ${key.data_key})
      on conflict (id) do update set
        name = excluded.name, email = excluded.email, phone = excluded.phone, channels = excluded.channels,
        consents = excluded.consents, quiet_hours = excluded.quiet_hours, time_zone = excluded.time_zone,
        locale = excluded.locale, plan = excluded.plan, services = excluded.services, region = excluded.region,
        data_key = excluded.data_key, updated_at = now()
      returning ${tx.unsafe(customerColumns)}, (xmax = 0) as created`;
    return { customer: customerOf(row!), created: row!.created };
  });
}

/** The customers a set of scopes touches (OR of the scopes), as a condition on `customers`. */
export function affectedCustomersCondition(sql: Sql, scopes: readonly IncidentScope[]): postgres.PendingQuery<postgres.Row[]> {
  const usable = scopes.filter((scope) => !scopeIsEmpty(scope));
  if (usable.length === 0) return sql`false`;
  return usable
    .map((scope) => {
      const services = scope.services.length ? sql`services && ${scope.services}::text[]` : sql`true`;
      const regions = scope.regions.length ? sql`region = any(${scope.regions}::text[])` : sql`true`;
      return sql`(${services} and ${regions})`;
    })
    .reduce((left, right) => sql`${left} or ${right}`);
}

/** O3/O6: how many customers the scopes touch now. */
export async function countAffectedCustomers(sql: Sql, scopes: readonly IncidentScope[]): Promise<number> {
  const [row] = await sql<{ count: number }[]>`select count(*)::int as count from customers where ${affectedCustomersCondition(sql, scopes)}`;
  return row!.count;
}
