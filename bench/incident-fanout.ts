/**
 * Fan-out at scale over the whole stack (real Temporal dev server, real worker, real Postgres, the
 * API over HTTP, the outbox dispatcher with a real SMTP server): an outage affecting N customers,
 * its notice, its recovery notice and one remedy each. Prints figures: queued (every row written)
 * and delivered (the dispatcher has settled every row: inbox, e-mail accepted by SMTP), and beside
 * them the physical floor, the notice's rows written again by one INSERT … SELECT into the same
 * table (its indexes and constraints) in a transaction that is rolled back, and the ratio. Asserts
 * only that every customer got exactly one of each.
 *
 *   npx tsx bench/incident-fanout.ts [--customers 100000] [--workers N] [--temporal-address host:port]
 *
 * --workers N runs the worker as N processes of their own (bench/lib/worker-process.ts, each with
 * its outbox dispatcher) on the stack of bench/lib/stack.ts; those dispatchers have no SMTP
 * transport, so e-mail rows settle as not sent and "delivered" counts the inbox rows.
 * --temporal-address uses a Temporal server already running (scripts/toolchain/temporal-cluster.ts)
 * instead of a dev server of its own (and implies --workers 1 when --workers is absent).
 * bench/cluster.ts runs it both ways.
 */
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type postgres from 'postgres';
import { freePort } from '../scripts/toolchain/ports';
import { callJson, devKeys, startStack, type RunningStack } from '../test/support/stack';
import { Teardown } from '../test/support/teardown';
import { eventually, seedRegion } from '../test/support/incidents';
import { cpuSecondsSince, cpuSnapshot } from './intake-report';
import { loadAverage, writeResults } from './lib/report';
import { startBenchStack } from './lib/stack';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '100000' }, workers: { type: 'string' }, 'temporal-address': { type: 'string' } } });
const customers = Number(values.customers);
const temporalAddress = values['temporal-address'];
/** 0: the worker and the dispatcher (with SMTP) in this process, on test/support/stack.ts. */
const workerProcesses = values.workers !== undefined ? Number(values.workers) : temporalAddress ? 1 : 0;
const loadBefore = loadAverage();

/** What the bench uses of a stack, whichever way it was built. */
interface FanoutStack {
  db: { sql: postgres.Sql };
  temporal: Client;
  call: RunningStack['call'];
  stop(): Promise<void>;
}

/** The worker in processes of their own, on bench/lib/stack.ts, optionally against a Temporal server already running. */
async function startSplitStack(): Promise<FanoutStack> {
  const teardown = new Teardown();
  return teardown.unwindOnFailure(async () => {
    const bench = await startBenchStack(teardown, {
      name: 'fanout',
      taskQueue: 'bench-fanout',
      childWorker: {},
      workers: workerProcesses,
      ...(temporalAddress ? { temporalAddress } : {}),
    });
    return {
      db: { sql: bench.sql },
      temporal: bench.temporal,
      call: callJson(bench.baseUrl),
      stop: () => teardown.run(),
    };
  });
}

let stack: FanoutStack;
if (workerProcesses > 0) {
  stack = await startSplitStack(); // installs the SDK's runtime itself
  console.log(`worker: ${workerProcesses} process(es) of its own; Temporal: ${temporalAddress ?? 'a dev server of its own (SQLite)'}; e-mail recorded as not sent (no SMTP transport there)`);
} else {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  stack = await startStack({ postgres: await freePort(), temporal: await freePort(), temporalUi: await freePort() }, 'bench-fanout');
}

type Fanout = { kind: string; customers: number; pages: number; runs: number; durationMs: number; maxRunHistoryLength: number };
const fanoutsOf = (state: { details: { fanouts: Fanout[] } }) => state.details.fanouts;
/** Statuses the dispatcher has not finished with (sent: awaiting a receipt). */
const unsettled = ['pending', 'sending', 'sent'];

/** Carries the floor's figures out of the transaction it rolls back. */
class FloorMeasured {
  constructor(
    readonly rows: number,
    readonly ms: number,
  ) {}
}

try {
  let started = Date.now();
  await seedRegion(stack.db.sql, 'bench', 'bench-region', customers);
  console.log(`seeded ${customers} customers in ${Date.now() - started} ms`);

  // Started three hours ago: the notice is late and goes out at once.
  const startedAt = new Date(Date.now() - 3 * 3600_000).toISOString();
  started = Date.now();
  const noticeStartedAt = started;
  const cpu = cpuSnapshot();
  const opened = await stack.call('POST', '/v1/incidents', {
    key: devKeys.agent,
    body: { title: 'Bench outage', severity: 'SEV2', startedAt, scope: { services: ['broadband'], regions: ['bench-region'] } },
  });
  if (opened.status !== 201) throw new Error(`open failed: ${opened.status} ${JSON.stringify(opened.body)}`);
  const caseId: string = opened.body.caseId;
  const read = () => stack.call('GET', `/v1/cases/${caseId}`, { key: devKeys.agent }).then((response) => response.body);
  await eventually(read, (state) => fanoutsOf(state).length === 1, 30 * 60_000, 500);
  const noticeWallMs = Date.now() - started;
  const noticeCpu = cpuSecondsSince(cpu);

  started = Date.now();
  const recoveryStartedAt = started;
  const resolved = await stack.call('POST', `/v1/cases/${caseId}/actions/resolve`, { key: devKeys.agent, body: { input: { summary: 'Restored' } } });
  if (resolved.status !== 200) throw new Error(`resolve failed: ${resolved.status} ${JSON.stringify(resolved.body)}`);
  const final = await eventually(read, (state) => fanoutsOf(state).length === 2, 30 * 60_000, 500);
  const recoveryWallMs = Date.now() - started;
  const recoveryQueuedAt = Date.now();

  // Delivered: the dispatcher (inbox; e-mail to the SMTP sink, two connections) has settled every row of the case.
  await eventually(
    () => stack.db.sql<{ n: number }[]>`select count(*)::int as n from notifications where case_id = ${caseId} and status = any(${unsettled})`,
    (rows) => rows[0]!.n === 0,
    30 * 60_000,
    500,
  );
  const delivery = await stack.db.sql<{ kind: string; channel: string; rows: number; delivered: number; last_ms: number }[]>`
    select kind, channel, count(*)::int as rows, count(*) filter (where status = 'delivered')::int as delivered,
           extract(epoch from max(delivered_at) - min(since)) * 1000 as last_ms
    from (select channel, status, delivered_at,
                 case when template = 'incident.outage-notice' then 'notice' else 'recovery' end as kind,
                 case when template = 'incident.outage-notice' then ${new Date(noticeStartedAt)}::timestamptz else ${new Date(recoveryStartedAt)}::timestamptz end as since
          from notifications where case_id = ${caseId}) as rows
    group by kind, channel order by kind, channel`;
  const deliveredMs = (kind: string) => Math.round(Math.max(...delivery.filter((row) => row.kind === kind).map((row) => row.last_ms)));

  // The physical floor: the notice's rows (every channel) written again by one statement, then rolled back.
  const floor = await stack.db.sql
    .begin(async (tx) => {
      const before = performance.now();
      const [row] = await tx<{ n: number }[]>`
        with copied as (
          insert into notifications (idempotency_key, customer_id, staff_role, case_id, channel, locale, template, subject, body, recipient, priority, not_before, fallbacks)
          select idempotency_key || ':floor', customer_id, staff_role, case_id, channel, locale, template, subject, body, recipient, priority, not_before, fallbacks
          from notifications where case_id = ${caseId} and template = 'incident.outage-notice'
          returning 1)
        select count(*)::int as n from copied`;
      throw new FloorMeasured(row!.n, performance.now() - before);
    })
    .catch((outcome: unknown) => {
      if (outcome instanceof FloorMeasured) return outcome;
      throw outcome;
    });

  const [counts] = await stack.db.sql<{ notices: string; recoveries: string; ledger: string; distinct_ledger: string }[]>`
    select (select count(*) from notifications where case_id = ${caseId} and channel = 'inbox' and template = 'incident.outage-notice') as notices,
           (select count(*) from notifications where case_id = ${caseId} and channel = 'inbox' and template like 'incident.recovered%') as recoveries,
           (select count(*) from ledger where case_id = ${caseId}) as ledger,
           (select count(distinct customer_id) from ledger where case_id = ${caseId}) as distinct_ledger`;
  const handle = stack.temporal.workflow.getHandle(`incident-${caseId}`);
  const incidentEvents = (await handle.fetchHistory()).events?.length ?? 0;
  const [notice, recovery] = fanoutsOf(final) as [Fanout, Fanout];
  const perSecond = (count: number, ms: number) => Math.round((count / ms) * 1000);
  const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
  const noticeRows = delivery.filter((row) => row.kind === 'notice').reduce((sum, row) => sum + row.rows, 0);

  console.log(`customers affected          ${final.details.affectedCount}`);
  console.log(`outage notice queued        ${noticeWallMs} ms wall (${perSecond(customers, noticeWallMs)} customers/s), ${notice.pages} pages in ${notice.runs} runs`);
  console.log(`outage notice delivered     ${deliveredMs('notice')} ms after it was opened (the recovery ran alongside from ${noticeWallMs} ms)`);
  console.log(
    `physical floor              ${Math.round(floor.ms)} ms for the notice's ${floor.rows} rows in one INSERT … SELECT (rolled back); queued / floor = ${(noticeWallMs / floor.ms).toFixed(1)}×`,
  );
  console.log(
    `cpu while the notice was queued: this process (API + worker) ${noticeCpu.bench.toFixed(1)} s, Temporal ${noticeCpu.temporal.toFixed(1)} s, Postgres ${noticeCpu.postgres.toFixed(1)} s, ` +
      `others ${noticeCpu.others.toFixed(1)} s over ${(noticeWallMs / 1000).toFixed(1)} s on ${cpus().length} cores`,
  );
  console.log(
    `recovery notice + remedies  ${recoveryWallMs} ms wall queued (${perSecond(customers, recoveryWallMs)} customers/s), delivered ${deliveredMs('recovery')} ms; ${recovery.pages} pages in ${recovery.runs} runs`,
  );
  for (const row of delivery)
    console.log(`  ${row.kind.padEnd(8)} ${row.channel.padEnd(6)} ${String(row.rows).padStart(7)} rows, ${String(row.delivered).padStart(7)} delivered, last at ${Math.round(row.last_ms)} ms`);
  console.log(`rows                        ${counts!.notices} notices, ${counts!.recoveries} recovery notices, ${counts!.ledger} ledger rows (${counts!.distinct_ledger} customers)`);
  console.log(`history length              incident ${incidentEvents} events; largest fan-out run ${Math.max(notice.maxRunHistoryLength, recovery.maxRunHistoryLength)} events`);
  console.log(`memory (this process: API + worker)  rss ${rssMiB} MiB`);
  const exact = [counts!.notices, counts!.recoveries, counts!.ledger, counts!.distinct_ledger].every((count) => Number(count) === customers);
  const undelivered = delivery.reduce((sum, row) => sum + row.rows - row.delivered, 0);
  if (!exact) {
    console.error('MISMATCH: not exactly one notice, recovery notice and remedy per customer');
    process.exitCode = 1;
  }
  if (undelivered > 0) console.error(`${undelivered} rows settled as not delivered (failed or not sent)`);
  writeResults('incident-fanout', {
    loadBefore,
    customers,
    workerProcesses,
    temporalAddress: temporalAddress ?? null,
    // When the phases went (ms since epoch), so a caller can line its own readings up with them.
    windows: { noticeQueued: { from: noticeStartedAt, to: noticeStartedAt + noticeWallMs }, recoveryQueued: { from: recoveryStartedAt, to: recoveryQueuedAt } },
    noticeQueuedMs: noticeWallMs,
    noticeDeliveredMs: deliveredMs('notice'),
    noticeRows,
    noticeCpu,
    floorMs: Math.round(floor.ms),
    floorRows: floor.rows,
    queuedOverFloor: Math.round((noticeWallMs / floor.ms) * 10) / 10,
    recoveryQueuedMs: recoveryWallMs,
    recoveryDeliveredMs: deliveredMs('recovery'),
    delivery,
    fanouts: { notice, recovery },
    incidentEvents,
    rssMiB,
    exact,
  });
} finally {
  await stack.stop();
}
