/**
 * Temporal past one machine's dev server: the real server (v1.29.1, the version the CLI v1.5.1
 * embeds) on Postgres with several history shards, its schema set up by the same script the compose
 * stack runs (deploy/temporal/setup-schema.sh with temporal-sql-tool). Pledge runs against it with
 * `TEMPORAL_ADDRESS`, and any number of worker processes can poll its task queue.
 *
 *   npx tsx scripts/toolchain/temporal-cluster.ts [--shards 8] [--port 7433] [--postgres-port 5533]
 *   TEMPORAL_ADDRESS=127.0.0.1:7433 npm start     # Pledge on it (npm start then runs no dev server)
 *   TEMPORAL_ADDRESS=127.0.0.1:7433 DATABASE_URL=… npm run worker   # a second worker process
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { SearchAttributeType } from '@temporalio/common';
import { searchAttributeRegistrations } from '../../workflows/search-attributes';
import { cacheDir, repoRoot } from './paths';
import { assertPortFree } from './ports';
import { startPostgres, type RunningPostgres } from './postgres';

const run = promisify(execFile);
export const temporalServerVersion = '1.29.1';

export interface ClusterOptions {
  /** Frontend gRPC port; history, matching and worker take the next ones. */
  port: number;
  postgresPort: number;
  shards: number;
  namespace: string;
  /** Where the Postgres cluster, the server's config and its log live. */
  dir: string;
  /** The server's dynamic config file; deploy/temporal/dynamicconfig/pledge.yaml (the compose stack's) when absent. */
  dynamicConfigFile?: string;
}

export interface RunningCluster {
  address: string;
  /** The server's process (all services in one). */
  pid: number;
  postgres: RunningPostgres;
  stop(): Promise<void>;
}

/** The server and its SQL tool, built once from their Go module into the toolchain cache. */
export async function ensureServerBinaries(log: (line: string) => void = console.log): Promise<{ server: string; sqlTool: string }> {
  const bin = join(cacheDir, 'bin');
  const server = join(bin, 'server');
  const sqlTool = join(bin, 'sql');
  for (const [path, pkg] of [
    [server, 'go.temporal.io/server/cmd/server'],
    [sqlTool, 'go.temporal.io/server/cmd/tools/sql'],
  ] as const) {
    if (existsSync(path)) continue;
    log(`building ${pkg}@v${temporalServerVersion} into ${bin} (once; several minutes)`);
    await run('go', ['install', `${pkg}@v${temporalServerVersion}`], { env: { ...process.env, GOBIN: bin }, maxBuffer: 64 * 1024 * 1024 });
  }
  return { server, sqlTool };
}

export async function startTemporalCluster(options: ClusterOptions): Promise<RunningCluster> {
  const { server, sqlTool } = await ensureServerBinaries();
  // gRPC and membership ports of frontend, history, matching and worker (serverConfig).
  for (const offset of [0, 1, 2, 6, 100, 101, 102, 106]) await assertPortFree(options.port + offset, 'the Temporal cluster');
  mkdirSync(options.dir, { recursive: true });
  const postgres = await startPostgres({ clusterDir: join(options.dir, 'postgres'), port: options.postgresPort, database: 'pledge' });
  try {
    await run('sh', [join(repoRoot, 'deploy/temporal/setup-schema.sh')], {
      env: { ...process.env, POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(options.postgresPort), POSTGRES_USER: 'pledge', POSTGRES_PASSWORD: 'pledge', SQL_TOOL: sqlTool },
    });
    const configDir = join(options.dir, 'config');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, 'pledge-cluster.yaml'), serverConfig(options));
    const logFd = openSync(join(options.dir, 'temporal-server.log'), 'a');
    const child = spawn(server, ['--root', options.dir, '--config', 'config', '--env', 'pledge-cluster', '--allow-no-auth', 'start'], { stdio: ['ignore', logFd, logFd] });
    const address = `127.0.0.1:${options.port}`;
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        // The timer is cleared once the server exits, so it does not hold the caller's process open for 15 s.
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(kill);
      }
      await postgres.stop();
    };
    try {
      await prepareNamespace(address, options.namespace, () => (child.exitCode !== null ? `the server exited (${child.exitCode}); see ${join(options.dir, 'temporal-server.log')}` : undefined));
    } catch (error) {
      await stop();
      throw error;
    }
    return { address, pid: child.pid!, postgres, stop };
  } catch (error) {
    await postgres.stop();
    throw error;
  }
}

/** Waits for the frontend, then creates the namespace (30 days) and Pledge's search attributes unless they exist. */
async function prepareNamespace(address: string, namespace: string, whyNotRunning: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const why = whyNotRunning();
    if (why) throw new Error(why);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('30 days') }).catch((error: { code?: number }) => {
          if (error.code !== 6) throw error; // ALREADY_EXISTS
        });
        const searchAttributes = Object.fromEntries(Object.entries(searchAttributeRegistrations).map(([name, kind]) => [name, encodeSearchAttributeIndexedValueType(kindToType[kind]!)!]));
        await connection.operatorService.addSearchAttributes({ namespace, searchAttributes }).catch((error: { code?: number }) => {
          if (error.code !== 6) throw error;
        });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the Temporal cluster at ${address} did not come up: ${error instanceof Error ? error.message : String(error)}`);
      await delay(1_000);
    }
  }
}

const kindToType: Record<string, SearchAttributeType> = { Keyword: SearchAttributeType.KEYWORD, Bool: SearchAttributeType.BOOL, Datetime: SearchAttributeType.DATETIME };

function serverConfig(options: ClusterOptions): string {
  const store = (database: string, maxConns: number) => `
      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: 127.0.0.1:${options.postgresPort}
        connectProtocol: tcp
        user: pledge
        password: pledge
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const service = (offset: number) => `
    rpc:
      grpcPort: ${options.port + offset}
      membershipPort: ${options.port + 100 + offset}
      bindOnLocalHost: true`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: ${options.shards}
  datastores:
    default:${store('temporal', 20)}
    visibility:${store('temporal_visibility', 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
  frontend:${service(0)}
  history:${service(1)}
  matching:${service(2)}
  worker:${service(6)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:${options.port}
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${options.dynamicConfigFile ?? join(repoRoot, 'deploy/temporal/dynamicconfig/pledge.yaml')}
  pollInterval: 10s
`;
}

if (process.argv[1]?.endsWith('temporal-cluster.ts')) {
  const flag = (name: string, fallback: number) => {
    const index = process.argv.indexOf(`--${name}`);
    return index > 0 ? Number(process.argv[index + 1]) : fallback;
  };
  const options: ClusterOptions = {
    port: flag('port', 7433),
    postgresPort: flag('postgres-port', 5533),
    shards: flag('shards', 8),
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    dir: process.env.PLEDGE_CLUSTER_DIR ?? mkdtempSync(join(tmpdir(), 'pledge-cluster-')),
  };
  const cluster = await startTemporalCluster(options);
  console.log(`Temporal ${temporalServerVersion} on Postgres (${options.shards} history shards) at ${cluster.address}; Postgres ${cluster.postgres.url}
  TEMPORAL_ADDRESS=${cluster.address} npm start   runs Pledge on it; more workers: TEMPORAL_ADDRESS=${cluster.address} DATABASE_URL=… npm run worker
Ctrl-C stops it.`);
  const stop = () => void cluster.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
