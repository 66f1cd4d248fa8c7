/**
 * B4, capacity (issue 15): many open complaints with pending timers on one worker, on a stack of its
 * own (Temporal dev server on SQLite, Postgres, the API in this process, the worker and its outbox
 * dispatcher in a child process so its memory is its own, with a workflow cache of a size set here).
 *
 *   1. opens --complaints minus --due billing complaints (P3: clocks a day and working days away);
 *   2. opens --due account-security complaints (P1) under a policy whose P1 first response is
 *      --due-minutes (PLEDGE_POLICY_FILE), their receivedAt spread so the deadlines fall due across
 *      one minute (the warnings, at 80 %, across the minute before);
 *   3. waits for every breach, and reads timer lateness from case_events: the event's occurred_at
 *      (the workflow's time when it acted) and recorded_at (when the trail had it) minus the due time;
 *      where the late ones lost their time, from a few histories (timer fired, task scheduled/started);
 *   4. reads GET /v1/cases/{id} (random cases: a query to the workflow, replayed when not cached)
 *      and GET /v1/cases?type=complaint&limit=50 (the read model) at a fixed concurrency.
 * Complaints are started with client.workflow.start and the input the API builds (as bench/intake.ts
 * does), which is quicker than the API; each still records its read-model row, waited for.
 * The worker's RSS is sampled throughout.
 *
 * Defaults: 5,000 complaints rather than 20,000, as a full run must stay near 8 minutes on this
 * 2-core machine: complaints open at 15–30/s here (some 45 ms of CPU each over the worker,
 * Temporal and Postgres), so 20,000 take 11–22 minutes; with the defaults a run takes about 11,
 * 5 of them waiting for the deadlines. The workflow cache is the worker's own default
 * (PLEDGE_MAX_CACHED_WORKFLOWS, config/index.ts) unless --cache: a cached complaint holds some
 * 2.4 MiB of V8 heap in the worker's workflow thread (its own instance of the bundle's modules, zod
 * and domain/'s schemas foremost). --worker-heap-mib caps the worker's V8 heaps (--max-old-space-size):
 * without it the workflow thread may grow to ~4 GiB of mostly garbage before it collects.
 *
 *   npx tsx bench/capacity.ts [--complaints 5000] [--due 2000] [--due-minutes 5] [--cache N] [--worker-heap-mib N] [--concurrency 32] [--reads 400]
 */
// First: api/ loads @hono/zod-openapi, which must extend zod before domain/ builds its schemas.
import { runBench, startBenchStack } from './lib/stack';
import { tsToMs } from '@temporalio/common/lib/time';
import protos from '@temporalio/proto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { customerPseudonym } from '../codec/pseudonym';
import { loadWorkingCalendar } from '../config/calendar';
import { caseWorkflowId, formatCaseId } from '../domain/case-types';
import { classifyComplaintPriority, type ComplaintCategory } from '../domain/complaint';
import { calendarForYears } from '../domain/working-calendar';
import { seedRegion } from '../test/support/incidents';
import type { ComplaintInput } from '../workflows/complaint';
import { caseStaticSummary, initialCaseSearchAttributes } from '../workflows/search-attributes';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import { cpuSecondsSince, cpuSnapshot } from './intake-report';
import { busiestThreads, rssMiB, threadCpuSeconds, treeCpuSeconds } from './lib/processes';
import { loadAverage, percentile, printTable, summariseLatencies, writeResults } from './lib/report';

const { values } = parseArgs({
  options: {
    complaints: { type: 'string', default: '5000' },
    due: { type: 'string', default: '2000' },
    'due-minutes': { type: 'string', default: '5' },
    cache: { type: 'string' },
    'worker-heap-mib': { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    reads: { type: 'string', default: '400' },
    'read-concurrency': { type: 'string', default: '8' },
  },
});
const complaints = Number(values.complaints);
const due = Math.min(Number(values.due), complaints);
const dueMinutes = Number(values['due-minutes']);
const maxCachedWorkflows = values.cache === undefined ? undefined : Number(values.cache);
const workerHeapMiB = values['worker-heap-mib'] === undefined ? undefined : Number(values['worker-heap-mib']);
const concurrency = Number(values.concurrency);
const reads = Number(values.reads);
const readConcurrency = Number(values['read-concurrency']);
const customers = 1000;
const taskQueue = 'bench-capacity';
const aim = { rssMiB: 1024, latenessP99Ms: 2000 };
const recordTimeoutMs = 10 * 60_000;

const { EventType } = protos.temporal.api.enums.v1;

await runBench(async (teardown) => {
  const loadBefore = loadAverage();
  const runStartedAt = performance.now();
  const policyFile = join(tmpdir(), `pledge-bench-capacity-policy-${process.pid}.json`);
  writeFileSync(policyFile, JSON.stringify({ complaintSla: { version: `complaint-sla/bench-p1-${dueMinutes}m`, firstResponseMinutes: { P1: dueMinutes, P2: 24 * 60, P3: 24 * 60, P4: 24 * 60 } } }));
  teardown.defer(() => rmSync(policyFile, { force: true }));
  // The worker process inherits this process's environment.
  if (workerHeapMiB !== undefined) process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--max-old-space-size=${workerHeapMiB}`].filter(Boolean).join(' ');
  const stack = await startBenchStack(teardown, { name: 'capacity', taskQueue, policyFile, childWorker: maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows } });
  const { sql, temporal, policies } = stack;
  const worker = stack.worker!;
  console.log(`worker pid ${worker.pid}, maxCachedWorkflows ${worker.maxCachedWorkflows}, V8 heap limit ${workerHeapMiB ? `${workerHeapMiB} MiB` : 'default'}; rss at start ${rssMiB(worker.pid)} MiB`);
  await seedRegion(sql, 'cap', 'cap-region', customers);

  // Worker memory, every second, with how many complaints were open then.
  const rssSamples: { atS: number; rssMiB: number; heapUsedMiB?: number; heapTotalMiB?: number; phase: string }[] = [];
  let phase = 'opening';
  const sampler = setInterval(() => {
    const heap = worker.memory();
    rssSamples.push({ atS: Math.round((performance.now() - runStartedAt) / 1000), rssMiB: rssMiB(worker.pid), ...(heap ? { heapUsedMiB: heap.heapUsed, heapTotalMiB: heap.heapTotal } : {}), phase });
  }, 1000);
  const memoryLine = () => {
    const heap = worker.memory();
    return `worker rss ${rssMiB(worker.pid)} MiB${heap ? ` (V8 heap ${heap.heapUsed} used of ${heap.heapTotal}, external ${heap.external}, 5 s ago)` : ''}`;
  };
  teardown.defer(() => clearInterval(sampler));

  // The input and start options the API builds (api/routes/complaints.ts, api/open-case.ts).
  const year = Number(new Intl.DateTimeFormat('en', { timeZone: policies.timeZone, year: 'numeric' }).format(new Date()));
  const calendar = calendarForYears(await loadWorkingCalendar(sql), year - 1, year + 1);
  let sequence = 0;
  const open = async (category: ComplaintCategory, receivedAt?: string): Promise<string> => {
    const n = ++sequence;
    const caseId = formatCaseId('complaint', year, n);
    const customerId = `cap-${String(1 + (n % customers)).padStart(6, '0')}`;
    const { priority, reason } = classifyComplaintPriority(category);
    const input: ComplaintInput = {
      caseId,
      customerId,
      channel: 'web',
      category,
      priority,
      priorityReason: reason,
      major: false,
      summary: `Capacity complaint ${n}`,
      description: '',
      ...(receivedAt ? { receivedAt } : {}),
      openedBy: { id: 'key bench', role: 'agent' },
      policy: policies.complaintSla,
      timeZone: policies.timeZone,
      calendar,
    };
    await temporal.workflow.start('complaint', {
      taskQueue,
      workflowId: caseWorkflowId('complaint', caseId),
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: initialCaseSearchAttributes({ type: 'complaint', customerId: customerPseudonym(customerId), priority }),
      staticSummary: caseStaticSummary('complaint', caseId, input.summary),
    });
    return caseId;
  };

  /** Opens `count` complaints at `concurrency`, then waits until each has its read-model row. */
  const openMany = async (label: string, count: number, openOne: (i: number) => Promise<string>) => {
    const startedAt = performance.now();
    const ids: string[] = [];
    let next = 0;
    let lastReport = startedAt;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < count; i = next++) {
          ids.push(await openOne(i));
          if (performance.now() - lastReport > 15_000) {
            lastReport = performance.now();
            console.log(`  ${label}: ${ids.length} started in ${Math.round((lastReport - startedAt) / 1000)} s; ${memoryLine()}`);
          }
        }
      }),
    );
    const startedMs = performance.now() - startedAt;
    for (;;) {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from cases where case_id = any(${ids})`;
      if (row!.n === ids.length) break;
      if (Number.isNaN(rssMiB(worker.pid))) throw new Error(`${label}: the worker process has exited (${row!.n} of ${ids.length} recorded)`);
      if (performance.now() - startedAt > recordTimeoutMs) throw new Error(`${label}: only ${row!.n} of ${ids.length} recorded after ${recordTimeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const recordedMs = performance.now() - startedAt;
    console.log(
      `${label}: ${count} started in ${Math.round(startedMs / 1000)} s, all recorded after ${Math.round(recordedMs / 1000)} s (${((count / recordedMs) * 1000).toFixed(1)}/s); ${memoryLine()}`,
    );
    return { ids, startedMs, recordedMs };
  };

  // 1. The open backlog.
  const background = await openMany('P3 billing complaints', complaints - due, () => open('billing'));
  const rssAfterBacklog = rssMiB(worker.pid);

  // 2. `due` P1 complaints whose first response falls due across one minute, ending `dueMinutes`
  // from now: received (receivedAt) evenly over the minute before they are opened.
  phase = 'opening the due ones';
  const spreadMs = 60_000;
  const receivedFromMs = Date.now() - spreadMs;
  const receivedAtOf = (i: number) => new Date(receivedFromMs + Math.floor((i * spreadMs) / due)).toISOString();
  const windowStart = new Date(receivedFromMs + dueMinutes * 60_000);
  const windowEnd = new Date(windowStart.getTime() + spreadMs);
  const dueOnes = await openMany(`P1 complaints due in ${dueMinutes - 1}–${dueMinutes} min`, due, (i) => open('account-security', receivedAtOf(i)));
  console.log(
    `their first responses fall due ${windowStart.toISOString()} – ${windowEnd.toISOString()}, the warnings (80 %) from ${new Date(receivedFromMs + dueMinutes * 48_000).toISOString()}; now ${new Date().toISOString()}`,
  );

  // 3. Until every one of them has breached (or five minutes past the window).
  // CPU is taken from the first warning due to the last breach recorded, per process and per thread of the worker.
  const firstWarningMs = receivedFromMs + dueMinutes * 48_000;
  if (Date.now() < firstWarningMs) await new Promise((resolve) => setTimeout(resolve, firstWarningMs - Date.now()));
  phase = 'deadlines due';
  const cpu = cpuSnapshot();
  const workerCpu = treeCpuSeconds(worker.pid);
  const threadsBefore = threadCpuSeconds(worker.pid);
  const notActedBefore = worker.memory()?.wakeupsNotActedOn ?? 0;
  const burstStartedAt = performance.now();
  const waitUntil = windowEnd.getTime() + 5 * 60_000;
  let breached = 0;
  while (Date.now() < waitUntil) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from case_events where type = 'sla.breached' and case_id = any(${dueOnes.ids}) and data->>'clock' = 'firstResponse'`;
    breached = row!.n;
    if (breached === due) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const burstCpu = cpuSecondsSince(cpu);
  const burstWorkerCpu = treeCpuSeconds(worker.pid) - workerCpu;
  const burstMs = performance.now() - burstStartedAt;
  const workerThreads = busiestThreads(threadsBefore, threadCpuSeconds(worker.pid), burstMs / 1000);
  await new Promise((resolve) => setTimeout(resolve, 2500)); // the worker's next report
  const wakeupsNotActedOn = (worker.memory()?.wakeupsNotActedOn ?? 0) - notActedBefore;
  const rssPeakInBurst = Math.max(...rssSamples.filter((s) => s.phase === 'deadlines due').map((s) => s.rssMiB));

  // Lateness of each first-response warning and breach. Only clocks that fell due after their case
  // was running count: one whose case opened later fires at intake, late by construction.
  const lateness = await sql<{ case_id: string; type: string; due_at: Date; occurred_ms: number; recorded_ms: number; before_open: boolean }[]>`
    with opened as (select case_id, min(occurred_at) as at from case_events where case_id = any(${dueOnes.ids}) group by case_id)
    select e.case_id, e.type, (coalesce(e.data->>'dueAt', e.data->>'at'))::timestamptz as due_at,
           extract(epoch from e.occurred_at - (coalesce(e.data->>'dueAt', e.data->>'at'))::timestamptz) * 1000 as occurred_ms,
           extract(epoch from e.recorded_at - (coalesce(e.data->>'dueAt', e.data->>'at'))::timestamptz) * 1000 as recorded_ms,
           (coalesce(e.data->>'dueAt', e.data->>'at'))::timestamptz <= o.at as before_open
    from case_events e join opened o using (case_id)
    where e.type in ('sla.warned', 'sla.breached') and e.data->>'clock' = 'firstResponse'`;
  const counted = lateness.filter((row) => !row.before_open);
  const figures = (type: string) => {
    const rows = counted.filter((row) => row.type === type);
    return { events: rows.length, occurred: summariseLatencies(rows.map((row) => row.occurred_ms)), recorded: summariseLatencies(rows.map((row) => row.recorded_ms)) };
  };
  const timerLateness = { breached: figures('sla.breached'), warned: figures('sla.warned'), dueBeforeOpen: lateness.length - counted.length };
  const perSecond = await sql<{ second: number; due: number }[]>`
    select date_trunc('second', (data->>'dueAt')::timestamptz) as second, count(*)::int as due
    from case_events where type = 'sla.breached' and case_id = any(${dueOnes.ids}) group by 1 order by 2 desc limit 1`;

  // Where the time went, from the histories of cases across each distribution: the timer set for
  // the due time (fired - due: the server's timer queue), the workflow task after it (scheduled ->
  // started: waiting for the worker; started -> completed: the worker's work, a replay included when
  // the case was not cached), and whether the case sat in the runtime's 60-s back-off.
  const anatomyOf = async (type: string) => {
    const rows = counted.filter((row) => row.type === type).sort((a, b) => a.occurred_ms - b.occurred_ms);
    const size = Math.min(15, rows.length);
    const sample = Array.from({ length: size }, (_, i) => rows[Math.floor((i * (rows.length - 1)) / Math.max(1, size - 1))]!);
    const figures = { timerFiredLate: [] as number[], scheduleToStart: [] as number[], startToComplete: [] as number[], backoffs: 0 };
    for (const row of sample) {
      const events = (await temporal.workflow.getHandle(caseWorkflowId('complaint', row.case_id)).fetchHistory()).events ?? [];
      const dueMs = row.due_at.getTime();
      const timers = events
        .filter((event) => event.eventType === EventType.EVENT_TYPE_TIMER_STARTED)
        .map((event) => {
          const timeoutMs = tsToMs(event.timerStartedEventAttributes!.startToFireTimeout!);
          return { id: Number(event.eventId), firesAtMs: tsToMs(event.eventTime) + timeoutMs, timeoutMs };
        });
      if (timers.some((timer) => timer.timeoutMs === 60_000 && timer.firesAtMs > dueMs)) figures.backoffs++;
      const timer = timers.filter((t) => Math.abs(t.firesAtMs - dueMs) < 5_000).sort((a, b) => Math.abs(a.firesAtMs - dueMs) - Math.abs(b.firesAtMs - dueMs))[0];
      const firedAt = timer ? events.findIndex((event) => event.eventType === EventType.EVENT_TYPE_TIMER_FIRED && Number(event.timerFiredEventAttributes?.startedEventId) === timer.id) : -1;
      if (firedAt < 0) continue;
      const after = events.slice(firedAt);
      const timeOf = (eventType: number) => after.find((event) => event.eventType === eventType)?.eventTime;
      const [scheduled, started, completed] = [EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED].map(timeOf);
      figures.timerFiredLate.push(tsToMs(events[firedAt]!.eventTime) - dueMs);
      if (scheduled && started) figures.scheduleToStart.push(tsToMs(started) - tsToMs(scheduled));
      if (started && completed) figures.startToComplete.push(tsToMs(completed) - tsToMs(started));
    }
    const p50 = (list: number[]) =>
      Math.round(
        percentile(
          [...list].sort((a, b) => a - b),
          50,
        ),
      );
    const max = (list: number[]) => (list.length === 0 ? NaN : Math.round(Math.max(...list)));
    return {
      sampled: size,
      backoffs: figures.backoffs,
      timerFiredLateMs: { p50: p50(figures.timerFiredLate), max: max(figures.timerFiredLate) },
      scheduleToStartMs: { p50: p50(figures.scheduleToStart), max: max(figures.scheduleToStart) },
      startToCompleteMs: { p50: p50(figures.startToComplete), max: max(figures.startToComplete) },
    };
  };
  const anatomy = { warned: await anatomyOf('sla.warned'), breached: await anatomyOf('sla.breached') };
  const [backedOff] = await sql<{ n: number }[]>`
    select count(*)::int as n from case_events
    where type = 'sla.breached' and case_id = any(${dueOnes.ids}) and occurred_at - (data->>'dueAt')::timestamptz >= interval '55 seconds'`;

  // 4. Reads, with every complaint open.
  phase = 'reads';
  const allIds = [...background.ids, ...dueOnes.ids];
  const readMany = async (path: (i: number) => string) => {
    const durations: number[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const cpuBefore = treeCpuSeconds(worker.pid);
    const startedAt = performance.now();
    await Promise.all(
      Array.from({ length: readConcurrency }, async () => {
        for (let i = next++; i < reads; i = next++) {
          const sentAt = performance.now();
          const response = await fetch(`${stack.baseUrl}${path(i)}`, { headers: { authorization: 'Bearer dev-agent-key' } });
          await response.arrayBuffer();
          durations.push(performance.now() - sentAt);
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }
      }),
    );
    const wallMs = performance.now() - startedAt;
    return {
      ...summariseLatencies(durations),
      perSecond: Math.round((reads / wallMs) * 10_000) / 10,
      statuses: Object.fromEntries(statuses),
      workerCpuMsPerRead: Math.round(((treeCpuSeconds(worker.pid) - cpuBefore) * 1000) / reads),
    };
  };
  // Random cases, the same for every run: most are not in the worker's cache once more are open than it holds.
  const pick = (i: number) => allIds[(i * 7919) % allIds.length]!;
  const getCase = await readMany((i) => `/v1/cases/${pick(i)}`);
  const list = await readMany(() => '/v1/cases?type=complaint&limit=50');
  const rssEnd = rssMiB(worker.pid);
  const heapEnd = worker.memory();
  const rssPeak = Math.max(...rssSamples.map((s) => s.rssMiB), rssEnd);
  clearInterval(sampler);

  const [openCount] = await sql<{ n: number }[]>`select count(*)::int as n from cases where type = 'complaint' and status not in ('closed')`;
  const cores = (seconds: number) => (seconds / (burstMs / 1000)).toFixed(2);
  console.log(
    `\nB4 capacity: ${complaints} open complaints (${openCount!.n} open in the read model), worker cache ${worker.maxCachedWorkflows} workflows, in its own process, V8 heap limit ${workerHeapMiB ? `${workerHeapMiB} MiB` : 'default'}`,
  );
  printTable(
    ['figure', 'value', 'aim'],
    [
      ['worker rss after the backlog (MiB)', rssAfterBacklog, ''],
      ['worker rss peak (MiB)', rssPeak, `< ${aim.rssMiB}`],
      ['worker rss at the end (MiB)', rssEnd, ''],
      ['worker V8 heap used / total at the end (MiB)', heapEnd ? `${heapEnd.heapUsed} / ${heapEnd.heapTotal}` : '?', ''],
      [`GET /v1/cases/{id} p50 / p99 ms (${reads}, ${readConcurrency} at once)`, `${getCase.p50} / ${getCase.p99}`, ''],
      [`GET /v1/cases?type=complaint&limit=50 p50 / p99 ms`, `${list.p50} / ${list.p99}`, ''],
      [
        `breach lateness p50 / p99 ms (occurred_at - dueAt, ${timerLateness.breached.events})`,
        `${timerLateness.breached.occurred.p50} / ${timerLateness.breached.occurred.p99}`,
        `p99 < ${aim.latenessP99Ms}`,
      ],
      ['breach recorded lateness p50 / p99 ms (recorded_at - dueAt)', `${timerLateness.breached.recorded.p50} / ${timerLateness.breached.recorded.p99}`, ''],
      [`warning lateness p50 / p99 ms (${timerLateness.warned.events})`, `${timerLateness.warned.occurred.p50} / ${timerLateness.warned.occurred.p99}`, ''],
      ['warning recorded lateness p50 / p99 ms', `${timerLateness.warned.recorded.p50} / ${timerLateness.warned.recorded.p99}`, ''],
    ],
  );
  console.log(
    `\nopening: ${complaints - due} P3 in ${Math.round(background.recordedMs / 1000)} s, ${due} P1 in ${Math.round(dueOnes.recordedMs / 1000)} s; ` +
      `${breached} of ${due} first responses breached; ${timerLateness.dueBeforeOpen} warnings/breaches fell due before their case was running (left out); busiest second held ${perSecond[0]?.due ?? 0} deadlines`,
  );
  console.log(
    `during the deadlines (${Math.round(burstMs / 1000)} s): cores busy: worker ${cores(burstWorkerCpu)}, API ${cores(burstCpu.bench - burstWorkerCpu)}, Temporal ${cores(burstCpu.temporal)}, Postgres ${cores(burstCpu.postgres)}, other people's work ${cores(burstCpu.others)}; worker rss peak ${rssPeakInBurst} MiB`,
  );
  for (const [type, a] of Object.entries(anatomy)) {
    console.log(
      `${type}, ${a.sampled} histories across the distribution, p50 (max): timer fired ${a.timerFiredLateMs.p50} (${a.timerFiredLateMs.max}) ms after due; the task then waited ${a.scheduleToStartMs.p50} (${a.scheduleToStartMs.max}) ms ` +
        `for the worker and ran ${a.startToCompleteMs.p50} (${a.startToCompleteMs.max}) ms; ${a.backoffs} sat in a 60-s back-off`,
    );
  }
  console.log(
    `the worker's case runtime logged ${wakeupsNotActedOn} "case wake-up due but not acted on" (a 60-s wait) during the deadlines; ${backedOff!.n} breaches were recorded 55 s or more late; ` +
      `busiest worker threads: ${workerThreads.map((t) => `${t.name}/${t.tid} ${t.cores}`).join(', ')} cores`,
  );
  console.log(
    `reads: GET case ${getCase.perSecond}/s (${getCase.workerCpuMsPerRead} ms worker CPU each: a query replays a workflow not in the cache), statuses ${JSON.stringify(getCase.statuses)}; list ${list.perSecond}/s, statuses ${JSON.stringify(list.statuses)}`,
  );
  console.log(`aims: worker rss < 1 GiB ${rssPeak < aim.rssMiB ? 'met' : 'missed'}; breach lateness p99 < 2 s ${timerLateness.breached.occurred.p99 < aim.latenessP99Ms ? 'met' : 'missed'}`);
  if (breached !== due) {
    console.error(`MISMATCH: ${breached} of ${due} first-response clocks breached`);
    process.exitCode = 1;
  }

  writeResults('capacity', {
    loadBefore,
    complaints,
    due,
    dueMinutes,
    maxCachedWorkflows: worker.maxCachedWorkflows,
    workerHeapMiB: workerHeapMiB ?? null,
    opening: {
      backlog: { count: complaints - due, startedMs: Math.round(background.startedMs), recordedMs: Math.round(background.recordedMs) },
      due: { count: due, recordedMs: Math.round(dueOnes.recordedMs) },
    },
    workerRssMiB: { afterBacklog: rssAfterBacklog, peak: rssPeak, peakDuringDeadlines: rssPeakInBurst, end: rssEnd },
    workerMemoryAtEnd: heapEnd ?? null,
    getCase,
    list,
    timerLateness,
    breached,
    busiestSecond: perSecond[0]?.due ?? 0,
    lateAnatomy: anatomy,
    wakeupsNotActedOn,
    breachesAtLeast55sLate: backedOff!.n,
    workerThreads,
    burst: { ms: Math.round(burstMs), cpu: { ...burstCpu, worker: burstWorkerCpu } },
    rssSamples,
  });
});
