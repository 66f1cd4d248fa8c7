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

export async function seedCustomer(sql: postgres.Sql, customer: { id: string; locale?: string; email?: string | null; channels?: string[]; region?: string; services?: string[] }): Promise<void> {
  await sql`
    insert into customers (id, name, email, channels, locale, plan, services, region)
    values (${customer.id}, ${'Customer ' + customer.id}, ${customer.email ?? null}, ${customer.channels ?? ['inbox']},
            ${customer.locale ?? 'zh-CN'}, 'home-300m', ${customer.services ?? ['broadband']}, ${customer.region ?? 'shanghai'})
    on conflict (id) do nothing`;
}
