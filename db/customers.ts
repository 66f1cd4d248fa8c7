import type postgres from 'postgres';
import { scopeIsEmpty, type IncidentScope } from '../domain/incident';
import type { Sql } from './sql';

// Customers (table `customers`, D4): how to reach them and what they are subscribed to.

export interface CustomerContact {
  id: string;
  locale: string;
  email: string | null;
  channels: string[];
}

export interface Customer extends CustomerContact {
  name: string;
  phone: string | null;
  plan: string;
  services: string[];
  region: string;
  updatedAt: string;
}

export type CustomerFields = Omit<Customer, 'id' | 'updatedAt'>;

type CustomerRow = { id: string; name: string; email: string | null; phone: string | null; channels: string[]; locale: string; plan: string; services: string[]; region: string; updated_at: Date };

const customerOf = (row: CustomerRow): Customer => ({
  id: row.id,
  name: row.name,
  email: row.email,
  phone: row.phone,
  channels: row.channels,
  locale: row.locale,
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
  const [row] = await sql<CustomerRow[]>`
    select id, name, email, phone, channels, locale, plan, services, region, updated_at from customers where id = ${customerId}`;
  return row ? customerOf(row) : undefined;
}

/** What the outbox needs to address a customer. */
export async function findCustomerContact(sql: Sql, customerId: string): Promise<CustomerContact | undefined> {
  const [row] = await sql<CustomerContact[]>`select id, locale, email, channels from customers where id = ${customerId}`;
  return row;
}

/** Creates or replaces a customer (CRM sync); `created` tells which. */
export async function upsertCustomer(sql: Sql, id: string, fields: CustomerFields): Promise<{ customer: Customer; created: boolean }> {
  const [row] = await sql<(CustomerRow & { created: boolean })[]>`
    insert into customers (id, name, email, phone, channels, locale, plan, services, region)
    values (${id}, ${fields.name}, ${fields.email}, ${fields.phone}, ${fields.channels}, ${fields.locale}, ${fields.plan}, ${fields.services}, ${fields.region})
    on conflict (id) do update set
      name = excluded.name, email = excluded.email, phone = excluded.phone, channels = excluded.channels,
      locale = excluded.locale, plan = excluded.plan, services = excluded.services, region = excluded.region,
      updated_at = now()
    returning id, name, email, phone, channels, locale, plan, services, region, updated_at, (xmax = 0) as created`;
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
