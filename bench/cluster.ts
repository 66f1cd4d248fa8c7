/**
 * `npm run bench:cluster`: B1 (intake, bench/intake.ts) and B3 (outage fan-out,
 * bench/incident-fanout.ts) against Temporal server 1.29.1 on Postgres with several history shards
 * (scripts/toolchain/temporal-cluster.ts), with 1 and with 2 worker processes on the task queue
 * (bench/lib/worker-process.ts), beside the same benches against the SQLite dev server with 1 worker
 * process. Every bench runs on a fresh server (cluster or dev server) and a Pledge Postgres of its
 * own, one after another. While they run, the CPU of every process below this one is read from
 * /proc and grouped (Temporal server, its Postgres, Pledge's Postgres, each worker process, the
 * bench process with the API and the load), so each figure comes with what was busy. Prints one
 * table with the configurations side by side and writes one JSON file with every figure, the
 * machine and the load average before and after.
 *
 *   npm run bench:cluster [-- --shards 4 --workers 1,2 --intake-count 150 --levels 1,4,32
 *                             --fanout-customers 20000 --skip-dev --only intake,fanout
 *                             --port 7633 --timeout-minutes 10 --dynamic-config file.yaml]
 * --dynamic-config: the cluster's dynamic config (deploy/temporal/dynamicconfig/pledge.yaml when absent).
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../scripts/toolchain/ports';
import { startTemporalCluster, temporalServerVersion, type RunningCluster } from '../scripts/toolchain/temporal-cluster';
import { CpuTimeline, type SampledProcess } from './lib/processes';
import { runBenchChild } from './lib/bench-child';
import { loadAverage, printTable, writeResults } from './lib/report';
import { runBench } from './lib/stack';

const { values } = parseArgs({
  options: {
    shards: { type: 'string', default: '4' },
    workers: { type: 'string', default: '1,2' },
    'intake-count': { type: 'string', default: '150' },
    levels: { type: 'string', default: '1,4,32' },
    'fanout-customers': { type: 'string', default: '20000' },
    'skip-dev': { type: 'boolean', default: false },
    only: { type: 'string', default: 'intake,fanout' },
    port: { type: 'string', default: '7633' },
    'timeout-minutes': { type: 'string', default: '10' },
    'dynamic-config': { type: 'string' },
  },
});
const shards = Number(values.shards);
const levels = values.levels.split(',').map(Number);
const top = Math.max(...levels);
const timeoutMs = Number(values['timeout-minutes']) * 60_000;

interface Config {
  key: string;
  label: string;
  cluster: boolean;
  workers: number;
}
const configs: Config[] = [
  ...(values['skip-dev'] ? [] : [{ key: 'dev-1', label: 'dev server (SQLite), 1 worker', cluster: false, workers: 1 }]),
  ...values.workers.split(',').map((w) => ({
    key: `cluster-${w}`,
    label: `cluster (Postgres, ${shards} shards), ${w} worker${w === '1' ? '' : 's'}`,
    cluster: true,
    workers: Number(w),
  })),
];

interface Bench {
  name: 'intake' | 'fanout';
  script: string;
  args: string[];
}
const benches: Bench[] = (
  [
    { name: 'intake', script: 'bench/intake.ts', args: ['--count', values['intake-count'], '--levels', values.levels] },
    { name: 'fanout', script: 'bench/incident-fanout.ts', args: ['--customers', values['fanout-customers']] },
  ] as const
)
  .filter((bench) => values.only.split(',').includes(bench.name))
  .map((bench) => ({ ...bench, args: [...bench.args] }));

/**
 * Which part of the run a process is: the cluster's server and its Postgres are children of this
 * process; the bench is another child, with its Pledge Postgres, dev server and worker processes below it.
 */
function classify(proc: SampledProcess, ancestors: SampledProcess[]): string {
  const child = ancestors[0] ?? proc;
  if (child.comm === 'server') return 'temporal';
  if (child.comm === 'postgres') return 'temporal-postgres';
  if (child.comm !== 'node') return 'setup'; // the schema tool, while a cluster starts
  if (proc.comm === 'postgres') return 'pledge-postgres';
  if (proc.comm === 'temporal') return 'temporal'; // the dev server (the CLI)
  const worker = [proc, ...ancestors].find((p) => p.cmdline.includes('worker-process'));
  if (worker) return `worker:${worker.pid}`;
  return 'api'; // the bench process: the API, the load and its Temporal client (and tsx's esbuild)
}

const groupLabels: Array<[string, string]> = [
  ['temporal', 'Temporal server'],
  ['temporal-postgres', "Temporal's Postgres"],
  ['worker', 'worker process(es)'],
  ['api', 'API + load (bench process)'],
  ['pledge-postgres', "Pledge's Postgres"],
  ['others', 'other work on the machine'],
];

interface CpuShare {
  seconds: number;
  /** Cores busy on average (CPU-seconds / seconds) per group; `worker` sums the worker processes, `workers` has each. */
  cores: Record<string, number>;
  workers: number[];
  machineCores: number;
}

function cpuShare(timeline: CpuTimeline, from: number, to: number): CpuShare {
  const { seconds, groups, machineBusy } = timeline.between(from, to);
  const per = (cpuSeconds: number) => (seconds > 0 ? Math.round((cpuSeconds / seconds) * 100) / 100 : NaN);
  const cores: Record<string, number> = {};
  const workers: number[] = [];
  let ours = 0;
  for (const [group, cpuSeconds] of Object.entries(groups)) {
    ours += cpuSeconds;
    if (group.startsWith('worker:')) {
      workers.push(per(cpuSeconds));
      cores.worker = (cores.worker ?? 0) + cpuSeconds;
    } else cores[group] = (cores[group] ?? 0) + cpuSeconds;
  }
  for (const group of Object.keys(cores)) cores[group] = per(cores[group]!);
  cores.others = per(Math.max(0, machineBusy - ours));
  return { seconds: Math.round(seconds * 10) / 10, cores, workers, machineCores: per(machineBusy) };
}

interface Outcome {
  code: number;
  timedOut: boolean;
  wallMs: number;
  resultFile?: string;
  result?: any;
  cpu?: Record<string, CpuShare>;
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
  });
}

await runBench(async (teardown) => {
  const loadBefore = loadAverage();
  const timeline = new CpuTimeline(classify, 500);
  timeline.start();
  teardown.defer(() => timeline.stop());
  // What is running now, so Ctrl-C or a kill stops it (the bench stops its own stack on SIGTERM).
  let child: ChildProcess | undefined;
  let cluster: { running: RunningCluster; dir: string } | undefined;
  const stopCluster = async () => {
    const stopping = cluster;
    cluster = undefined;
    if (!stopping) return;
    await stopping.running.stop();
    rmSync(stopping.dir, { recursive: true, force: true });
    if (stopping.running.postgres.clusterDir && !stopping.running.postgres.clusterDir.startsWith(stopping.dir)) rmSync(stopping.running.postgres.clusterDir, { recursive: true, force: true });
  };
  teardown.defer(async () => {
    await stopChild(child);
    await stopCluster();
  });

  const outcomes: Record<string, Record<string, Outcome>> = {};
  const startedAt = Date.now();
  for (const config of configs) {
    console.log(`\n=== ${config.label}`);
    outcomes[config.key] = {};
    for (const bench of benches) {
      const extraArgs = ['--workers', String(config.workers)];
      if (config.cluster) {
        // A fresh cluster per bench, as the dev server is: no workflow of an earlier bench is still open on it.
        const dir = mkdtempSync(join(tmpdir(), 'pledge-bench-cluster-'));
        chmodSync(dir, 0o755); // as root, its Postgres runs as `postgres` and must reach its cluster directory
        const clusterStart = Date.now();
        try {
          const options = {
            port: Number(values.port),
            postgresPort: await freePort(),
            shards,
            namespace: 'default',
            dir,
            ...(values['dynamic-config'] ? { dynamicConfigFile: values['dynamic-config'] } : {}),
          };
          cluster = { running: await startTemporalCluster(options), dir };
        } catch (error) {
          rmSync(dir, { recursive: true, force: true });
          throw error;
        }
        console.log(`Temporal ${temporalServerVersion} on Postgres, ${shards} history shards, at ${cluster.running.address}: up in ${Date.now() - clusterStart} ms`);
        extraArgs.push('--temporal-address', cluster.running.address);
      }
      const outcome: Outcome = await runBenchChild({ ...bench, args: [...bench.args, ...extraArgs], env: { LOG_LEVEL: 'warn' } }, { timeoutMs, onChild: (running) => (child = running) });
      if (outcome.code !== 0 && cluster) {
        const log = join(cluster.dir, 'temporal-server.log');
        if (existsSync(log)) console.error(`last lines of the Temporal server's log:\n${readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}`);
      }
      await stopCluster();
      if (outcome.resultFile) {
        outcome.result = JSON.parse(readFileSync(outcome.resultFile, 'utf8'));
        outcome.cpu = {};
        if (bench.name === 'intake') for (const window of outcome.result.windows ?? []) outcome.cpu[`${window.mode} c=${window.concurrency}`] = cpuShare(timeline, window.from, window.to);
        else for (const [phase, window] of Object.entries<{ from: number; to: number }>(outcome.result.windows ?? {})) outcome.cpu[phase] = cpuShare(timeline, window.from, window.to);
      }
      outcomes[config.key]![bench.name] = outcome;
      console.log(`${bench.name} on ${config.label}: exit ${outcome.code}${outcome.timedOut ? ' (timed out)' : ''} after ${Math.round(outcome.wallMs / 1000)} s`);
    }
  }
  timeline.stop();

  // One table, the configurations side by side.
  const ms = (value: number | null | undefined) => (value === null || value === undefined || Number.isNaN(value) ? '?' : `${Math.round(value).toLocaleString('en')}`);
  const cell = (config: Config, bench: string, figure: (result: any, outcome: Outcome) => string) => {
    const outcome = outcomes[config.key]?.[bench];
    if (!outcome?.result) return outcome ? `exit ${outcome.code}, no result` : '-';
    try {
      return figure(outcome.result, outcome);
    } catch {
      return '?';
    }
  };
  const rows: string[][] = [];
  const row = (figure: string, bench: string, value: (result: any, outcome: Outcome) => string) => rows.push([figure, ...configs.map((config) => cell(config, bench, value))]);
  const cpuRows = (bench: string, phase: string, title: string) => {
    for (const [group, label] of groupLabels)
      row(`${title}: ${label}`, bench, (_, outcome) => {
        const share = outcome.cpu?.[phase];
        if (!share) return '?';
        const cores = share.cores[group] ?? 0;
        return group === 'worker' && share.workers.length > 1 ? `${cores.toFixed(2)} (${share.workers.map((w) => w.toFixed(2)).join(' + ')})` : cores.toFixed(2);
      });
    row(`${title}: whole machine (${cpus().length} cores)`, bench, (_, outcome) => outcome.cpu?.[phase]?.machineCores.toFixed(2) ?? '?');
  };
  /** CPU-ms of this run's processes per unit of work in a window: Temporal (with its Postgres), the worker(s), the API, Pledge's Postgres; less sensitive to other work than a rate. */
  const cpuCostRow = (bench: string, phase: string, title: string, units: (result: any) => number) =>
    row(title, bench, (result, outcome) => {
      const share = outcome.cpu?.[phase];
      if (!share) return '?';
      const ms = (...groups: string[]) => (groups.reduce((sum, group) => sum + (share.cores[group] ?? 0), 0) * share.seconds * 1000) / units(result);
      const parts = [ms('temporal', 'temporal-postgres'), ms('worker'), ms('api'), ms('pledge-postgres')];
      return `${Math.round(parts.reduce((a, b) => a + b, 0))} (${parts.map((part) => Math.round(part)).join(' / ')})`;
    });
  if (benches.some((bench) => bench.name === 'intake')) {
    const at = (result: any, mode: string, concurrency: number) => result.rows.find((r: any) => r.mode === mode && r.concurrency === concurrency);
    for (const level of levels) {
      row(`B1 c=${level}: API cases/s (raw recorded/s), API/raw`, 'intake', (r) => {
        const api = at(r, 'api', level);
        const raw = at(r, 'raw', level);
        return `${api.casesPerSecond.toFixed(1)} (${raw.recordedPerSecond.toFixed(1)}), ${(api.casesPerSecond / raw.recordedPerSecond).toFixed(2)}`;
      });
      row(`B1 c=${level}: API p50 / p99 ms`, 'intake', (r) => `${ms(at(r, 'api', level).p50)} / ${ms(at(r, 'api', level).p99)}`);
    }
    row(
      'B1 non-201 / 201 without due times',
      'intake',
      (r) => `${r.rows.reduce((n: number, x: any) => n + x.failed, 0)} / ${r.rows.reduce((n: number, x: any) => n + (x.mode === 'api' ? x.withoutDeadlines : 0), 0)}`,
    );
    cpuRows('intake', `api c=${top}`, `B1 cores busy, API at c=${top}`);
    cpuCostRow('intake', `api c=${top}`, `B1 CPU-ms per case, API at c=${top} (Temporal+its PG / workers / API / Pledge PG)`, (r) => r.count);
  }
  if (benches.some((bench) => bench.name === 'fanout')) {
    row('B3 notice queued / delivered ms', 'fanout', (r) => `${ms(r.noticeQueuedMs)} / ${ms(r.noticeDeliveredMs)}`);
    row('B3 customers/s queued (notice)', 'fanout', (r) => `${Math.round((r.customers / r.noticeQueuedMs) * 1000).toLocaleString('en')} (${r.customers.toLocaleString('en')} customers)`);
    row('B3 recovery + remedies queued / delivered ms', 'fanout', (r) => `${ms(r.recoveryQueuedMs)} / ${ms(r.recoveryDeliveredMs)}`);
    row('B3 floor (one INSERT … SELECT), queued/floor', 'fanout', (r) => `${ms(r.floorMs)} ms, ${r.queuedOverFloor}×`);
    row('B3 exactly one of each per customer', 'fanout', (r) => (r.exact ? 'yes' : 'NO'));
    cpuRows('fanout', 'noticeQueued', 'B3 cores busy, notice queued');
    cpuCostRow('fanout', 'noticeQueued', 'B3 CPU-ms per 100 customers, notice queued (same split)', (r) => r.customers / 100);
  }
  rows.push([
    'wall time per bench, s (' + benches.map((b) => b.name).join('; ') + ')',
    ...configs.map((config) => benches.map((bench) => `${Math.round((outcomes[config.key]?.[bench.name]?.wallMs ?? NaN) / 1000)}`).join('; ')),
  ]);
  rows.push([
    'exit codes',
    ...configs.map((config) => benches.map((bench) => `${outcomes[config.key]?.[bench.name]?.code ?? '-'}${outcomes[config.key]?.[bench.name]?.timedOut ? ' (timed out)' : ''}`).join('; ')),
  ]);

  // tsx's esbuild service is this process's own and ends with it.
  const left = timeline
    .leftovers()
    .filter((proc) => !(proc.comm === 'esbuild' && proc.ppid === process.pid))
    .map((proc) => `${proc.pid} (${proc.comm})`);
  console.log(`\n=== npm run bench:cluster: Temporal ${temporalServerVersion} on Postgres (${shards} history shards) beside the dev server; each bench's own output above has the detail`);
  console.log(
    `B1: ${values['intake-count']} cases per concurrency level and mode; B3: ${values['fanout-customers']} customers. Worker processes: bench/lib/worker-process.ts, each with its outbox dispatcher (no SMTP: e-mail settles as not sent, "delivered" is the inbox rows).`,
  );
  console.log(`Cores busy: CPU-seconds per second of the window, from /proc; ${cpus().length} cores in all; "other work" is the machine's busy time outside this run's processes.`);
  printTable(['figure', ...configs.map((config) => config.label)], rows);
  console.log(`total ${Math.round((Date.now() - startedAt) / 1000)} s`);
  writeResults('cluster', {
    loadBefore,
    shards,
    temporalServerVersion,
    dynamicConfig: values['dynamic-config'] ?? 'deploy/temporal/dynamicconfig/pledge.yaml',
    intakeCount: Number(values['intake-count']),
    levels,
    fanoutCustomers: Number(values['fanout-customers']),
    configs: configs.map((config) => ({ ...config, benches: outcomes[config.key] })),
    table: rows,
    processesLeft: left,
  });
  if (left.length > 0) throw new Error(`processes this run started are still running: ${left.join(', ')}`);
  console.log('no process of this run left (orphans included)');
  const failed = configs.flatMap((config) => benches.filter((bench) => outcomes[config.key]?.[bench.name]?.code !== 0).map((bench) => `${bench.name} on ${config.label}`));
  if (failed.length > 0) throw new Error(`bench(es) failed: ${failed.join(', ')}`);
});
