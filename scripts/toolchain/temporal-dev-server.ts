import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { cacheDir } from './paths';
import { assertPortFree } from './ports';
import { ensureTemporalCli } from './temporal-cli';

/** The type names `temporal server start-dev --search-attribute Name=Type` accepts. */
export type SearchAttributeKind = 'Keyword' | 'Bool' | 'Datetime' | 'Int' | 'Double' | 'Text' | 'KeywordList';

export interface DevServerOptions {
  port: number;
  uiPort: number;
  namespace: string;
  /** SQLite file that keeps workflows across restarts; in memory when absent. */
  dbFilename?: string;
  searchAttributes: Record<string, SearchAttributeKind>;
  /** Where the server's output goes; kept in memory (for error messages only) when absent. */
  logFile?: string;
  /** D5: the remote codec the Web UI decodes payloads with (`--ui-codec-endpoint`), e.g. http://127.0.0.1:3000/codec. */
  uiCodecEndpoint?: string;
}

export interface RunningDevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

const sdkTypeOf: Record<SearchAttributeKind, SearchAttributeType> = {
  Keyword: SearchAttributeType.KEYWORD,
  Bool: SearchAttributeType.BOOL,
  Datetime: SearchAttributeType.DATETIME,
  Int: SearchAttributeType.INT,
  Double: SearchAttributeType.DOUBLE,
  Text: SearchAttributeType.TEXT,
  KeywordList: SearchAttributeType.KEYWORD_LIST,
};

const ip = '127.0.0.1';
// WAL lets the UI's reads run beside the server's writes; under WAL, synchronous=normal stays
// corruption-safe and saves an fsync on every commit.
const sqlitePragmaArgs = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'];
// A fresh SQLite schema on a 2-core machine takes a few seconds; a minute means something is wrong.
const startupTimeoutMs = 60_000;
const stopTimeoutMs = 10_000;

/** A Temporal dev server from the pinned CLI, or from the SDK's download when there is no CLI. */
export async function startTemporalDevServer(opts: DevServerOptions): Promise<RunningDevServer> {
  if (opts.dbFilename) mkdirSync(dirname(opts.dbFilename), { recursive: true });
  await assertPortFree(opts.port, 'Temporal');
  await assertPortFree(opts.uiPort, 'the Temporal UI');
  const cli = await ensureTemporalCli();
  const server = cli ? await startWithCli(cli, opts) : await startWithSdkDownloadOrExplain(opts);
  try {
    await registerMissingSearchAttributes(server.address, opts);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function startWithCli(cli: string, opts: DevServerOptions): Promise<RunningDevServer> {
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(opts.port), '--ui-port', String(opts.uiPort)];
  args.push('--namespace', opts.namespace, '--log-level', 'warn');
  for (const [name, kind] of Object.entries(opts.searchAttributes)) args.push('--search-attribute', `${name}=${kind}`);
  if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  if (opts.dbFilename) {
    args.push('--db-filename', opts.dbFilename, ...sqlitePragmaArgs);
  }
  const output = captureOutput(opts.logFile);
  const child = spawn(cli, args, { stdio: ['ignore', output.stdio, output.stdio] });
  output.attach(child);
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const whyNotRunning = () => spawnError?.message ?? (child.exitCode ?? child.signalCode ?? undefined)?.toString();
  const address = `${ip}:${opts.port}`;
  const server = { address, uiUrl: `http://${ip}:${opts.uiPort}`, stop: () => stopChild(child) };
  try {
    await waitUntilServing(address, opts.namespace, whyNotRunning);
  } catch (error) {
    await server.stop();
    throw new Error(`${(error as Error).message}\n--- temporal server output (tail) ---\n${output.tail()}`);
  }
  return server;
}

async function startWithSdkDownloadOrExplain(opts: DevServerOptions): Promise<RunningDevServer> {
  try {
    return await startWithSdkDownload(opts);
  } catch (error) {
    throw new Error(
      `no Temporal CLI here and the SDK could not download one (${(error as Error).message.split('\n')[0]}): install Go so the CLI can be built, set TEMPORAL_CLI to a temporal binary, or TEMPORAL_ADDRESS to a running server`,
    );
  }
}

async function startWithSdkDownload(opts: DevServerOptions): Promise<RunningDevServer> {
  // Loaded only here: @temporalio/testing is a dev dependency and this path is the exception.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const searchAttributes = Object.entries(opts.searchAttributes).map(([name, kind]) => defineSearchAttributeKey(name, sdkTypeOf[kind]));
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download', downloadDir: cacheDir },
      ip,
      port: opts.port,
      ui: true,
      uiPort: opts.uiPort,
      dbFilename: opts.dbFilename,
      namespace: opts.namespace,
      searchAttributes,
      extraArgs: [...(opts.dbFilename ? sqlitePragmaArgs : []), ...(opts.uiCodecEndpoint ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : [])],
    },
  });
  return { address: env.address, uiUrl: `http://${ip}:${opts.uiPort}`, stop: () => env.teardown() };
}

async function waitUntilServing(address: string, namespace: string, whyNotRunning: () => string | undefined): Promise<void> {
  const deadline = Date.now() + startupTimeoutMs;
  let lastError: unknown;
  // One lazy connection for all attempts (a failed Connection.connect leaves its channel open),
  // redialling quickly instead of gRPC's default one-second backoff.
  const connection = Connection.lazy({
    address,
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 250 },
  });
  try {
    while (Date.now() < deadline) {
      const stopped = whyNotRunning();
      if (stopped) throw new Error(`temporal server stopped during startup (${stopped})`);
      try {
        await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.describeNamespace({ namespace }));
        return;
      } catch (error) {
        lastError = error;
        await delay(250);
      }
    }
  } finally {
    await connection.close();
  }
  throw new Error(`temporal server at ${address} did not serve namespace ${namespace} within ${startupTimeoutMs / 1000}s: ${String(lastError)}`);
}

/**
 * start-dev creates a namespace's search attributes only with the namespace itself, so an
 * attribute added to the code after the SQLite file was created has to be registered here.
 */
async function registerMissingSearchAttributes(address: string, opts: DevServerOptions): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const { namespace } = opts;
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing: Record<string, IndexedValueType> = {};
    for (const [name, kind] of Object.entries(opts.searchAttributes)) {
      const wanted = indexedValueTypeOf(kind);
      const existing = customAttributes?.[name];
      if (existing === undefined) missing[name] = wanted;
      else if (existing !== wanted) {
        throw new Error(`search attribute ${name} already exists in ${namespace} with another type than ${kind}`);
      }
    }
    if (Object.keys(missing).length > 0) {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    }
  } finally {
    await connection.close();
  }
}

type IndexedValueType = NonNullable<ReturnType<typeof encodeSearchAttributeIndexedValueType>>;

function indexedValueTypeOf(kind: SearchAttributeKind): IndexedValueType {
  const encoded = encodeSearchAttributeIndexedValueType(sdkTypeOf[kind]);
  if (encoded === undefined) throw new Error(`no indexed value type for search attribute kind ${kind}`);
  return encoded;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const stoppedInTime = await Promise.race([exited.then(() => true), delay(stopTimeoutMs, false, { ref: false })]);
  if (!stoppedInTime) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Sends the server's output to the log file, or keeps its last lines, for the startup error message. */
function captureOutput(logFile: string | undefined) {
  const tailLimit = 8_000;
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true });
    const fd = openSync(logFile, 'a');
    return {
      stdio: fd,
      attach: (_child: ChildProcess) => closeSync(fd),
      tail: () => readFileSync(logFile, 'utf8').slice(-tailLimit),
    };
  }
  let recent = '';
  const keep = (chunk: Buffer) => {
    recent = (recent + chunk.toString()).slice(-tailLimit);
  };
  return {
    stdio: 'pipe' as const,
    attach: (child: ChildProcess) => {
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
    },
    tail: () => recent,
  };
}
