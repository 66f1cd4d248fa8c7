/**
 * The outbox at scale: an outage notice to N customers (every 3rd SMS-first, every 2nd of the rest
 * by e-mail, everyone on the inbox) and one routine reminder queued behind them, delivered by one
 * dispatcher to a real SMTP server and a real SMSC (both on loopback, in this process) over an
 * embedded Postgres. Measures queueing, time until every row is delivered (SMS by its receipts),
 * throughput and latency per channel, the routine message's wait, and checks exactly-once against
 * what the two servers received. Where the time goes: each send timed per channel (with how full
 * the channel's concurrency limit was), Postgres sampled for what its busy backends were running,
 * and the CPU of this process, Postgres and the rest of the machine.
 *
 *   npx tsx bench/delivery.ts [--customers 100000] [--lanes 4] [--batch 200]
 */
import { writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { contactColumns, contactOf, findCustomerContact, type ContactRow } from '../db/customers';
import { migrate } from '../db/migrate';
import { insertNotifications } from '../db/notifications';
import { createDispatcher, createMailer, messageIdFor, notificationRows, type BatchNotificationRequest, type OutgoingMail } from '../notifications';
import { createReceiptRecorder } from '../notifications/receipts';
import { createSmppSender, type SmsMessage } from '../notifications/sms';
import { freePort } from '../scripts/toolchain/ports';
import { startEphemeralPostgres } from '../scripts/toolchain/postgres';
import { seedRegion } from '../test/support/incidents';
import { startSmppSink } from '../test/support/smpp-sink';
import { startSmtpSink } from '../test/support/smtp-sink';
import { Teardown } from '../test/support/teardown';
import { cpuSecondsSince, cpuSnapshot } from './intake-report';
import { childProcesses } from './lib/processes';
import { machineInfo, percentile } from './lib/report';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '100000' }, lanes: { type: 'string', default: '4' }, batch: { type: 'string', default: '200' } } });
const customers = Number(values.customers);
const lanes = Number(values.lanes);
const batchSize = Number(values.batch);
const region = 'bench-delivery';
const caseId = 'INC-2026-000001';
const reminderKey = 'complaint-CMP-2026-000001:info-reminder-7';
const pageSize = 1000;
const publicUrl = 'https://pledge.example/care';
/** The dispatcher's defaults (notifications/dispatcher.ts), to say how full each channel's limit was. */
const channelConcurrency = { email: 8, sms: 16 };
/** Nothing settled for this long: the run is reported as stalled. */
const stallMs = 30_000;

const teardown = new Teardown();
let stopping: Promise<void> | undefined;
const stop = () => (stopping ??= teardown.run().catch(console.error));
process.on('SIGINT', () => void stop().finally(() => process.exit(130)));
process.on('SIGTERM', () => void stop().finally(() => process.exit(143)));

/** Each send's duration, and the time-weighted number of sends in flight. */
class ChannelTimer {
  readonly durationsMs: number[] = [];
  private inFlight = 0;
  private weightedMs = 0;
  private fullMs = 0;
  private lastChangeAt = performance.now();

  constructor(private readonly limit: number) {}

  async time<T>(send: () => Promise<T>): Promise<T> {
    this.change(+1);
    const started = performance.now();
    try {
      return await send();
    } finally {
      this.durationsMs.push(performance.now() - started);
      this.change(-1);
    }
  }

  private change(delta: number): void {
    const now = performance.now();
    this.weightedMs += this.inFlight * (now - this.lastChangeAt);
    if (this.inFlight >= this.limit) this.fullMs += now - this.lastChangeAt;
    this.inFlight += delta;
    this.lastChangeAt = now;
  }

  summary(wallMs: number) {
    const sorted = [...this.durationsMs].sort((a, b) => a - b);
    return {
      sends: sorted.length,
      sendP50Ms: round(percentile(sorted, 50), 1),
      sendP95Ms: round(percentile(sorted, 95), 1),
      averageInFlight: round(this.weightedMs / wallMs, 1),
      limit: this.limit,
      /** Share of the run with every slot taken: sends queued behind the limit. */
      fullShare: round(this.fullMs / wallMs, 2),
    };
  }
}

interface ChannelFigures {
  channel: string;
  rows: number;
  delivered: number;
  failed: number;
  /** From the first row queued to this channel's last delivery. */
  lastDeliveredAtMs: number;
  perSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Queued until claimed; claimed until its batch's outcomes were recorded. */
  phasesP50Ms: { toClaim: number; inBatch: number };
}

const loadBefore = loadavg();
const log: string[] = [];
const timers = { email: new ChannelTimer(channelConcurrency.email), sms: new ChannelTimer(channelConcurrency.sms) };

try {
  const database = await teardown.add(startEphemeralPostgres(await freePort()), (pg) => pg.stop());
  await migrate(database.url);
  // Two pools, as in production: the worker's (dispatcher, receipts) and the one that queues (activities).
  const workerSql = await teardown.add(Promise.resolve(postgres(database.url, { onnotice: () => {} })), (sql) => sql.end());
  const sql = await teardown.add(Promise.resolve(postgres(database.url, { onnotice: () => {} })), (sql) => sql.end());
  const probeSql = await teardown.add(Promise.resolve(postgres(database.url, { onnotice: () => {}, max: 1 })), (sql) => sql.end());

  let startedAt = performance.now();
  await seedRegion(sql, 'bench', region, customers, { sms: true });
  console.log(`seeded ${customers} customers in ${Math.round(performance.now() - startedAt)} ms`);

  const smtp = await teardown.add(startSmtpSink(), (sink) => sink.stop());
  const smsc = await teardown.add(startSmppSink(), (sink) => sink.stop());
  const mailer = await teardown.add(Promise.resolve(createMailer(smtp.url)), (created) => created.close());
  const record = (fields: object, message: string) => void log.push(`${message} ${JSON.stringify(fields)}`);
  const sms = await teardown.add(
    Promise.resolve(createSmppSender({ url: smsc.url, senderId: 'Pledge', onReceipt: createReceiptRecorder(workerSql), log: { warn: record, error: record } })),
    (sender) => sender.close(),
  );
  const dispatcher = createDispatcher({
    sql: workerSql,
    transports: {
      mail: { mailer: { sendMail: (mail: OutgoingMail) => timers.email.time(() => mailer.sendMail(mail)) }, from: 'Pledge <care@pledge.example>', concurrency: channelConcurrency.email },
      sms: { sender: { send: (message: SmsMessage) => timers.sms.time(() => sms.send(message)) }, concurrency: channelConcurrency.sms },
    },
    lanes,
    batchSize,
    log: (line) => log.push(line),
  });
  await teardown.add(dispatcher.start(), () => dispatcher.stop());

  // What Postgres' busy backends are running, ten times a second (pg_stat_activity reads no table).
  const activity = new Map<string, number>();
  let activitySamples = 0;
  let probing = true;
  const prober = (async () => {
    while (probing) {
      const rows = await probeSql<{ query: string }[]>`select query from pg_stat_activity where state = 'active' and backend_type = 'client backend' and pid <> pg_backend_pid()`;
      activitySamples++;
      for (const row of rows) activity.set(statementKind(row.query), (activity.get(statementKind(row.query)) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  teardown.defer(async () => {
    probing = false;
    await prober;
  });

  const cpuBefore = cpuSnapshot();
  const loopBefore = performance.eventLoopUtilization();
  startedAt = performance.now();
  let queued = 0;
  for (let after = ''; ;) {
    const page = await sql<ContactRow[]>`
      select ${sql.unsafe(contactColumns)} from customers c where c.region = ${region} and c.id > ${after} order by c.id limit ${pageSize}`;
    if (page.length === 0) break;
    const requests = page.map((row): BatchNotificationRequest => ({
      idempotencyKey: `incident-${caseId}:notice:${row.id}`,
      customer: contactOf(row),
      caseId,
      templateId: 'incident.outage-notice',
      params: { caseId, title: 'Broadband outage in the bench region', startedAt: '2026-03-02 09:15', message: 'A fibre trunk is down; engineers are on their way.' },
    }));
    queued += await insertNotifications(sql, notificationRows(requests, { publicUrl }));
    after = page.at(-1)!.id;
  }
  const queueMs = performance.now() - startedAt;
  // Routine (priority 2), behind every notice, for a customer with e-mail.
  const reminderFor = (await findCustomerContact(sql, 'bench-000002'))!;
  const reminder: BatchNotificationRequest = {
    idempotencyKey: reminderKey,
    customer: reminderFor,
    caseId: 'CMP-2026-000001',
    templateId: 'complaint.info-reminder',
    params: { caseId: 'CMP-2026-000001', message: 'The address where the fault occurs.', days: '10' },
  };
  queued += await insertNotifications(sql, notificationRows([reminder], { publicUrl }));
  console.log(`queued ${queued} rows in ${Math.round(queueMs)} ms (pages of ${pageSize})`);

  // Until nothing is open, or nothing settled for `stallMs`. Pending and sending rows are counted
  // through their partial indexes; 'sent' (awaiting receipts) needs a scan, so only once the rest are done.
  let stalled: { open: number; sentWithEveryReceipt: number } | undefined;
  let nextProgressAt = performance.now() + 10_000;
  for (let lastOpen = -1, lastMovedAt = performance.now(); ; await new Promise((resolve) => setTimeout(resolve, 250))) {
    const [unsent] = await probeSql<{ pending: number; sending: number }[]>`
      select (select count(*) from notifications where status = 'pending')::int as pending, (select count(*) from notifications where status = 'sending')::int as sending`;
    const awaitingReceipts =
      unsent!.pending + unsent!.sending === 0 ? (await probeSql<{ count: number }[]>`select count(*)::int as count from notifications where status = 'sent'`)[0]!.count : undefined;
    const open = unsent!.pending + unsent!.sending + (awaitingReceipts ?? 0);
    if (awaitingReceipts === 0) break;
    if (performance.now() > nextProgressAt) {
      nextProgressAt += 10_000;
      console.log(
        `  ${Math.round((performance.now() - startedAt) / 1000)} s: ${unsent!.pending} pending, ${unsent!.sending} sending; ${smtp.received.length} mails and ${smsc.received.length} SMS received`,
      );
    }
    if (open !== lastOpen) [lastOpen, lastMovedAt] = [open, performance.now()];
    if (performance.now() - lastMovedAt > stallMs) {
      const [stuck] = await sql<{ count: number }[]>`
        select count(*)::int as count from notifications n
        where n.status = 'sent' and cardinality(n.provider_ids) = (select count(*) from notification_receipts r where r.provider_id = any(n.provider_ids))`;
      stalled = { open, sentWithEveryReceipt: stuck!.count };
      console.error(`STALLED: ${open} rows open and none settled for ${stallMs / 1000} s; ${stuck!.count} of them 'sent' with every part's receipt recorded`);
      break;
    }
  }
  const allDeliveredMs = performance.now() - startedAt - (stalled ? stallMs : 0);
  const cpu = cpuSecondsSince(cpuBefore);
  const mainLoop = performance.eventLoopUtilization(loopBefore).utilization;
  probing = false;
  console.log(`all settled ${Math.round(allDeliveredMs)} ms after the first page was queued`);

  const channels = await sql<
    { channel: string; rows: number; delivered: number; failed: number; last_ms: number; p50: number; p95: number; p99: number; max: number; claim_p50: number; batch_p50: number }[]
  >`
    with bounds as (select min(created_at) as first_queued from notifications)
    select channel, count(*)::int as rows,
           count(*) filter (where status = 'delivered')::int as delivered,
           count(*) filter (where status = 'failed')::int as failed,
           extract(epoch from max(delivered_at) - (select first_queued from bounds)) * 1000 as last_ms,
           percentile_cont(0.5) within group (order by extract(epoch from delivered_at - created_at) * 1000) as p50,
           percentile_cont(0.95) within group (order by extract(epoch from delivered_at - created_at) * 1000) as p95,
           percentile_cont(0.99) within group (order by extract(epoch from delivered_at - created_at) * 1000) as p99,
           extract(epoch from max(delivered_at - created_at)) * 1000 as max,
           percentile_cont(0.5) within group (order by extract(epoch from claimed_at - created_at) * 1000) as claim_p50,
           percentile_cont(0.5) within group (order by extract(epoch from sent_at - claimed_at) * 1000) as batch_p50
    from notifications where template = 'incident.outage-notice'
    group by channel order by channel`;
  const figures: ChannelFigures[] = channels.map((row) => ({
    channel: row.channel,
    rows: row.rows,
    delivered: row.delivered,
    failed: row.failed,
    lastDeliveredAtMs: Math.round(row.last_ms),
    perSecond: Math.round((row.delivered / row.last_ms) * 1000),
    latencyMs: { p50: Math.round(row.p50), p95: Math.round(row.p95), p99: Math.round(row.p99), max: Math.round(row.max) },
    phasesP50Ms: { toClaim: Math.round(row.claim_p50), inBatch: Math.round(row.batch_p50) },
  }));
  // Deliveries per channel in 10-second steps, from the rows' own times.
  const timeline = await sql<{ second: number; channel: string; delivered: number }[]>`
    with bounds as (select min(created_at) as first_queued from notifications)
    select (floor(extract(epoch from delivered_at - (select first_queued from bounds)) / 10) * 10)::int as second, channel, count(*)::int as delivered
    from notifications where delivered_at is not null group by 1, 2 order by 1, 2`;
  const batches = await sql<{ batches: number; p50_ms: number; p95_ms: number }[]>`
    select count(*)::int as batches, percentile_cont(0.5) within group (order by ms) as p50_ms, percentile_cont(0.95) within group (order by ms) as p95_ms
    from (select extract(epoch from max(sent_at) - claimed_at) * 1000 as ms from notifications where sent_at is not null group by claimed_at) per_batch`;

  const reminderRows = await sql<{ channel: string; status: string; waited_ms: number; urgent_after: number }[]>`
    select r.channel, r.status, extract(epoch from r.delivered_at - r.created_at) * 1000 as waited_ms,
           (select count(*)::int from notifications n where n.priority = 0 and n.claimed_at > r.claimed_at) as urgent_after
    from notifications r where r.idempotency_key like ${`${reminderKey}:%`} order by r.channel`;

  // Exactly once: every delivered e-mail row once at the SMTP server under its Message-ID, every SMS row once (whole) at the SMSC.
  const emailRows = await sql<{ idempotency_key: string }[]>`select idempotency_key from notifications where channel = 'email' and status = 'delivered'`;
  const smsRows = await sql<{ recipient: string; parts: number }[]>`select recipient, cardinality(provider_ids) as parts from notifications where channel = 'sms' and status = 'delivered'`;
  const mailIds = countBy(smtp.received.map((mail) => mail.headers.get('message-id') ?? ''));
  const smsTo = countBy(smsc.received.map((message) => message.to));
  const exactlyOnce = {
    email: {
      rows: emailRows.length,
      received: smtp.received.length,
      duplicates: [...mailIds.values()].reduce((sum, count) => sum + count - 1, 0),
      missing: emailRows.filter((row) => !mailIds.has(messageIdFor(row.idempotency_key))).length,
    },
    sms: {
      rows: smsRows.length,
      received: smsc.received.length,
      duplicates: [...smsTo.values()].reduce((sum, count) => sum + count - 1, 0),
      missing: smsRows.filter((row) => !smsTo.has(row.recipient.replace(/^\+/, ''))).length,
      parts: smsRows.reduce((sum, row) => sum + row.parts, 0),
      submits: smsc.submits,
      partsWaiting: smsc.partsWaiting,
    },
  };
  const exact =
    exactlyOnce.email.rows === exactlyOnce.email.received &&
    exactlyOnce.email.duplicates + exactlyOnce.email.missing === 0 &&
    exactlyOnce.sms.rows === exactlyOnce.sms.received &&
    exactlyOnce.sms.duplicates + exactlyOnce.sms.missing + exactlyOnce.sms.partsWaiting === 0 &&
    exactlyOnce.sms.parts === exactlyOnce.sms.submits;
  const notDelivered = figures.reduce((sum, row) => sum + row.rows - row.delivered, 0);
  const [stats] = await sql<{ deadlocks: number }[]>`select deadlocks::int from pg_stat_database where datname = current_database()`;
  const deadlocks = stats!.deadlocks;
  const sends = { email: timers.email.summary(allDeliveredMs), sms: timers.sms.summary(allDeliveredMs) };
  const postgresActivity = Object.fromEntries([...activity.entries()].sort((a, b) => b[1] - a[1]).map(([kind, seen]) => [kind, { busyBackendsOnAverage: round(seen / activitySamples, 2) }]));

  const perSecond = (count: number, ms: number) => Math.round((count / ms) * 1000);
  const pad = (value: unknown, width: number) => String(value).padStart(width);
  console.log(`\n${customers} customers, ${lanes} lanes × batches of ${batchSize}; one dispatcher, SMTP sink and SMSC in this process`);
  console.log(`queue      ${Math.round(queueMs)} ms (${perSecond(queued, queueMs)} rows/s)`);
  console.log(`delivered  ${Math.round(allDeliveredMs)} ms from the first page queued (${perSecond(queued, allDeliveredMs)} rows/s over all channels)\n`);
  console.log('channel     rows  delivered  failed  last at ms   rows/s   p50 ms   p95 ms   p99 ms   max ms | p50 to claim  p50 in batch');
  for (const row of figures) {
    console.log(
      `${row.channel.padEnd(6)} ${pad(row.rows, 8)} ${pad(row.delivered, 10)} ${pad(row.failed, 7)} ${pad(row.lastDeliveredAtMs, 11)} ${pad(row.perSecond, 8)} ` +
        `${[row.latencyMs.p50, row.latencyMs.p95, row.latencyMs.p99, row.latencyMs.max].map((ms) => pad(ms, 8)).join(' ')} | ${pad(row.phasesP50Ms.toClaim, 12)} ${pad(row.phasesP50Ms.inBatch, 13)}`,
    );
  }
  console.log(`batches: ${batches[0]!.batches}, claim to outcomes recorded p50 ${Math.round(batches[0]!.p50_ms)} ms, p95 ${Math.round(batches[0]!.p95_ms)} ms`);
  for (const [channel, figure] of Object.entries(sends)) {
    console.log(
      `${channel} sends: ${figure.sends}, each p50 ${figure.sendP50Ms} ms, p95 ${figure.sendP95Ms} ms; ${figure.averageInFlight} in flight on average of ${figure.limit} allowed, all ${figure.limit} busy ${Math.round(figure.fullShare * 100)}% of the run`,
    );
  }
  for (const row of reminderRows) console.log(`routine reminder (${row.channel}): ${row.status}, waited ${Math.round(row.waited_ms)} ms; ${row.urgent_after} urgent rows were claimed after it`);
  console.log(
    `exactly once: e-mail ${exactlyOnce.email.received} received / ${exactlyOnce.email.rows} rows, ${exactlyOnce.email.duplicates} duplicates, ${exactlyOnce.email.missing} missing; ` +
      `SMS ${exactlyOnce.sms.received} received / ${exactlyOnce.sms.rows} rows, ${exactlyOnce.sms.duplicates} duplicates, ${exactlyOnce.sms.missing} missing, ` +
      `${exactlyOnce.sms.submits} submits for ${exactlyOnce.sms.parts} parts, ${exactlyOnce.sms.partsWaiting} parts of incomplete messages`,
  );
  console.log(
    `cpu seconds: this process (dispatcher + both sinks) ${cpu.bench.toFixed(1)}, postgres ${cpu.postgres.toFixed(1)}, others ${cpu.others.toFixed(1)}; event loop ${Math.round(mainLoop * 100)}% busy`,
  );
  console.log(
    `postgres busy backends on average, by statement: ${Object.entries(postgresActivity)
      .map(([kind, figure]) => `${kind} ${figure.busyBackendsOnAverage}`)
      .join(', ')}; deadlocks ${deadlocks}`,
  );
  console.log(`memory: rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB; dispatcher and sender log lines: ${log.length}`);
  for (const line of log.slice(0, 5)) console.log(`  ${line}`);
  if (!exact || notDelivered > 0 || stalled) {
    console.error(`MISMATCH: ${notDelivered} notice rows not delivered, or the servers did not receive exactly one message per row`);
    process.exitCode = 1;
  }

  const loadAfter = loadavg();
  const file = join(tmpdir(), `pledge-bench-delivery-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = machineInfo();
  writeFileSync(
    file,
    JSON.stringify(
      {
        customers,
        lanes,
        batchSize,
        pageSize,
        machine,
        loadBefore,
        loadAfter,
        queued,
        queueMs,
        allDeliveredMs,
        channels: figures,
        batches: batches[0],
        sends,
        reminder: reminderRows,
        exactlyOnce,
        stalled,
        deadlocks,
        cpu,
        mainLoop,
        postgresActivity,
        timeline,
        log: log.slice(0, 50),
      },
      null,
      2,
    ),
  );
  console.log(`results: ${file}`);
} finally {
  await stop();
  const left = childProcesses();
  console.log(left.length === 0 ? 'no child process left' : `child processes still running: ${left.join(', ')}`);
  if (left.length > 0) process.exitCode = 1;
}

/** Which of the outbox's statements a query is, by its text. */
function statementKind(query: string): string {
  const text = query.replace(/\s+/g, ' ').trim();
  if (text.startsWith('with overdue')) return 'claim';
  if (text.includes('set status = r.status')) return 'record outcomes';
  if (text.includes('insert into notification_receipts')) return 'insert receipts';
  if (text.includes('count(*) filter (where rc.state')) return 'settle by receipts';
  if (text.startsWith('insert into notifications') && text.includes('fallbacks[1]')) return 'queue fallbacks';
  if (text.includes('insert into notifications')) return 'queue notices';
  if (text.includes('tracking_codes')) return 'tracking codes';
  if (text.includes('from customers')) return 'read customers';
  if (text.includes('pg_notify')) return 'notify';
  return 'other';
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function countBy(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}
