/**
 * `npm run fault-test` (issue 14, item 4): the stack npm start runs, on ports and a data directory of
 * its own, takes a few hundred cases across every case type — complaints (some acknowledged, some resolved),
 * incidents (notice published, then resolved: recovery notices and remedies fanned out), claims
 * (approved at once, paid to the ledger), service changes (notice fan-out), renewal notices,
 * customers' own terminations (effective now) and access requests — over HTTP while, with their
 * activities and fan-outs in flight, it SIGKILLs the worker, restarts the Temporal dev server on its
 * SQLite file, restarts Postgres on its cluster and SIGKILLs the API mid-request. Requests that fail
 * are sent again with the same Idempotency-Key, as a client would. Then it waits for every case to
 * reach its expected state and counts, by key and by meaning, duplicate and missing case events,
 * notifications and ledger rows. Prints the figures; exits 1 if anything is lost or doubled.
 *
 *   npm run fault-test [-- --rounds 2 --rate 8 --concurrency 16 --scale 1 --fanout-customers 400 --keep]
 *   --rounds N   each round: SIGKILL worker, SIGKILL API, restart Temporal, restart Postgres (even rounds kill
 *                Temporal with SIGKILL and crash Postgres with an immediate shutdown); default 2
 *   --scale X    multiplies the cases of every kind (434 at 1)
 *   --no-faults  the same load and checks without faults
 *   --tamper     doubles and deletes a few records before the checks, to show they are caught (then exits 1)
 *   --keep       keeps the data directory and the logs (logs/worker.log, api.log, temporal.log)
 *
 * Ports: PORT (3100), PLEDGE_TEMPORAL_PORT (7300), PLEDGE_TEMPORAL_UI_PORT (8300), PLEDGE_POSTGRES_PORT (5500).
 */
import { Client, Connection } from '@temporalio/client';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { payloadCodecFromEnv, pledgeDataConverter } from '../codec/data-converter';
import { seedRegion } from '../test/support/incidents';
import { busyWorkflows, checkEverything, progressOf, retriedWork, tamperForSelfCheck, type CheckReport, type Finding, type RetriedWork } from './lib/fault-checks';
import { RetryingClient, runLoad, type FlowKind, type PlannedCase } from './lib/fault-load';
import { processesOf, startFaultStack, type FaultStack } from './lib/fault-stack';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    rate: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '16' },
    'fanout-customers': { type: 'string', default: '400' },
    scale: { type: 'string', default: '1' },
    'no-faults': { type: 'boolean', default: false },
    tamper: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const fanoutCustomers = Number(values['fanout-customers']);
const ports = {
  api: Number(process.env.PORT ?? 3100),
  temporal: Number(process.env.PLEDGE_TEMPORAL_PORT ?? 7300),
  temporalUi: Number(process.env.PLEDGE_TEMPORAL_UI_PORT ?? 8300),
  postgres: Number(process.env.PLEDGE_POSTGRES_PORT ?? 5500),
};
const namespace = 'default';
const fanoutRegion = 'fault-fanout';
/** How many cases of each kind; incidents and service changes each fan out to every fanout customer. */
const mix: Array<[FlowKind, number]> = (
  [
    ['complaint', 60],
    ['complaint-acknowledged', 60],
    ['complaint-resolved', 60],
    ['incident', 12],
    ['claim', 80],
    ['service-change', 12],
    ['renewal', 30],
    ['termination', 60],
    ['data-request', 60],
  ] as Array<[FlowKind, number]>
).map(([kind, count]) => [kind, Math.max(1, Math.round(count * Number(values.scale)))]);
const countOf = (kind: FlowKind) => mix.find(([k]) => k === kind)![1];
/** Customers of complaints (any of them); claims, access requests and renewals each to customers of their own, in that order. */
const caseCustomers = countOf('claim') + countOf('data-request') + countOf('renewal') + 30;
const typeOf: Record<FlowKind, [string, string]> = {
  complaint: ['complaint', 'received'],
  'complaint-acknowledged': ['complaint', 'acknowledged'],
  'complaint-resolved': ['complaint', 'resolved'],
  incident: ['incident', 'resolved'],
  claim: ['compensation', 'paid'],
  'service-change': ['service-change', 'scheduled'],
  renewal: ['service-change', 'scheduled'],
  termination: ['termination', 'terminated'],
  'data-request': ['data-request', 'completed'],
};

const t0 = Date.now();
const clock = () => `t+${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
const say = (line: string) => console.log(`${clock()}  ${line}`);

const dataDir = mkdtempSync(join(tmpdir(), 'pledge-fault-test-'));
// The postgres user (Postgres runs as it under root) walks into the cluster's parent.
chmodSync(dataDir, 0o755);
// Every process started from here inherits it, so the leftover check finds them all.
process.env.PLEDGE_DATA_DIR = dataDir;

let stack: FaultStack | undefined;
let sql: postgres.Sql | undefined;
let connection: Connection | undefined;
let finishing: Promise<void> | undefined;
const finish = (code: number) =>
  (finishing ??= (async () => {
    await sql?.end({ timeout: 2 }).catch(() => {});
    await connection?.close().catch(() => {});
    await stack?.stop().catch((error: Error) => console.error(`while stopping: ${error.message}`));
    const left = processesOf(dataDir);
    if (left.length > 0) {
      console.error(`left running after the stack stopped:\n${left.map((p) => `  ${p.pid} ${p.command}`).join('\n')}`);
      for (const { pid } of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
      code = 1;
    } else {
      say('everything this run started has stopped (no process of its data directory is left)');
    }
    if (values.keep) console.log(`data and logs kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
    process.exit(code);
  })());
process.on('SIGINT', () => void finish(130));
process.on('SIGTERM', () => void finish(143));
process.on('uncaughtException', (error) => {
  console.error(error);
  void finish(1);
});
process.on('unhandledRejection', (reason) => {
  console.error(reason);
  void finish(1);
});

interface Fault {
  kind: 'worker' | 'api' | 'temporal' | 'postgres';
  at: string;
  what: string;
  evidence: string;
  recoveredInS: number;
}

try {
  say(`data directory ${dataDir}; API :${ports.api}, Temporal :${ports.temporal} (UI :${ports.temporalUi}), Postgres :${ports.postgres}`);
  stack = await startFaultStack({ dataDir, ports, namespace, log: (line) => say(line) });
  sql = postgres(stack.databaseUrl, { onnotice: () => {}, max: 4 });
  connection = await Connection.connect({ address: stack.temporalAddress, channelArgs: { 'grpc.max_reconnect_backoff_ms': 1_000 } });
  const temporal = new Client({ connection, namespace, dataConverter: pledgeDataConverter(payloadCodecFromEnv()) });
  const terminations = countOf('termination');
  await seedRegion(sql, 'fault-out', fanoutRegion, fanoutCustomers);
  await seedRegion(sql, 'fault-case', 'fault-cases', caseCustomers);
  await seedRegion(sql, 'fault-end', 'fault-terminations', terminations);
  const fanoutRecipients = await sql<{ id: string; email: string | null }[]>`select id, email from customers where region = ${fanoutRegion} and 'broadband' = any(services)`;
  await Promise.all([stack.workerPolling(180_000), stack.apiReady(180_000)]);
  say(`stack up: Postgres, Temporal dev server, worker, API; ${fanoutRecipients.length + caseCustomers + terminations} customers seeded`);

  const plans = planCases();
  const client = new RetryingClient(stack.apiUrl, { attemptTimeoutMs: 60_000, deadlineMs: 300_000 });
  const progress = { started: 0, finished: 0 };
  const startedAtMs = Date.now();
  say(`opening ${plans.length} cases at ${values.rate}/s, ${values.concurrency} at a time`);
  const load = runLoad(client, plans, { concurrency: Number(values.concurrency), ratePerSecond: Number(values.rate), fanoutRegion, startedAtMs, progress });

  const faults: Fault[] = [];
  if (!values['no-faults']) {
    const s = stack;
    /** Incident fan-out children running, and service-change notices still fanning out (their page activities in flight). */
    const fanoutsInFlight = async (): Promise<[number, number]> => {
      try {
        const [{ count: incidents }, [changes]] = await Promise.all([
          temporal.workflow.count(`WorkflowType = 'incidentFanout' AND ExecutionStatus = 'Running'`),
          sql!<
            { n: number }[]
          >`select count(*)::int as n from cases where type = 'service-change' and state -> 'details' ->> 'kind' = 'change' and state -> 'details' -> 'notice' ->> 'customers' is null`,
        ]);
        return [incidents, changes!.n];
      } catch {
        return [-1, -1];
      }
    };
    /**
     * One fault: when `wanted` holds (fan-outs in flight for the worker, Temporal and Postgres;
     * requests in flight for the API), waiting up to 20 s for it; then until everything serves again.
     */
    const inject = async (kind: Fault['kind'], what: string, wanted: (fanouts: [number, number]) => boolean, act: () => Promise<string>, recovered: () => Promise<unknown>) => {
      let fanouts = await fanoutsInFlight();
      for (let waited = 0; !wanted(fanouts) && waited < 200 && progress.finished < plans.length; waited += 1) {
        await delay(100);
        fanouts = await fanoutsInFlight();
      }
      const at = clock();
      const started = Date.now();
      const before = `${progress.finished}/${plans.length} flows done; ${client.inFlight} requests, ${fanouts[0]} incident fan-outs, ${fanouts[1]} change notices in flight`;
      const detail = await act();
      await recovered();
      const fault: Fault = { kind, at, what: `${what}${detail}`, evidence: before, recoveredInS: (Date.now() - started) / 1000 };
      faults.push(fault);
      say(`${fault.what} — ${before}; serving again after ${fault.recoveredInS.toFixed(1)} s`);
    };
    const whenDone = async (share: number) => {
      while (progress.finished < share * plans.length && progress.finished < plans.length) await delay(200);
    };
    const fanningOut = ([incidents, changes]: [number, number]) => incidents + changes > 0;
    const back = () => Promise.all([s.workerPolling(240_000), s.apiReady(240_000)]);
    for (let round = 1; round <= rounds; round += 1) {
      const base = (round - 1) / rounds;
      const step = 1 / rounds / 5;
      await whenDone(base + step * 0.5);
      await inject(
        'worker',
        'SIGKILL worker',
        fanningOut,
        async () => ` (pid ${s.killWorker()})`,
        () => s.workerPolling(240_000),
      );
      await whenDone(base + step * 1.5);
      await inject(
        'api',
        'SIGKILL API',
        () => client.inFlight >= 3,
        async () => ` (pid ${s.killApi()}, ${client.inFlight} requests in flight)`,
        () => s.apiReady(240_000),
      );
      await whenDone(base + step * 2.5);
      const temporalHow = round % 2 === 1 ? 'stop' : 'kill';
      const temporalWhat = `Temporal dev server ${temporalHow === 'stop' ? 'stopped (SIGTERM)' : 'killed (SIGKILL)'}, started again on its SQLite file`;
      await inject('temporal', temporalWhat, fanningOut, () => s.restartTemporal(temporalHow).then(() => ''), back);
      await whenDone(base + step * 3.5);
      const postgresHow = round % 2 === 1 ? 'fast' : 'immediate';
      const postgresWhat = `Postgres ${postgresHow === 'fast' ? 'stopped (fast shutdown)' : 'crashed (immediate shutdown)'}, started again on its cluster`;
      await inject('postgres', postgresWhat, fanningOut, () => s.restartPostgres(postgresHow).then(() => ''), back);
    }
  }
  await load;
  say(`load finished: ${plans.filter((plan) => plan.caseId).length}/${plans.length} cases opened; ${client.stats.retried} requests retried`);

  // Everything settles: every case in its expected state, the outbox drained.
  const settleDeadline = Date.now() + 240_000;
  let last = await progressOf(sql, plans);
  let lastSaid = 0;
  while ((last.unsettled.length > 0 || last.pendingNotifications > 0) && Date.now() < settleDeadline) {
    if (Date.now() - lastSaid > 10_000) {
      lastSaid = Date.now();
      say(`waiting: ${last.settledCases}/${plans.length} cases settled, ${last.pendingNotifications} notifications pending`);
    }
    await delay(1_000);
    last = await progressOf(sql, plans);
  }
  say(`settled: ${last.settledCases}/${plans.length} cases, ${last.pendingNotifications} notifications pending`);
  for (const plan of last.unsettled.slice(0, 5)) if (plan.caseId) say(`not settled: ${await describeStuck(temporal, plan)}`);
  // And quiet: no step still being recorded, no background effect or fan-out still running.
  let busy = await busyWorkflows(
    temporal,
    namespace,
    plans.flatMap((plan) => (plan.caseId ? [`${plan.type}-${plan.caseId}`] : [])),
  );
  while (busy.length > 0 && Date.now() < settleDeadline) {
    await delay(1_000);
    busy = await busyWorkflows(
      temporal,
      namespace,
      busy.map((line) => line.split(':')[0]!),
    );
  }
  say(busy.length === 0 ? 'quiet: no case workflow has an activity or a child pending' : `still busy at the deadline: ${busy.slice(0, 5).join('; ')}`);
  if (values.tamper) {
    await tamperForSelfCheck(sql, plans);
    say('--tamper: one notification and one remedy doubled, one notification deleted, one complaint event recorded twice; the checks must find 3 duplicates and 2 missing');
  }
  const report = await checkEverything({ sql, temporal, client, plans, fanoutRecipients, stillBusy: busy });
  const retried = await retriedWork(temporal);
  const failed = print(report, faults, client, stack.restarts(), retried, stack.unplannedExits());
  await finish(failed ? 1 : 0);
} catch (error) {
  console.error(`\nfault test failed to run: ${(error as Error).stack ?? String(error)}`);
  if (values.keep) console.error(`logs: ${join(dataDir, 'logs')}`);
  await finish(1);
}

/** Why a case has not settled, as Temporal sees it: its pending activities and children. */
async function describeStuck(temporal: Client, plan: PlannedCase): Promise<string> {
  const workflowId = `${plan.type}-${plan.caseId}`;
  try {
    const described = await temporal.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId } });
    const activities = (described.pendingActivities ?? []).map(
      (a) =>
        `${a.activityType?.name} attempt ${a.attempt} state ${a.state}${a.lastFailure?.message ? ` last failure: ${a.lastFailure.message.slice(0, 200)}` : ''}${a.lastStartedTime ? ` started ${new Date(Number(a.lastStartedTime.seconds) * 1000).toISOString()}` : ''}`,
    );
    const children = (described.pendingChildren ?? []).map((c) => `child ${c.workflowTypeName} ${c.workflowId}`);
    return `${plan.caseId} (${plan.kind}): ${[...activities, ...children].join('; ') || 'nothing pending'}`;
  } catch (error) {
    return `${plan.caseId} (${plan.kind}): ${(error as Error).message}`;
  }
}

/** Kinds interleaved, so every type is in flight at every fault; incidents and changes early, their fan-outs with them. */
function planCases(): PlannedCase[] {
  const queues = mix.map(([kind, count]) =>
    Array.from({ length: count }, (_, i): PlannedCase => {
      const customerOf: Partial<Record<FlowKind, string>> = {
        // Complaints anywhere; claims, access requests and renewals each to customers of their own.
        complaint: `fault-case-${pad(1 + (i % caseCustomers))}`,
        'complaint-acknowledged': `fault-case-${pad(1 + ((i + 70) % caseCustomers))}`,
        'complaint-resolved': `fault-case-${pad(1 + ((i + 140) % caseCustomers))}`,
        claim: `fault-case-${pad(1 + i)}`,
        'data-request': `fault-case-${pad(1 + countOf('claim') + i)}`,
        renewal: `fault-case-${pad(1 + countOf('claim') + countOf('data-request') + i)}`,
        termination: `fault-end-${pad(1 + i)}`,
      };
      return { kind, type: typeOf[kind][0], expectedStatus: typeOf[kind][1], key: `fault-${kind}-${i + 1}`, customerId: customerOf[kind] ?? null };
    }),
  );
  const total = queues.reduce((sum, queue) => sum + queue.length, 0);
  const plans: PlannedCase[] = [];
  // Each kind spread evenly over the run (its i-th case at i/count of the way).
  const slots = queues.flatMap((queue) => queue.map((plan, i) => ({ plan, at: (i + 0.5) / queue.length - (plan.kind === 'incident' || plan.kind === 'service-change' ? 0.5 / queue.length : 0) })));
  slots.sort((a, b) => a.at - b.at);
  for (const slot of slots) plans.push(slot.plan);
  if (plans.length !== total) throw new Error('planning lost a case');
  return plans;
}

function pad(n: number): string {
  return String(n).padStart(6, '0');
}

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => `  ${row.map((cell, i) => (i === 0 || Number.isNaN(Number(cell)) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`;
  return [line(cells[0]!), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

function print(
  report: CheckReport,
  faults: Fault[],
  client: RetryingClient,
  restarts: { worker: number; api: number },
  retried: RetriedWork,
  crashes: Array<{ name: string; how: string; lastLines: string[] }>,
): boolean {
  console.log('\n== faults injected');
  console.log(
    faults.length
      ? table(
          ['when', 'fault', 'serving again (s)', 'in flight at the fault'],
          faults.map((f) => [f.at, f.what, f.recoveredInS.toFixed(1), f.evidence]),
        )
      : '  none (--no-faults)',
  );
  console.log(`  supervisor restarts: worker ${restarts.worker}, API ${restarts.api}; of them not caused by the test (crashes, restarted too): ${crashes.length}`);
  for (const crash of crashes) {
    const why = crash.lastLines.find((line) => /Error/.test(line)) ?? crash.lastLines.at(-1) ?? '';
    const where = crash.lastLines.find((line) => /^\s+at /.test(line))?.trim() ?? '';
    console.log(`    ${crash.name} ${crash.how}: ${why.trim()} ${where}`);
  }
  const retriedActivities = Object.entries(retried.activityRetries).sort((a, b) => b[1] - a[1]);
  console.log(
    `  from ${retried.histories} workflow histories: ${retriedActivities.reduce((sum, [, n]) => sum + n, 0)} activities ran again after a fault (${retriedActivities.map(([type, n]) => `${type} ${n}`).join(', ') || 'none'}), ` +
      `${retried.activityTimeouts} activity timeouts, ${retried.workflowTaskTimeouts} workflow tasks timed out, ${retried.workflowTaskFailures} failed`,
  );
  console.log('\n== requests');
  const { stats } = client;
  console.log(
    `  ${stats.requests} requests; ${stats.retried} needed a retry with the same Idempotency-Key (${Object.values(stats.retries).reduce((a, b) => a + b, 0)} extra attempts: ${
      Object.entries(stats.retries)
        .map(([why, n]) => `${why} ${n}`)
        .join(', ') || 'none'
    }); ${stats.replayed} answered Idempotent-Replayed; ${stats.gaveUp} never answered`,
  );
  console.log('\n== cases');
  console.log(
    table(
      ['flow', 'planned', 'opened', 'expected', 'reached', 'final states', 'events per case'],
      report.perType.map((row) => [row.kind, row.planned, row.opened, row.expected, row.reached, row.statuses, row.eventsPerCase]),
    ),
  );
  console.log(`  read model per type: ${report.casesByType.map((row) => `${row.type} ${row.inReadModel}/${row.planned}`).join(', ')}`);
  console.log(
    `  Temporal: ${report.temporal.running} case workflows running = ${report.temporal.openInReadModel} open cases in the read model (${report.temporal.mismatched} mismatched); live state ≠ read model: ${report.liveStateMismatches}`,
  );
  console.log('\n== records');
  console.log(`  case events      ${report.events.rows} rows over ${report.events.cases} cases`);
  console.log(`  notifications    ${report.notifications.rows} rows to customers (${report.notifications.byStatus})`);
  console.log(`  ledger           ${report.ledger.rows} rows; ${report.ledger.expected} owed`);
  console.log(`  fan-out failures recorded and retried: ${report.fanoutFailures}`);
  const show = (title: string, findings: Finding[]) => {
    console.log(`\n== ${title}`);
    console.log(
      table(
        ['check', 'count'],
        findings.map((f) => [f.what, f.count]),
      ),
    );
    for (const f of findings) if (f.count > 0) console.log(`  ${f.what}, e.g.:\n${f.examples.map((e) => `    ${e}`).join('\n')}`);
  };
  show('duplicates (must be 0)', report.duplicates);
  show('missing (must be 0)', report.missing);
  show(
    'other checks (must be 0)',
    report.other.filter((f) => !f.what.includes('information')),
  );
  const info = report.other.filter((f) => f.what.includes('information') && f.count > 0);
  for (const f of info) console.log(`  note: ${f.what}: ${f.count}${f.examples.length ? ` (e.g. ${f.examples[0]})` : ''}`);
  const bad = [...report.duplicates, ...report.missing, ...report.other.filter((f) => !f.what.includes('information'))].reduce((sum, f) => sum + f.count, 0) + client.stats.gaveUp;
  const names = { worker: 'worker SIGKILLed', api: 'API SIGKILLed mid-request', temporal: 'Temporal restarted', postgres: 'Postgres restarted' };
  const faultKinds = Object.entries(names).map(([kind, name]) => `${name} ×${faults.filter((f) => f.kind === kind).length}`);
  console.log(
    `\n${bad === 0 ? 'PASS' : 'FAIL'}: ${bad} lost, doubled or inconsistent items after ${faults.length} faults (${faultKinds.join(', ')}) over ${report.perType.reduce((s, r) => s + r.planned, 0)} cases`,
  );
  return bad > 0;
}
