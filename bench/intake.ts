/**
 * Opening complaints (issue 8, speed): `POST /v1/complaints` over HTTP beside raw
 * `client.workflow.start('complaint', …)` on the same stack of its own (Temporal dev server on
 * SQLite, embedded Postgres, worker + outbox dispatcher, the API). Prints cases/s and latency per
 * concurrency level, counts 201s without recorded deadlines, and shows where the time goes: event
 * timings from sampled histories and the CPU of this process, Temporal and Postgres.
 *
 *   npx tsx bench/intake.ts [--count 300] [--levels 1,16,64] [--temporal-db sqlite|memory]
 *                           [--workers N] [--temporal-address host:port]
 * --workers N runs the worker (and its outbox dispatcher) as N processes of their own
 * (bench/lib/worker-process.ts) on the task queue instead of in this process; --temporal-address
 * uses a Temporal server already running (scripts/toolchain/temporal-cluster.ts) instead of a dev
 * server of its own. bench/cluster.ts runs it both ways.
 */
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createApp } from '../api/app';
import { payloadCodecFromEnv, pledgeDataConverter } from '../codec/data-converter';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../config';
import { loadWorkingCalendar } from '../config/calendar';
import { caseWorkflowId, formatCaseId } from '../domain/case-types';
import { classifyComplaintPriority } from '../domain/complaint';
import { calendarForYears } from '../domain/working-calendar';
import { seedRegion } from '../test/support/incidents';
import { Teardown } from '../test/support/teardown';
import type { ComplaintInput } from '../workflows/complaint';
import { caseStaticSummary, initialCaseSearchAttributes } from '../workflows/search-attributes';
import { machineInfo } from './lib/report';
import { startBenchServers, startInProcessWorker, startWorkerProcesses } from './lib/stack';
import { cpuSecondsSince, cpuSnapshot, intakeTimeline, printRows, printTimelines, summarise, type Opened, type Row, type RunResult, type Timeline } from './intake-report';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    levels: { type: 'string', default: '1,16,64' },
    'temporal-db': { type: 'string', default: 'sqlite' },
    workers: { type: 'string', default: '0' },
    'temporal-address': { type: 'string' },
  },
});
const count = Number(values.count);
const levels = values.levels.split(',').map(Number);
const customers = 500;
const taskQueue = 'bench-intake';
const historySamples = 20;
/** 0: the worker in this process. */
const workerProcesses = Number(values.workers);
const temporalAddress = values['temporal-address'];

Runtime.install({ logger: new DefaultLogger('WARN') });
const teardown = new Teardown();
// Ctrl-C, a kill or a failure outside the main flow (the worker's run, a closed stdout) still stops every child.
// `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by tsx).
let stopping: Promise<void> | undefined;
let aborted = false;
const stop = () => (stopping ??= teardown.run().catch(console.error));
const abort = (code: number) => {
  aborted = true;
  void stop().finally(() => process.exit(code));
};
process.on('SIGINT', () => abort(130));
process.on('SIGTERM', () => abort(143));
for (const failure of ['unhandledRejection', 'uncaughtException'] as const) {
  // e.g. EPIPE when the output is piped into `head`
  process.on(failure, (reason) => {
    console.error(reason);
    abort(1);
  });
}
const loadBefore = loadavg();

try {
  const { dir, devServer, database, bundle } = await startBenchServers(teardown, {
    name: 'intake',
    ...(temporalAddress ? { temporalAddress } : {}),
    temporalDb: values['temporal-db'] === 'memory' ? 'memory' : 'file',
  });
  // Two pools, as the worker and the API each have their own in production (worker/main.ts, api/server.ts).
  const workerSql = await teardown.add(Promise.resolve(postgres(database.url, { onnotice: () => {} })), (sql) => sql.end());
  const apiSql = await teardown.add(Promise.resolve(postgres(database.url, { onnotice: () => {} })), (sql) => sql.end());
  await seedRegion(apiSql, 'bench', 'bench-region', customers);

  if (workerProcesses > 0) {
    await startWorkerProcesses(teardown, { count: workerProcesses, dir, bundleCode: bundle.code, temporalAddress: devServer.address, databaseUrl: database.url, taskQueue });
  } else {
    await startInProcessWorker(teardown, { address: devServer.address, taskQueue, sql: workerSql, bundle });
  }

  const connection = await teardown.add(Connection.connect({ address: devServer.address }), (c) => c.close());
  const temporal = new Client({ connection, dataConverter: pledgeDataConverter(payloadCodecFromEnv()) });
  const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
  const policies = loadPolicies(env);
  const app = createApp({ temporal, sql: apiSql, apiKeys: parseApiKeys(env), policies, taskQueue });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  teardown.defer(() => {
    server.close();
    (server as Server).closeAllConnections(); // keep-alive and in-flight requests would hold close() open
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let sequence = 0;
  const customerOf = () => `bench-${String(1 + (sequence % customers)).padStart(6, '0')}`;
  const viaApi = async (): Promise<Opened> => {
    const sentAt = Date.now();
    const response = await fetch(`${baseUrl}/v1/complaints`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-agent-key', 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: customerOf(), channel: 'web', category: 'billing', summary: `Bench complaint ${++sequence}` }),
    });
    const body = (await response.json()) as { workflowId?: string; deadlines?: Array<{ dueAt: string | null }> };
    const withDeadlines = response.status === 201 && (body.deadlines?.length ?? 0) > 0 && body.deadlines!.every((d) => typeof d.dueAt === 'string');
    return { workflowId: body.workflowId ?? '', sentAt, answeredAt: Date.now(), ok: response.status === 201, withDeadlines };
  };

  // The same input and start options as the API builds (api/routes/complaints.ts, api/open-case.ts).
  const year = new Date().getUTCFullYear();
  const calendar = calendarForYears(await loadWorkingCalendar(apiSql), year - 1, year + 1);
  const { priority, reason } = classifyComplaintPriority('billing');
  const raw = async (): Promise<Opened> => {
    const sentAt = Date.now();
    const customerId = customerOf();
    const caseId = formatCaseId('complaint', year, 500_000 + ++sequence);
    const input: ComplaintInput = {
      caseId,
      customerId,
      channel: 'web',
      category: 'billing',
      priority,
      priorityReason: reason,
      major: false,
      summary: `Bench complaint ${sequence}`,
      description: '',
      openedBy: { id: 'key bench', role: 'agent' },
      policy: policies.complaintSla,
      timeZone: policies.timeZone,
      calendar,
    };
    const handle = await temporal.workflow.start('complaint', {
      taskQueue,
      workflowId: caseWorkflowId('complaint', caseId),
      args: [input],
      typedSearchAttributes: initialCaseSearchAttributes({ type: 'complaint', customerId, priority }),
      staticSummary: caseStaticSummary('complaint', caseId, input.summary),
    });
    return { workflowId: handle.workflowId, sentAt, answeredAt: Date.now(), ok: true }; // answers before intake: nothing to check
  };

  /** Raw starts return before intake runs: wait for every case's row so its work does not spill into the next run. */
  const drain = async (opened: Opened[]) => {
    const ids = opened.filter((o) => o.ok).map((o) => o.workflowId);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const [row] = await apiSql<{ n: number }[]>`select count(*)::int as n from cases where workflow_id = any(${ids})`;
      if (row!.n === ids.length) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('opened cases were not recorded within 2 minutes');
  };

  /** CPU and event-loop use are taken until intake is recorded, so a raw start's deferred work counts too. */
  const run = async (open: () => Promise<Opened>, concurrency: number, total: number): Promise<RunResult> => {
    const opened: Opened[] = [];
    const cpu = cpuSnapshot();
    const loop = performance.eventLoopUtilization();
    const startedAt = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < total) opened.push(await open());
      }),
    );
    const wallMs = performance.now() - startedAt;
    await drain(opened);
    return { opened, wallMs, recordedMs: performance.now() - startedAt, cpu: cpuSecondsSince(cpu), mainLoop: performance.eventLoopUtilization(loop).utilization };
  };

  // Warm-up: JIT, connection pools, the worker's workflow context, the server's caches.
  await run(viaApi, 4, 40);
  await run(raw, 4, 40);

  const rows: Row[] = [];
  const samples: Record<string, Opened[]> = {};
  /** When each run went (ms since epoch, until every case was recorded), so a caller can line its own readings up with it. */
  const windows: Array<{ mode: string; concurrency: number; from: number; to: number }> = [];
  for (const concurrency of levels) {
    for (const [mode, open] of [
      ['api', viaApi],
      ['raw', raw],
    ] as const) {
      const from = Date.now();
      const result = await run(open, concurrency, count);
      windows.push({ mode, concurrency, from, to: Date.now() });
      rows.push(summarise(mode, concurrency, result));
      const step = Math.max(1, Math.floor(result.opened.length / historySamples));
      samples[`${mode} c=${concurrency}`] = result.opened.filter((o, i) => o.ok && i % step === 0).slice(0, historySamples);
    }
  }

  printRows(rows, temporalAddress ? `none; Temporal is the server at ${temporalAddress}` : values['temporal-db']);
  if (workerProcesses > 0) console.log(`the worker ran as ${workerProcesses} process(es) of its own; their CPU is in the bench column, and a server at --temporal-address is in others`);
  const at16 = (mode: string) => rows.find((r) => r.mode === mode && r.concurrency === 16);
  if (at16('api') && at16('raw')) console.log(`api/raw throughput at concurrency 16: ${(at16('api')!.casesPerSecond / at16('raw')!.casesPerSecond).toFixed(2)}`);

  const timelines: Record<string, Timeline> = {};
  for (const [label, opened] of Object.entries(samples)) timelines[label] = await intakeTimeline(temporal, opened);
  printTimelines(timelines, historySamples);

  const loadAfter = loadavg();
  console.log(`\nload average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  const file = join(tmpdir(), `pledge-bench-intake-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        machine: machineInfo(),
        count,
        levels,
        temporalDb: temporalAddress ? null : values['temporal-db'],
        temporalAddress: temporalAddress ?? null,
        workerProcesses,
        customers,
        loadBefore,
        loadAfter,
        rows,
        windows,
        timelines,
      },
      null,
      2,
    ),
  );
  console.log(`results: ${file}`);
} catch (error) {
  if (!aborted) throw error; // an abort breaks the run on purpose; its own reason is already printed
} finally {
  await stop();
}
