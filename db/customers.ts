import type postgres from 'postgres';
import type { ChannelConsent, ChannelProfile, QuietHours } from '../domain/channels';
import { scopeIsEmpty, type IncidentScope } from '../domain/incident';
import type { Sql } from './sql';

// Customers (table `customers`, D4): how to reach them and what they are subscribed to.

/** What the outbox needs to reach a customer: locale, addresses, channel choice and consent (D4), quiet hours. */
export interface CustomerContact extends ChannelProfile {
  id: string;
  locale: string;
  channels: string[];
}

/** The customer columns a CustomerContact is read from (table alias `c`). */
export const contactColumns = 'c.id, c.locale, c.email, c.phone, c.channels, c.consents, c.quiet_hours, c.time_zone';

export type ContactRow = {
  id: string;
  locale: string;
  email: string | null;
  phone: string | null;
  channels: string[];
  consents: Record<string, ChannelConsent>;
  quiet_hours: QuietHours | null;
  time_zone: string;
};

export const contactOf = (row: ContactRow): CustomerContact => ({
  id: row.id,
  locale: row.locale,
  email: row.email,
  phone: row.phone,
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

const customerOf = (row: CustomerRow): Customer => ({
  ...contactOf(row),
  name: row.name,
  plan: row.plan,
  services: row.services,
  region: row.region,
  updatedAt: row.updated_at.toISOString(),
});

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

/** Creates or replaces a customer (CRM sync); `created` tells which. */
export async function upsertCustomer(sql: Sql, id: string, fields: CustomerFields): Promise<{ customer: Customer; created: boolean }> {
  const [row] = await sql<(CustomerRow & { created: boolean })[]>`
    insert into customers as c (id, name, email, phone, channels, consents, quiet_hours, time_zone, locale, plan, services, region)
    values (${id}, ${fields.name}, ${fields.email}, ${fields.phone}, ${fields.channels}, ${sql.json(fields.consents as unknown as postgres.JSONValue)},
            ${fields.quietHours ? sql.json(fields.quietHours as unknown as postgres.JSONValue) : null}, ${fields.timeZone},
            ${fields.locale}, ${fields.plan}, ${fields.services}, ${fields.region})
    on conflict (id) do update set
      name = excluded.name, email = excluded.email, phone = excluded.phone, channels = excluded.channels,
      consents = excluded.consents, quiet_hours = excluded.quiet_hours, time_zone = excluded.time_zone,
      locale = excluded.locale, plan = excluded.plan, services = excluded.services, region = excluded.region,
      updated_at = now()
    returning ${sql.unsafe(customerColumns)}, (xmax = 0) as created`;
  return { customer: customerOf(row!), created: row!.created };
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
