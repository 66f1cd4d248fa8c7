/**
 * `npm run bench`: B1 intake (small), B2 alert storm, B3 outage fan-out (fewer customers), outbox
 * delivery and B4 capacity, one after another (each on a stack of its own, so none competes with
 * another), then one table of the headline figures and one JSON file with every bench's result and
 * the machine. Each bench's own output passes through as it runs.
 *
 *   npm run bench [-- --fanout-customers 20000 --delivery-customers 20000 --complaints 5000 --only storm,capacity]
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runBenchChild } from './lib/bench-child';
import { loadAverage, printTable, writeResults } from './lib/report';

const { values } = parseArgs({
  options: {
    'intake-count': { type: 'string', default: '150' },
    'fanout-customers': { type: 'string', default: '20000' },
    'delivery-customers': { type: 'string', default: '20000' },
    complaints: { type: 'string', default: '5000' },
    only: { type: 'string' },
  },
});

interface Bench {
  name: string;
  script: string;
  args: string[];
  env?: Record<string, string>;
  /** The headline figures, from the bench's result file. */
  row(result: any): Array<[string, string]>;
}

const ms = (value: number | null | undefined) => (value === null || value === undefined || Number.isNaN(value) ? '?' : `${Math.round(value).toLocaleString('en')} ms`);
const benches: Bench[] = [
  {
    name: 'intake',
    script: 'bench/intake.ts',
    args: ['--count', values['intake-count'], '--levels', '1,16'],
    env: { LOG_LEVEL: 'warn' }, // the API in its process logs every request on stdout
    row: (r) => {
      const at = (mode: string) => r.rows.find((row: any) => row.mode === mode && row.concurrency === 16);
      const api = at('api');
      const raw = at('raw');
      return [
        // A raw start answers before intake runs: its rate is compared until every case is recorded.
        ['B1 API cases/s at c=16 (raw recorded/s)', `${api.casesPerSecond} (${raw.recordedPerSecond}), ratio ${(api.casesPerSecond / raw.recordedPerSecond).toFixed(2)}`],
        ['B1 API p50 / p99 at c=16', `${ms(api.p50)} / ${ms(api.p99)}`],
      ];
    },
  },
  {
    name: 'storm',
    script: 'bench/alert-storm.ts',
    args: [],
    row: (r) => [
      ['B2 settled after', `${ms(r.settledMs)} (${r.posts} posts, ${r.groups} groups)`],
      ['B2 incidents created', `${r.incidentsCreated} (expected ${r.groups})`],
      ['B2 webhook p50 / p95 / p99', `${ms(r.latency.p50)} / ${ms(r.latency.p95)} / ${ms(r.latency.p99)}`],
    ],
  },
  {
    name: 'fanout',
    script: 'bench/incident-fanout.ts',
    args: ['--customers', values['fanout-customers']],
    // Its stack (test/support/stack.ts) logs every API request on stdout; the polling would fill the output.
    env: { LOG_LEVEL: 'warn' },
    row: (r) => [
      ['B3 notice queued / delivered', `${ms(r.noticeQueuedMs)} / ${ms(r.noticeDeliveredMs)} (${r.customers} customers)`],
      ['B3 floor (one INSERT … SELECT), ratio', `${ms(r.floorMs)} for ${r.floorRows} rows, ${r.queuedOverFloor}×`],
    ],
  },
  {
    name: 'delivery',
    script: 'bench/delivery.ts',
    args: ['--customers', values['delivery-customers']],
    row: (r) => [['delivery: all delivered', `${ms(r.allDeliveredMs)} for ${r.queued} rows (${Math.round((r.queued / r.allDeliveredMs) * 1000)} rows/s)`]],
  },
  {
    name: 'capacity',
    script: 'bench/capacity.ts',
    args: ['--complaints', values.complaints],
    row: (r) => [
      ['B4 worker rss peak', `${r.workerRssMiB.peak} MiB (${r.complaints} open, cache ${r.maxCachedWorkflows})`],
      ['B4 GET case / list p99', `${ms(r.getCase.p99)} / ${ms(r.list.p99)}`],
      ['B4 breach lateness p50 / p99', `${ms(r.timerLateness.breached.occurred.p50)} / ${ms(r.timerLateness.breached.occurred.p99)} (${r.due} due in a minute)`],
    ],
  },
];

/** Ctrl-C reaches the child from the terminal too; a kill of this process is passed on. */
let running: ChildProcess | undefined;
process.once('SIGTERM', () => running?.kill('SIGTERM'));

const loadBefore = loadAverage();
const selected = values.only ? benches.filter((bench) => values.only!.split(',').includes(bench.name)) : benches;
const results: Record<string, unknown> = {};
const rows: Array<[string, string, string]> = [];
let failed = 0;
for (const bench of selected) {
  const outcome = await runBenchChild(bench, { onChild: (child) => (running = child) });
  const result = outcome.resultFile ? (JSON.parse(readFileSync(outcome.resultFile, 'utf8')) as Record<string, unknown>) : undefined;
  results[bench.name] = { exitCode: outcome.code, wallMs: outcome.wallMs, resultFile: outcome.resultFile ?? null, result: result ?? null };
  if (outcome.code !== 0) failed++;
  let figures: Array<[string, string]>;
  try {
    figures = result ? bench.row(result) : [[`${bench.name}`, 'no result']];
  } catch {
    figures = [[`${bench.name}`, `result without the expected figures (${outcome.resultFile})`]];
  }
  for (const [figure, value] of figures) rows.push([figure, value, outcome.code === 0 ? '' : `exit ${outcome.code}`]);
}

console.log('\n=== npm run bench: headline figures (each bench above has the detail and the evidence)');
printTable(['figure', 'value', ''], rows);
writeResults('all', { loadBefore, benches: results });
if (failed > 0) {
  console.error(`${failed} bench(es) exited non-zero`);
  process.exitCode = 1;
}
