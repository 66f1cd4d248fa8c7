import postgres from 'postgres';
import { migrate } from '../../db/migrate';
import { startEphemeralPostgres, type RunningPostgres } from '../../scripts/toolchain/postgres';

export interface TestDatabase {
  url: string;
  sql: postgres.Sql;
  stop(): Promise<void>;
}

/** A real, migrated Postgres of its own for one test file. */
export async function startTestDatabase(port: number): Promise<TestDatabase> {
  const running: RunningPostgres = await startEphemeralPostgres(port);
  await migrate(running.url);
  const sql = postgres(running.url, { onnotice: () => {}, max: 5 });
  return {
    url: running.url,
    sql,
    stop: async () => {
      await sql.end();
      await running.stop();
    },
  };
}

/** A customer who consented to every channel they chose (D4). */
export async function seedCustomer(
  sql: postgres.Sql,
  customer: { id: string; locale?: string; email?: string | null; phone?: string | null; channels?: string[]; region?: string; services?: string[] },
): Promise<void> {
  const channels = customer.channels ?? ['inbox'];
  const consents = Object.fromEntries(channels.filter((channel) => channel !== 'inbox').map((channel) => [channel, { granted: true, recordedAt: '2026-01-01T00:00:00.000Z', source: 'test' }]));
  await sql`
    insert into customers (id, name, email, phone, channels, consents, locale, plan, services, region)
    values (${customer.id}, ${'Customer ' + customer.id}, ${customer.email ?? null}, ${customer.phone ?? null}, ${channels}, ${sql.json(consents)},
            ${customer.locale ?? 'zh-CN'}, 'home-300m', ${customer.services ?? ['broadband']}, ${customer.region ?? 'shanghai'})
    on conflict (id) do nothing`;
}
