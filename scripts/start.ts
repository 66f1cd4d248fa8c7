/**
 * `npm start`: the whole Pledge stack on this machine — Postgres, the Temporal dev server with its
 * Web UI, migrations, demo data, the worker and the API. The worker and the API are supervised: one
 * that exits is restarted with back-off while the rest keeps serving, and Postgres or Temporal going
 * away is reported. Ctrl-C (or SIGTERM) stops every part — the worker and the API, then Temporal,
 * then Postgres; the next start finds the same cases and timers (state lives under PLEDGE_DATA_DIR).
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import postgres from 'postgres';
import { devApiKeys, readEnv } from '../config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { demoComplaints, demoIncidents, seedDemoCustomers } from '../db/demo-data';
import { migrate } from '../db/migrate';
import { searchAttributeRegistrations } from '../workflows/search-attributes';
import { describeExit, supervise, type Supervised } from './lib/supervise';
import { watchDependency } from './lib/watch-dependency';
import { dataDir, repoRoot } from './toolchain/paths';
import { assertPortFree } from './toolchain/ports';
import { startPostgres } from './toolchain/postgres';
import { startTemporalDevServer } from './toolchain/temporal-dev-server';

const env = readEnv();
const temporalPort = Number(process.env.PLEDGE_TEMPORAL_PORT ?? 7233);
const temporalUiPort = Number(process.env.PLEDGE_TEMPORAL_UI_PORT ?? 8233);
const postgresPort = Number(process.env.PLEDGE_POSTGRES_PORT ?? 5433);
const logDir = join(dataDir, 'logs');
/** The worker and the API: restarted when they exit, stopped first. */
const children: Supervised[] = [];
/** The dependency watches stop with the children; Temporal after them, Postgres last. */
let stopWatches: (() => Promise<void>) | undefined;
let stopTemporal: (() => Promise<void>) | undefined;
let stopDatabase: (() => Promise<void>) | undefined;
/** Until the stack has come up, a child that exits is a failed start, not something to restart. */
let stackReady = false;
let stopping = false;

mkdirSync(logDir, { recursive: true });
// `on`, not `once`: Ctrl-C arrives more than once (from the terminal, and relayed by npm and tsx), and
// this process must live until every part has stopped.
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
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
  if ('stop' in temporal) stopTemporal = temporal.stop;

  step('migrations and demo customers');
  const applied = await migrate(database.url);
  const sql = postgres(database.url, { onnotice: () => {}, max: 2 });
  const newCustomers = await seedDemoCustomers(sql);
  await sql.end();
  console.log(`  migrations applied: ${applied.length ? applied.join(', ') : 'none pending'}; demo customers added: ${newCustomers}`);

  const apiKeys = env.PLEDGE_API_KEYS ?? devApiKeys;
  // The worker's SDK metrics (Prometheus) next to the API's port: 9464 beside 3000.
  const workerMetricsAddress = process.env.PLEDGE_WORKER_METRICS_ADDRESS ?? `127.0.0.1:${9464 + env.PORT - 3000}`;
  const childEnv = {
    ...process.env,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporal.address,
    PLEDGE_API_KEYS: apiKeys,
    PORT: String(env.PORT),
    PLEDGE_WORKER_METRICS_ADDRESS: workerMetricsAddress,
  };
  step('worker and API');
  launch('worker', 'worker/main.ts', childEnv);
  launch('api', 'api/server.ts', childEnv);

  const apiUrl = `http://127.0.0.1:${env.PORT}`;
  await waitForReady(apiUrl);
  const agentKey = /(?:^|,)agent:([^,]+)/.exec(apiKeys)?.[1];
  if (agentKey) await openDemoCases(apiUrl, agentKey);
  stackReady = true;
  stopWatches = watchDependencies(database.url, temporal.address);

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
The worker and the API are restarted if they exit. Ctrl-C stops everything; the next npm start
resumes the same cases and timers.`);
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

/** Runs `script` under supervision; its lines go to the console (prefixed) and to .data/logs/<name>.log. */
function launch(name: string, script: string, childEnv: NodeJS.ProcessEnv): void {
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const recentLines: string[] = [];
  const child = supervise({
    name,
    command: process.execPath,
    args: ['--import', 'tsx', script],
    cwd: repoRoot,
    env: childEnv,
    // The child drains for up to PLEDGE_SHUTDOWN_GRACE_MS, then closes its connections.
    stopTimeoutMs: env.PLEDGE_SHUTDOWN_GRACE_MS + 10_000,
    onOutput: (line) => {
      log.write(`${line}\n`);
      console.log(`[${name}] ${line}`);
      recentLines.push(line);
      if (recentLines.length > 12) recentLines.shift();
    },
    log: (message) => {
      // The log files hold the children's JSON lines; the supervisor's go in as JSON too.
      log.write(`${JSON.stringify({ level: 'warn', time: new Date().toISOString(), component: 'supervisor', msg: message })}\n`);
      console.error(message);
    },
    onExit: (exit) => {
      if (stackReady) return 'restart';
      void fail(new Error(`the ${name} stopped while the stack was starting (${describeExit(exit)}) — see ${logFile}\n${recentLines.join('\n')}`));
      return 'give-up';
    },
  });
  children.push(child);
}

/**
 * Says when Postgres or Temporal stops answering and when it is back. The children keep running
 * meanwhile (the API answers 503 on /readyz; the worker retries) and need no restart.
 */
function watchDependencies(databaseUrl: string, temporalAddress: string): () => Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 3 });
  const connection = Connection.lazy({ ...temporalConnectionOptions({ ...env, TEMPORAL_ADDRESS: temporalAddress }), channelArgs: { 'grpc.max_reconnect_backoff_ms': 2_000 } });
  const within3s = <T>(probe: Promise<T>) => Promise.race([probe, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 3 s')), 3_000).unref())]);
  const report = (what: string, logFile: string) => (up: boolean, detail: string) =>
    up
      ? console.log(`▸ ${what} answers again`)
      : console.error(`▸ ${what} is not answering (${detail}); the worker and the API keep running, /readyz answers 503 until it is back${logFile ? ` — see ${logFile}` : ''}`);
  const watches = [
    watchDependency({ name: 'postgres', probe: () => within3s(sql`select 1`), onChange: report(`Postgres (${databaseUrl.replace(/:[^:@/]+@/, ':…@')})`, '') }),
    watchDependency({
      name: 'temporal',
      probe: () => connection.withDeadline(Date.now() + 3_000, () => connection.workflowService.getSystemInfo({})),
      onChange: report(`Temporal (${temporalAddress})`, process.env.TEMPORAL_ADDRESS ? '' : join(logDir, 'temporal.log')),
    }),
  ];
  return async () => {
    for (const watch of watches) watch.stop();
    await Promise.allSettled([sql.end({ timeout: 1 }), connection.close()]);
  };
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
  const report = (error: Error) => console.error(`  while stopping: ${error.message}`);
  // Each part stops while what it depends on still runs: the worker and the API drain against a
  // live Temporal and Postgres. (A terminal's Ctrl-C also reaches every process of its group at
  // once; each then stops on its own, and the steps below find it already stopped.)
  const childrenStopped = Promise.all(children.map((child) => child.stop().catch(report)));
  await stopWatches?.().catch(report);
  await childrenStopped;
  await stopTemporal?.().catch(report);
  await stopDatabase?.().catch(report);
  process.exit(code);
}
