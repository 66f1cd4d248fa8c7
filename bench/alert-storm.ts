/**
 * B2, an alert storm (issue 15): Alertmanager webhook posts for many alert groups at once, repeats
 * and resolves mixed in, from concurrent senders, against the API, the worker, the
 * Temporal dev server (SQLite) and Postgres of a stack of its own; the API (with the senders) in
 * this process, the worker in a child process of its own, as they run apart in production. Each sender owns a share of the
 * groups and keeps each group's posts in order, as Alertmanager does, interleaving its groups at
 * random. Every post carries the group's whole alert set as it stands then:
 *
 *   first 30 % of a group's posts   a firing                      (opens the incident; then repeats)
 *   up to 60 %                      a firing, b firing            (b joins; severity rises)
 *   up to 80 %                      a resolved, b firing
 *   the rest                        even groups: both resolved    (the incident resolves)
 *                                   odd groups: unchanged          (the incident stays open)
 *
 * Prints webhook latency (p50/p95/p99, by kind of post and inside Temporal calls), the time until
 * every incident exists and shows its group's last post (status and alert counts in the read
 * model), incidents created (must equal the number of groups: exit 1 otherwise), and where the
 * time went: CPU of this process / Temporal / Postgres and what Postgres' busy backends waited on.
 *
 *   npx tsx bench/alert-storm.ts [--posts 5000] [--groups 500] [--senders 20] [--customers-per-group 2]
 */
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { alertmanagerWebhook, type TestAlert } from '../test/support/incidents';
import { cpuSecondsSince, cpuSnapshot } from './intake-report';
import { rssMiB, treeCpuSeconds } from './lib/processes';
import { loadAverage, printTable, summariseLatencies, writeResults, type LatencySummary } from './lib/report';
import { runBench, startBenchStack } from './lib/stack';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '5000' },
    groups: { type: 'string', default: '500' },
    senders: { type: 'string', default: '20' },
    'customers-per-group': { type: 'string', default: '2' },
  },
});
const posts = Number(values.posts);
const groups = Number(values.groups);
const senders = Number(values.senders);
const customersPerGroup = Number(values['customers-per-group']);
const postsPerGroup = Math.floor(posts / groups);
if (postsPerGroup < 4) throw new Error('--posts must be at least 4 × --groups');
const settleTimeoutMs = 10 * 60_000;
const aimP99Ms = 100;

type Kind = 'opens' | 'changes' | 'repeats';
interface Post {
  group: number;
  body: ReturnType<typeof alertmanagerWebhook>;
  /** What this post does to its incident, by design; 'opens' is confirmed by the answer's `created`. */
  kind: Kind;
}
interface Answered {
  group: number;
  kind: Kind;
  ms: number;
  status: number;
  created: number;
  sentAt: number;
}

const regionOf = (group: number) => `storm-${String(group).padStart(4, '0')}`;
/** domain/incident.ts alertGroupDedupKey (not imported: a zod schema built before api/ loads lacks `.openapi`). */
const dedupKeyOf = (groupKey: string) => `alertmanager|${groupKey}`;
const groupKeyOf = (group: number) => `{}/{service="broadband"}:{alertname="BroadbandDown", region="${regionOf(group)}"}`;

/** A group's posts in order, and the state its incident must end in. */
function groupPlan(group: number, nowMs: number): { posts: Post[]; expected: { status: string; total: number; firing: number; resolved: number } } {
  const aStartsAt = new Date(nowMs - 30 * 60_000 - group * 1000).toISOString();
  const bStartsAt = new Date(nowMs - 20 * 60_000).toISOString();
  const endsAt = new Date(nowMs - 60_000).toISOString();
  const a = (status: 'firing' | 'resolved'): TestAlert => ({ fingerprint: `a${group}`, status, startsAt: aStartsAt, ...(status === 'resolved' ? { endsAt } : {}), labels: { severity: 'warning' } });
  const b = (status: 'firing' | 'resolved'): TestAlert => ({
    fingerprint: `b${group}`,
    status,
    startsAt: bStartsAt,
    ...(status === 'resolved' ? { endsAt } : {}),
    labels: { severity: 'critical', instance: `olt-${group}` },
  });
  const resolves = group % 2 === 0;
  const stateAt = (i: number): TestAlert[] =>
    i < postsPerGroup * 0.3
      ? [a('firing')]
      : i < postsPerGroup * 0.6
        ? [a('firing'), b('firing')]
        : i < postsPerGroup * 0.8 || !resolves
          ? [a('resolved'), b('firing')]
          : [a('resolved'), b('resolved')];
  const groupPosts = Array.from({ length: postsPerGroup }, (_, i): Post => {
    const alerts = stateAt(i);
    const kind: Kind = i === 0 ? 'opens' : JSON.stringify(alerts) === JSON.stringify(stateAt(i - 1)) ? 'repeats' : 'changes';
    return { group, kind, body: alertmanagerWebhook(groupKeyOf(group), alerts, { region: regionOf(group), severity: 'warning' }) };
  });
  return { posts: groupPosts, expected: resolves ? { status: 'resolved', total: 2, firing: 0, resolved: 2 } : { status: 'open', total: 2, firing: 1, resolved: 1 } };
}

/** Deterministic, so every run interleaves the same way (mulberry32). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

await runBench(async (teardown) => {
  const loadBefore = loadAverage();
  const temporalMs: Record<'signalWithStart' | 'signal', number[]> = { signalWithStart: [], signal: [] };
  const timing: WorkflowClientInterceptor = {
    async signalWithStart(input, next) {
      const started = performance.now();
      try {
        return await next(input);
      } finally {
        temporalMs.signalWithStart.push(performance.now() - started);
      }
    },
    async signal(input, next) {
      const started = performance.now();
      try {
        return await next(input);
      } finally {
        temporalMs.signal.push(performance.now() - started);
      }
    },
  };
  const stack = await startBenchStack(teardown, { name: 'storm', taskQueue: 'bench-storm', clientInterceptors: [timing], childWorker: {} });
  const workerPid = stack.worker!.pid;
  const { sql } = stack;
  const probeSql = await teardown.add(Promise.resolve(postgres(stack.databaseUrl, { onnotice: () => {}, max: 1 })), (s) => s.end());

  // Customers in every group's region, so incidents count users, and resolutions tell and pay them.
  await sql`
    insert into customers (id, name, channels, locale, plan, services, region)
    select 'storm-' || lpad(n::text, 7, '0'), 'Customer ' || n, '{inbox}', 'zh-CN', 'home-100m', '{broadband}', 'storm-' || lpad((n % ${groups})::text, 4, '0')
    from generate_series(1, ${groups * customersPerGroup}) as n`;

  const post = async (body: unknown) => {
    const sentAt = performance.now();
    const response = await fetch(`${stack.baseUrl}/v1/alerts/alertmanager`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-alert-key', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { incidents?: { created: boolean }[] };
    return { sentAt, ms: performance.now() - sentAt, status: response.status, created: (answer.incidents ?? []).filter((incident) => incident.created).length };
  };

  // Warm-up (JIT, pools, the worker's workflow context) on groups of their own, left out of every figure.
  const warmKeys = ['{}:{alertname="Warmup", n="1"}', '{}:{alertname="Warmup", n="2"}'];
  for (let i = 0; i < 10; i++) {
    await Promise.all(
      warmKeys.map((key) =>
        post(
          alertmanagerWebhook(
            key,
            [{ fingerprint: `w${key.length}`, status: i < 8 ? 'firing' : 'resolved', startsAt: new Date(Date.now() - 600_000).toISOString(), ...(i < 8 ? {} : { endsAt: new Date().toISOString() }) }],
            { region: 'warmup', severity: 'warning' },
          ),
        ),
      ),
    );
  }

  temporalMs.signalWithStart.length = 0;
  temporalMs.signal.length = 0;

  const nowMs = Date.now();
  const plans = Array.from({ length: groups }, (_, group) => groupPlan(group, nowMs));
  const expected = new Map(plans.map((plan, group) => [dedupKeyOf(groupKeyOf(group)), plan.expected]));
  const stormKeys = [...expected.keys()];
  console.log(
    `${groups} groups × ${postsPerGroup} posts = ${groups * postsPerGroup} posts from ${senders} senders; by design ${plans.flatMap((p) => p.posts).filter((p) => p.kind === 'opens').length} open, ` +
      `${plans.flatMap((p) => p.posts).filter((p) => p.kind === 'changes').length} change something, ${plans.flatMap((p) => p.posts).filter((p) => p.kind === 'repeats').length} repeat; ` +
      `${groups * customersPerGroup} customers (${customersPerGroup} per group's region)`,
  );

  // Postgres' busy backends, every 50 ms: what they run and what they wait on.
  const activity = new Map<string, number>();
  let activitySamples = 0;
  let probing = true;
  const prober = (async () => {
    while (probing) {
      const rows = await probeSql<{ query: string; wait: string | null }[]>`
        select query, wait_event_type || ':' || wait_event as wait from pg_stat_activity
        where state = 'active' and backend_type = 'client backend' and pid <> pg_backend_pid()`;
      activitySamples++;
      for (const row of rows) {
        const key = `${statementKind(row.query)} (${row.wait ?? 'running'})`;
        activity.set(key, (activity.get(key) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  teardown.defer(async () => {
    probing = false;
    await prober;
  });
  const [statsBefore] = await probeSql<{ commits: number; deadlocks: number }[]>`select xact_commit::int as commits, deadlocks::int from pg_stat_database where datname = current_database()`;

  const cpu = cpuSnapshot();
  const workerCpuBefore = treeCpuSeconds(workerPid);
  const loop = performance.eventLoopUtilization();
  const startedAt = performance.now();
  const answered: Answered[] = [];
  const next = random(15);
  await Promise.all(
    Array.from({ length: senders }, async (_, sender) => {
      const queues = plans.map((plan) => plan.posts).filter((_, group) => group % senders === sender);
      while (queues.some((queue) => queue.length > 0)) {
        const open = queues.filter((queue) => queue.length > 0);
        const { group, kind, body } = open[Math.floor(next() * open.length)]!.shift()!;
        const answer = await post(body);
        answered.push({ group, kind, ...answer, sentAt: answer.sentAt - startedAt });
      }
    }),
  );
  const postedMs = performance.now() - startedAt;
  const postingCpu = perProcess(cpuSecondsSince(cpu), treeCpuSeconds(workerPid) - workerCpuBefore);
  const postingLoop = performance.eventLoopUtilization(loop).utilization;
  console.log(`all ${answered.length} posts answered after ${Math.round(postedMs)} ms; waiting for every incident to show its last post`);

  let wrong: string[] = [];
  let settledMs: number | undefined;
  while (performance.now() - startedAt < settleTimeoutMs) {
    const rows = await sql<{ dedup_key: string; status: string; alerts: { total: number; firing: number; resolved: number } | null }[]>`
      select g.dedup_key, c.status, c.state->'details'->'alerts' as alerts
      from incident_alert_groups g join cases c on c.case_id = g.case_id
      where g.dedup_key = any(${stormKeys})`;
    const seen = new Map(rows.map((row) => [row.dedup_key, row]));
    wrong = stormKeys.filter((key) => {
      const row = seen.get(key);
      const want = expected.get(key)!;
      return !row || row.status !== want.status || row.alerts?.total !== want.total || row.alerts.firing !== want.firing || row.alerts.resolved !== want.resolved;
    });
    if (wrong.length === 0) {
      settledMs = performance.now() - startedAt;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const settleCpu = perProcess(cpuSecondsSince(cpu), treeCpuSeconds(workerPid) - workerCpuBefore);
  const workerRssMiB = rssMiB(workerPid);
  const settleLoop = performance.eventLoopUtilization(loop).utilization;
  probing = false;
  await prober;
  const [statsAfter] = await probeSql<{ commits: number; deadlocks: number }[]>`select xact_commit::int as commits, deadlocks::int from pg_stat_database where datname = current_database()`;

  const [counts] = await sql<{ groups: number; incidents: number }[]>`
    select count(*)::int as groups, count(distinct g.case_id)::int as incidents
    from incident_alert_groups g where g.dedup_key = any(${stormKeys})`;
  const [recorded] = await sql<{ n: number }[]>`
    select count(*)::int as n from cases c where c.type = 'incident' and c.state->'details'->>'dedupKey' = any(${stormKeys})`;
  const createdByAnswers = answered.reduce((sum, a) => sum + a.created, 0);
  const non202 = answered.filter((a) => a.status !== 202).length;

  const latency = summariseLatencies(answered.map((a) => a.ms));
  const byKind = Object.fromEntries((['opens', 'changes', 'repeats'] as const).map((kind) => [kind, summariseLatencies(answered.filter((a) => a.kind === kind).map((a) => a.ms))])) as Record<
    Kind,
    LatencySummary
  >;
  const inTemporal = { signalWithStart: summariseLatencies(temporalMs.signalWithStart), signal: summariseLatencies(temporalMs.signal) };
  stack.flushRequestLog();
  const serverSide = serverDurations(stack.requestLogFile);
  // Latency over the run, in tenths: the first tenth holds most of the opens.
  const tenths = Array.from({ length: 10 }, (_, i) => {
    const slice = answered.filter((a) => a.sentAt >= (i * postedMs) / 10 && a.sentAt < ((i + 1) * postedMs) / 10);
    return { tenth: i + 1, posts: slice.length, opens: slice.filter((a) => a.kind === 'opens').length, ...summariseLatencies(slice.map((a) => a.ms)) };
  });
  const postgresActivity = Object.fromEntries([...activity.entries()].sort((a, b) => b[1] - a[1]).map(([key, seen]) => [key, Math.round((seen / activitySamples) * 100) / 100]));
  const commits = statsAfter!.commits - statsBefore!.commits;

  console.log(`\nB2 alert storm: ${answered.length} posts, ${groups} groups, ${senders} senders (API + senders in this process, the worker in its own, Temporal dev server on SQLite, Postgres)`);
  printTable(
    ['posts', 'count', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
    [
      ['all', latency.count, latency.p50, latency.p95, latency.p99, latency.max],
      ...(['opens', 'changes', 'repeats'] as const).map((kind) => [kind, byKind[kind].count, byKind[kind].p50, byKind[kind].p95, byKind[kind].p99, byKind[kind].max]),
      ['(server side, request log)', serverSide.count, serverSide.p50, serverSide.p95, serverSide.p99, serverSide.max],
      ['(in signalWithStart)', inTemporal.signalWithStart.count, inTemporal.signalWithStart.p50, inTemporal.signalWithStart.p95, inTemporal.signalWithStart.p99, inTemporal.signalWithStart.max],
      ...(inTemporal.signal.count > 0 ? [['(in signal)', inTemporal.signal.count, inTemporal.signal.p50, inTemporal.signal.p95, inTemporal.signal.p99, inTemporal.signal.max]] : []),
    ],
  );
  console.log('\nlatency over the run, by tenth of the posting time');
  printTable(
    ['tenth', 'posts', 'opens', 'p50 ms', 'p99 ms', 'max ms'],
    tenths.map((t) => [t.tenth, t.posts, t.opens, t.p50, t.p99, t.max]),
  );
  const rate = (n: number, ms: number) => Math.round((n / ms) * 10_000) / 10;
  console.log(`\nposted in       ${Math.round(postedMs)} ms (${rate(answered.length, postedMs)} posts/s); non-202 answers: ${non202}`);
  console.log(
    settledMs === undefined
      ? `NOT SETTLED after ${settleTimeoutMs / 1000} s: ${wrong.length} groups wrong, e.g. ${wrong.slice(0, 3).join(' ')}`
      : `settled after    ${Math.round(settledMs)} ms from the first post (every incident shows its group's last post)`,
  );
  console.log(`incidents       ${createdByAnswers} created by the answers; ${counts!.incidents} owning the ${counts!.groups} storm groups; ${recorded!.n} in the read model; expected ${groups}`);
  const perPost = (seconds: number) => `${((seconds * 1000) / answered.length).toFixed(1)} ms`;
  const cores = (seconds: number, ms: number) => (seconds / (ms / 1000)).toFixed(2);
  console.log(
    `cpu per post until answered: API + senders (this process) ${perPost(postingCpu.api)}, worker ${perPost(postingCpu.worker)}, Temporal ${perPost(postingCpu.temporal)}, Postgres ${perPost(postingCpu.postgres)}; ` +
      `cores busy: API ${cores(postingCpu.api, postedMs)}, worker ${cores(postingCpu.worker, postedMs)}, Temporal ${cores(postingCpu.temporal, postedMs)}, Postgres ${cores(postingCpu.postgres, postedMs)}, ` +
      `other people's work ${cores(postingCpu.others, postedMs)} (of ${cpus().length}); API event loop ${Math.round(postingLoop * 100)}% busy`,
  );
  console.log(
    `cpu until settled: API ${settleCpu.api.toFixed(1)} s, worker ${settleCpu.worker.toFixed(1)} s, Temporal ${settleCpu.temporal.toFixed(1)} s, Postgres ${settleCpu.postgres.toFixed(1)} s, others ${settleCpu.others.toFixed(1)} s; ` +
      `API event loop ${Math.round(settleLoop * 100)}%; worker rss ${workerRssMiB} MiB (cache ${stack.worker!.maxCachedWorkflows} workflows)`,
  );
  console.log(
    `postgres: ${commits} commits (${(commits / answered.length).toFixed(1)} per post), deadlocks ${statsAfter!.deadlocks - statsBefore!.deadlocks}; busy backends on average: ${Object.entries(
      postgresActivity,
    )
      .slice(0, 6)
      .map(([key, busy]) => `${key} ${busy}`)
      .join(', ')}`,
  );
  console.log(`aim: p99 < ${aimP99Ms} ms: ${latency.p99 < aimP99Ms ? 'met' : 'missed'}`);

  const exact = createdByAnswers === groups && counts!.incidents === groups && counts!.groups === groups && recorded!.n === groups;
  if (!exact) console.error(`MISMATCH: expected exactly ${groups} incidents, one per group; answers say ${createdByAnswers}, groups ${counts!.incidents}, read model ${recorded!.n}`);
  if (!exact || settledMs === undefined || non202 > 0) process.exitCode = 1;

  writeResults('alert-storm', {
    loadBefore,
    posts: answered.length,
    groups,
    senders,
    customersPerGroup,
    postedMs: Math.round(postedMs),
    settledMs: settledMs === undefined ? null : Math.round(settledMs),
    incidentsCreated: createdByAnswers,
    incidentsInGroups: counts!.incidents,
    incidentsRecorded: recorded!.n,
    non202,
    latency,
    byKind,
    serverSide,
    inTemporal,
    tenths,
    workerRssMiB,
    workerCacheSize: stack.worker!.maxCachedWorkflows,
    cpu: { posting: postingCpu, untilSettled: settleCpu, eventLoop: { posting: postingLoop, untilSettled: settleLoop } },
    postgres: { commits, deadlocks: statsAfter!.deadlocks - statsBefore!.deadlocks, busyBackends: postgresActivity },
    wrong: wrong.slice(0, 20),
  });
});

/** The API process (with the senders) apart from the worker below it. */
function perProcess(cpu: ReturnType<typeof cpuSecondsSince>, worker: number) {
  return { api: cpu.bench - worker, worker, temporal: cpu.temporal, postgres: cpu.postgres, others: cpu.others };
}

/** The API's own view of each webhook request: durationMs from its request log. */
function serverDurations(file: string): LatencySummary {
  const durations: number[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('/v1/alerts/alertmanager')) continue;
    const entry = JSON.parse(line) as { path?: string; durationMs?: number; msg?: string };
    if (entry.path === '/v1/alerts/alertmanager' && typeof entry.durationMs === 'number') durations.push(entry.durationMs);
  }
  return summariseLatencies(durations.slice(20)); // after the warm-up's 20
}

/** Which of the webhook's statements a query is, by its text. */
function statementKind(query: string): string {
  const text = query.replace(/\s+/g, ' ').trim();
  if (text.includes('pg_advisory_xact_lock')) return 'group lock';
  if (text.includes('from unnest') && text.includes('join incident_alerts')) return 'known alerts';
  if (text.startsWith('insert into incident_alerts')) return 'insert alerts';
  if (text.startsWith('update incident_alerts')) return 'mark delivered';
  if (text.includes('incident_alert_groups')) return 'alert groups';
  if (text.includes('nextval')) return 'case number';
  if (text.startsWith('insert into cases')) return 'read model';
  if (text.includes('case_events')) return 'case events';
  if (text.includes('notifications')) return 'outbox';
  if (text.startsWith('select 1') || text === 'begin' || text === 'commit') return text.slice(0, 12);
  return text.slice(0, 30);
}
