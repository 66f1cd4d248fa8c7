/**
 * The stack `npm start` runs — Postgres, the Temporal dev server on its SQLite file, migrations, the
 * worker and the API under the same supervisor (scripts/lib/supervise.ts) — assembled here so that
 * the fault test (scripts/fault-test.ts) can hurt each part and bring it back: SIGKILL the worker or
 * the API (the supervisor restarts them), stop or kill the dev server and start it again on the
 * same file, stop Postgres (fast or immediate shutdown) and start it again on the same cluster.
 */
import { createWriteStream, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { devApiKeys } from '../../config';
import { migrate } from '../../db/migrate';
import { searchAttributeRegistrations } from '../../workflows/search-attributes';
import { startPostgres, type RunningPostgres } from '../toolchain/postgres';
import { repoRoot } from '../toolchain/paths';
import { startTemporalDevServer, type RunningDevServer } from '../toolchain/temporal-dev-server';
import { describeExit, supervise, type Supervised } from './supervise';

export interface FaultStackPorts {
  api: number;
  temporal: number;
  temporalUi: number;
  postgres: number;
}

export interface FaultStack {
  apiUrl: string;
  databaseUrl: string;
  temporalAddress: string;
  /** Supervisor restarts so far, per child. */
  restarts(): { worker: number; api: number };
  /** Exits the test did not cause (a crash), each with the last lines the process wrote. */
  unplannedExits(): Array<{ name: string; how: string; lastLines: string[] }>;
  /** SIGKILL to the worker process; the supervisor restarts it. Resolves with its pid. */
  killWorker(): number;
  /** SIGKILL to the API process; the supervisor restarts it. */
  killApi(): number;
  /** `stop`: SIGTERM and wait; `kill`: SIGKILL. Then a new dev server on the same SQLite file and ports. */
  restartTemporal(how: 'stop' | 'kill'): Promise<void>;
  /** `fast`: SIGINT (open transactions rolled back); `immediate`: SIGQUIT (crash recovery on start). Then the same cluster again. */
  restartPostgres(how: 'fast' | 'immediate'): Promise<void>;
  /** Until the worker logs that it polls again (after a start or restart). */
  workerPolling(timeoutMs: number): Promise<void>;
  /** Until the API answers /readyz with 200. */
  apiReady(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startFaultStack(options: { dataDir: string; ports: FaultStackPorts; namespace: string; log: (line: string) => void }): Promise<FaultStack> {
  const { dataDir, ports } = options;
  const logDir = join(dataDir, 'logs');
  const clusterDir = join(dataDir, 'postgres');
  const sqliteFile = join(dataDir, 'temporal.sqlite');
  const children: Supervised[] = [];
  const logs: WriteStream[] = [];
  let database: RunningPostgres | undefined;
  let temporal: RunningDevServer | undefined;
  let stopping = false;
  let workerUp = false;
  const killing = new Set<string>();
  const unplanned: Array<{ name: string; how: string; lastLines: string[] }> = [];

  const startDatabase = () => startPostgres({ clusterDir, port: ports.postgres });
  const startTemporal = () =>
    startTemporalDevServer({
      port: ports.temporal,
      uiPort: ports.temporalUi,
      namespace: options.namespace,
      dbFilename: sqliteFile,
      searchAttributes: searchAttributeRegistrations,
      logFile: join(logDir, 'temporal.log'),
    });

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(children.map((child) => child.stop()));
    await temporal?.stop().catch((error: Error) => options.log(`while stopping Temporal: ${error.message}`));
    await database?.stop().catch((error: Error) => options.log(`while stopping Postgres: ${error.message}`));
    await Promise.all(logs.map((log) => new Promise((resolve) => log.end(resolve))));
  };

  try {
    [database, temporal] = await Promise.all([startDatabase(), startTemporal()]);
    await migrate(database.url);
    const databaseUrl = database.url;
    const temporalAddress = temporal.address;
    const apiUrl = `http://127.0.0.1:${ports.api}`;
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: options.namespace,
      PLEDGE_API_KEYS: devApiKeys,
      PORT: String(ports.api),
      PLEDGE_DATA_DIR: dataDir,
      PLEDGE_SHUTDOWN_GRACE_MS: '5000',
      NODE_ENV: 'development',
    };
    // No SMTP or SMPP: e-mail is recorded not-sent (README "Channels"); the test counts rows by key.
    for (const name of ['SMTP_URL', 'SMPP_URL', 'PLEDGE_STAFF_ROUTES', 'PLEDGE_PROVISIONING_WEBHOOK', 'PLEDGE_API_KEYS_FILE', 'PLEDGE_POLICY_FILE']) delete childEnv[name];

    const launch = (name: 'worker' | 'api', script: string) => {
      const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
      logs.push(log);
      const recent: string[] = [];
      const child = supervise({
        name,
        command: process.execPath,
        args: ['--import', 'tsx', script],
        cwd: repoRoot,
        env: childEnv,
        stopTimeoutMs: 15_000,
        onOutput: (line) => {
          log.write(`${line}\n`);
          if (name === 'worker' && line.includes('pledge worker polling')) workerUp = true;
          // Stack traces and the like, not the JSON log lines, tell why a process died.
          if (!line.startsWith('{')) {
            recent.push(line);
            if (recent.length > 8) recent.shift();
          }
        },
        log: (message) => {
          log.write(`${JSON.stringify({ component: 'supervisor', msg: message })}\n`);
          options.log(message);
        },
        onExit: (exit) => {
          if (name === 'worker') workerUp = false;
          if (stopping) return 'give-up';
          if (killing.has(name) && exit.signal === 'SIGKILL') killing.delete(name);
          else unplanned.push({ name, how: describeExit(exit), lastLines: recent.splice(0) });
          log.write(`${JSON.stringify({ component: 'supervisor', msg: `exited: ${describeExit(exit)}` })}\n`);
          return 'restart';
        },
      });
      children.push(child);
      return child;
    };
    const worker = launch('worker', 'worker/main.ts');
    const api = launch('api', 'api/server.ts');

    const kill = (child: Supervised) => {
      const pid = child.pid;
      if (pid === undefined) throw new Error(`the ${child.name} is not running (waiting for its restart)`);
      killing.add(child.name);
      process.kill(pid, 'SIGKILL');
      if (child === worker) workerUp = false;
      return pid;
    };

    const stack: FaultStack = {
      apiUrl,
      databaseUrl,
      temporalAddress,
      restarts: () => ({ worker: worker.restarts, api: api.restarts }),
      unplannedExits: () => [...unplanned],
      killWorker: () => kill(worker),
      killApi: () => kill(api),
      async restartTemporal(how) {
        if (how === 'kill') {
          const pid = pidsWhere((command) => command.includes('start-dev') && command.includes(sqliteFile))[0];
          if (pid === undefined) throw new Error('no Temporal dev server process found to kill');
          process.kill(pid, 'SIGKILL');
        }
        await temporal!.stop();
        temporal = await startTemporal();
      },
      async restartPostgres(how) {
        if (how === 'immediate') {
          const postmaster = Number(readFileSync(join(database!.clusterDir ?? clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
          process.kill(postmaster, 'SIGQUIT');
        }
        await database!.stop();
        // The old postmaster's port may be held for a moment after it exits.
        for (let attempt = 1; ; attempt += 1) {
          try {
            database = await startDatabase();
            return;
          } catch (error) {
            if (attempt >= 20) throw error;
            await delay(250);
          }
        }
      },
      async workerPolling(timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        while (!workerUp) {
          if (Date.now() > deadline) throw new Error(`the worker did not poll again within ${timeoutMs / 1000} s — see ${join(logDir, 'worker.log')}`);
          await delay(100);
        }
      },
      async apiReady(timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        let last = '';
        for (;;) {
          try {
            const response = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
            if (response.ok) return;
            last = await response.text();
          } catch (error) {
            last = (error as Error).message;
          }
          if (Date.now() > deadline) throw new Error(`the API was not ready within ${timeoutMs / 1000} s: ${last} — see ${join(logDir, 'api.log')}`);
          await delay(200);
        }
      },
      stop,
    };
    return stack;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Processes (other than this one) whose command line satisfies `match`. */
export function pidsWhere(match: (command: string, environment: string) => boolean): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      let environment = '';
      try {
        environment = readFileSync(`/proc/${entry}/environ`, 'utf8');
      } catch {
        // Not ours to read.
      }
      if (match(command, environment)) found.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** Every process started for this data directory: its command line names it, or it inherited PLEDGE_DATA_DIR. */
export function processesOf(dataDir: string): Array<{ pid: number; command: string }> {
  const marker = `PLEDGE_DATA_DIR=${dataDir}\0`;
  return pidsWhere((command, environment) => command.includes(dataDir) || environment.includes(marker)).map((pid) => {
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim().slice(0, 160);
    } catch {
      // Gone.
    }
    return { pid, command };
  });
}
