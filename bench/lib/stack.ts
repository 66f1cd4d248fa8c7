/**
 * A stack of its own for one bench run, as bench/intake.ts builds it: the Temporal dev server on a
 * SQLite file, an embedded Postgres (migrated), the Pledge worker with the outbox dispatcher, and
 * the API over HTTP on loopback, every port free-picked. The worker runs in this process, or in
 * child processes of their own (bench/lib/worker-process.ts, one or several on the same task queue)
 * so their memory can be read apart. With `temporalAddress` the stack uses a Temporal server that
 * is already running (scripts/toolchain/temporal-cluster.ts) instead of a dev server of its own.
 */
import { serve } from '@hono/node-server';
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import postgres from 'postgres';
import { createApp } from '../../api/app';
import { payloadCodecFromEnv, pledgeDataConverter } from '../../codec/data-converter';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import { migrate } from '../../db/migrate';
import type { DeploymentPolicies } from '../../domain/sla-policy';
import { createDispatcher } from '../../notifications';
import { createLogger } from '../../observability/logger';
import { freePort } from '../../scripts/toolchain/ports';
import { startEphemeralPostgres } from '../../scripts/toolchain/postgres';
import { startTemporalDevServer } from '../../scripts/toolchain/temporal-dev-server';
import { allSettledOrThrow, Teardown } from '../../test/support/teardown';
import { bundleWorkflows } from '../../test/support/temporal';
import { createPledgeWorker } from '../../worker/worker';
import { searchAttributeRegistrations } from '../../workflows/search-attributes';
import { childProcesses } from './processes';

export interface BenchStackOptions {
  /** Names the temp directory: pledge-bench-<name>-… */
  name: string;
  taskQueue: string;
  /** PLEDGE_POLICY_FILE for the API (and for the inputs a bench builds itself). */
  policyFile?: string;
  /** The worker in a child process of its own (as in production), with this workflow cache size (the SDK's default when absent); in this process when absent. */
  childWorker?: { maxCachedWorkflows?: number };
  /** With `childWorker`: how many worker processes poll the task queue (1 when absent), each with its own outbox dispatcher. */
  workers?: number;
  /** A Temporal server already running, namespace `default` with Pledge's search attributes (scripts/toolchain/temporal-cluster.ts); a dev server of its own when absent. */
  temporalAddress?: string;
  /** Around the API's Temporal client, e.g. to time its calls. */
  clientInterceptors?: WorkflowClientInterceptor[];
  /** Client connections of the API's and the worker's Postgres pools (postgres.js default 10). */
  poolSize?: number;
}

/** process.memoryUsage() of the worker process, in MiB, and how many times its case runtime logged a wake-up due but not acted on. */
export interface WorkerMemory {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  wakeupsNotActedOn: number;
}

export interface BenchStack {
  dir: string;
  temporalAddress: string;
  databaseUrl: string;
  /** The API's pool; benches read the database through it too. */
  sql: postgres.Sql;
  temporal: Client;
  baseUrl: string;
  policies: DeploymentPolicies;
  /** The worker's process and its workflow cache size, when it runs apart; `memory()` is its last report of where its memory is. */
  worker?: WorkerProcessInfo;
  /** Every worker process, when they run apart (`worker` is the first). */
  workers?: WorkerProcessInfo[];
  /** Where the API's request log lines went (one JSON line per request, with durationMs); flush before reading. */
  requestLogFile: string;
  flushRequestLog(): void;
}

export interface WorkerProcessInfo {
  pid: number;
  maxCachedWorkflows: number;
  memory(): WorkerMemory | undefined;
}

let runtimeInstalled = false;

/**
 * What every bench stands on, each in a temporary directory removed by `teardown`: a Temporal dev
 * server (unless `temporalAddress` names one already running; its history in SQLite there, or in
 * memory), a migrated Postgres of its own, and the workflow bundle.
 */
export async function startBenchServers(teardown: Teardown, options: { name: string; temporalAddress?: string; temporalDb?: 'file' | 'memory' }) {
  const dir = mkdtempSync(join(tmpdir(), `pledge-bench-${options.name}-`));
  teardown.defer(() => rmSync(dir, { recursive: true, force: true }));
  const [temporalPort, uiPort, postgresPort] = [await freePort(), await freePort(), await freePort()];
  const [devServer, database, bundle] = await allSettledOrThrow([
    options.temporalAddress
      ? Promise.resolve({ address: options.temporalAddress })
      : teardown.add(
          startTemporalDevServer({
            port: temporalPort,
            uiPort,
            namespace: 'default',
            dbFilename: options.temporalDb === 'memory' ? undefined : join(dir, 'temporal.sqlite'),
            searchAttributes: searchAttributeRegistrations,
            logFile: join(dir, 'temporal.log'),
          }),
          (s) => s.stop(),
        ),
    teardown.add(startEphemeralPostgres(postgresPort), (pg) => pg.stop()),
    bundleWorkflows(),
  ] as const);
  await migrate(database.url);
  return { dir, devServer, database, bundle };
}

export async function startBenchStack(teardown: Teardown, options: BenchStackOptions): Promise<BenchStack> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const { dir, devServer, database, bundle } = await startBenchServers(teardown, { name: options.name, ...(options.temporalAddress ? { temporalAddress: options.temporalAddress } : {}) });
  const pool = { onnotice: () => {}, ...(options.poolSize ? { max: options.poolSize } : {}) };
  const env = readEnv({ PLEDGE_API_KEYS: devApiKeys, ...(options.policyFile ? { PLEDGE_POLICY_FILE: options.policyFile } : {}) });
  const policies = loadPolicies(env);
  const payloadCodec = payloadCodecFromEnv();

  let workerInfos: WorkerProcessInfo[] | undefined;
  if (options.childWorker) {
    workerInfos = await startWorkerProcesses(teardown, {
      count: options.workers ?? 1,
      dir,
      bundleCode: bundle.code,
      temporalAddress: devServer.address,
      databaseUrl: database.url,
      taskQueue: options.taskQueue,
      ...(options.childWorker.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.childWorker.maxCachedWorkflows }),
    });
  } else {
    // Two pools, as the worker and the API each have their own in production (worker/main.ts, api/server.ts).
    const workerSql = await teardown.add(Promise.resolve(postgres(database.url, pool)), (sql) => sql.end());
    await startInProcessWorker(teardown, { address: devServer.address, taskQueue: options.taskQueue, sql: workerSql, bundle, payloadCodec });
  }

  const sql = await teardown.add(Promise.resolve(postgres(database.url, pool)), (s) => s.end());
  const connection = await teardown.add(Connection.connect({ address: devServer.address }), (c) => c.close());
  const temporal = new Client({ connection, dataConverter: pledgeDataConverter(payloadCodec), interceptors: { workflow: options.clientInterceptors ?? [] } });
  // The API logs every request, as in production, but to a file rather than over the bench's output.
  const requestLogFile = join(dir, 'api-requests.log');
  const destination = pino.destination({ dest: requestLogFile, sync: false });
  teardown.defer(() => destination.flushSync());
  const app = createApp({ temporal, sql, apiKeys: parseApiKeys(env), policies, taskQueue: options.taskQueue, payloadCodec, logger: createLogger({ level: 'info', destination }) });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  teardown.defer(() => {
    server.close();
    (server as Server).closeAllConnections(); // keep-alive and in-flight requests would hold close() open
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    dir,
    temporalAddress: devServer.address,
    databaseUrl: database.url,
    sql,
    temporal,
    baseUrl,
    policies,
    ...(workerInfos ? { worker: workerInfos[0]!, workers: workerInfos } : {}),
    requestLogFile,
    flushRequestLog: () => destination.flushSync(),
  };
}

const workerScript = new URL('./worker-process.ts', import.meta.url).pathname;

/**
 * `count` worker processes (bench/lib/worker-process.ts) on one task queue, started together, each
 * stopped by `teardown`; the workflow bundle is written once to `dir` for all of them.
 */
/** A worker and its outbox dispatcher (no transports: e-mail and SMS settle as not sent) in this process, stopped by `teardown`. */
export async function startInProcessWorker(
  teardown: Teardown,
  options: { address: string; taskQueue: string; sql: postgres.Sql; bundle: Parameters<typeof createPledgeWorker>[0]['workflowBundle']; payloadCodec?: PayloadCodec },
): Promise<void> {
  const connection = await teardown.add(NativeConnection.connect({ address: options.address }), (c) => c.close());
  const worker = await createPledgeWorker({
    connection,
    namespace: 'default',
    taskQueue: options.taskQueue,
    sql: options.sql,
    workflowBundle: options.bundle,
    ...(options.payloadCodec ? { payloadCodec: options.payloadCodec } : {}),
  });
  const running = worker.run();
  teardown.defer(async () => {
    worker.shutdown();
    await running;
  });
  const dispatcher = createDispatcher({ sql: options.sql, transports: {}, log: () => {} });
  await teardown.add(dispatcher.start(), () => dispatcher.stop());
}

export async function startWorkerProcesses(
  teardown: Teardown,
  options: { count: number; dir: string; bundleCode: string; temporalAddress: string; databaseUrl: string; taskQueue: string; maxCachedWorkflows?: number },
): Promise<WorkerProcessInfo[]> {
  const codePath = join(options.dir, 'workflow-bundle.js');
  writeFileSync(codePath, options.bundleCode);
  const env = {
    TEMPORAL_ADDRESS: options.temporalAddress,
    DATABASE_URL: options.databaseUrl,
    TASK_QUEUE: options.taskQueue,
    WORKFLOW_BUNDLE: codePath,
    ...(options.maxCachedWorkflows === undefined ? {} : { MAX_CACHED_WORKFLOWS: String(options.maxCachedWorkflows) }),
  };
  const started = await allSettledOrThrow(Array.from({ length: options.count }, () => teardown.add(startWorkerProcess(env), ({ child }) => stopWorkerProcess(child))));
  return started.map(({ child, maxCachedWorkflows, memory }) => ({ pid: child.pid!, maxCachedWorkflows, memory }));
}

/** Starts bench/lib/worker-process.ts and waits for its READY line (2 minutes: several may start at once on a busy machine). */
async function startWorkerProcess(env: Record<string, string>): Promise<{ child: ChildProcess; maxCachedWorkflows: number; memory(): WorkerMemory | undefined }> {
  const child = spawn(process.execPath, ['--import', 'tsx', workerScript], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  let maxCachedWorkflows = NaN;
  let memory: WorkerMemory | undefined;
  let ready: () => void = () => {};
  const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
  lines.on('line', (line) => {
    if (line === 'READY') ready();
    else if (line.startsWith('CACHE ')) maxCachedWorkflows = Number(line.slice(6));
    else if (line.startsWith('MEM ')) {
      const usage = JSON.parse(line.slice(4)) as WorkerMemory;
      memory = { rss: mib(usage.rss), heapTotal: mib(usage.heapTotal), heapUsed: mib(usage.heapUsed), external: mib(usage.external), wakeupsNotActedOn: usage.wakeupsNotActedOn };
    } else console.log(`[worker] ${line}`);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the worker process did not report READY within 120 s')), 120_000);
    child.once('exit', (code, signal) => reject(new Error(`the worker process exited before READY (${code ?? signal})`)));
    ready = () => {
      clearTimeout(timer);
      resolve();
    };
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  child.removeAllListeners('exit');
  return { child, maxCachedWorkflows, memory: () => memory };
}

/** SIGTERM (the worker drains), SIGKILL after 20 s. */
async function stopWorkerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs a bench with a teardown that also runs on Ctrl-C, a kill or an unhandled failure, and says
 * afterwards whether any process it started is still running (exit code 1 if so).
 */
export async function runBench(main: (teardown: Teardown) => Promise<void>): Promise<void> {
  const teardown = new Teardown();
  let stopping: Promise<void> | undefined;
  let aborted = false;
  const stop = () => (stopping ??= teardown.run().catch(console.error));
  const abort = (code: number) => {
    if (aborted) return;
    aborted = true;
    setTimeout(() => process.exit(code), 60_000).unref(); // should a stop hang
    void stop().finally(() => process.exit(code));
  };
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by tsx).
  process.on('SIGINT', () => abort(130));
  process.on('SIGTERM', () => abort(143));
  for (const failure of ['unhandledRejection', 'uncaughtException'] as const) {
    // e.g. EPIPE when the output is piped into `head`; once only, as reporting it may fail the same way.
    process.on(failure, (reason) => {
      if (aborted) return;
      try {
        console.error(reason);
      } finally {
        abort(1);
      }
    });
  }
  try {
    await main(teardown);
  } catch (error) {
    if (!aborted) {
      console.error(error);
      process.exitCode = 1;
    }
  } finally {
    await stop();
    const left = childProcesses();
    console.log(left.length === 0 ? 'no child process left' : `child processes still running: ${left.join(', ')}`);
    if (left.length > 0) process.exitCode = 1;
  }
}
