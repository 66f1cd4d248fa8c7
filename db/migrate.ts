import * as ley from 'ley';
import { fileURLToPath } from 'node:url';

const migrationsDir = fileURLToPath(new URL('./migrations', import.meta.url));

/** Applies every pending migration in one transaction; returns the names applied. */
export async function migrate(databaseUrl: string): Promise<string[]> {
  // ley's postgres driver hands its config to postgres.js as options, which take no URL.
  const url = new URL(databaseUrl);
  const config = {
    host: url.hostname,
    port: Number(url.port || 5432),
    database: decodeURIComponent(url.pathname.slice(1)),
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    ssl: url.searchParams.get('sslmode') === 'require' ? 'require' : undefined,
  };
  return ley.up({ cwd: migrationsDir, dir: '.', driver: 'postgres', config });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('DATABASE_URL is not set: point it at the Pledge database (npm start sets it for the local stack).');
    process.exit(2);
  }
  const applied = await migrate(url);
  console.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
}
