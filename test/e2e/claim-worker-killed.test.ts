import { temporal as proto } from '@temporalio/proto';
import { serve, type ServerType } from '@hono/node-server';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The API first: it extends zod with .openapi() before the domain schemas the activities load are built.
import { createApp } from '../../api/app';
import { createActivities } from '../../activities';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import { killProcessGroup, processGroupMembers } from '../../scripts/lib/process-group';
import { startTemporalDevServer } from '../../scripts/toolchain/temporal-dev-server';
import { searchAttributeRegistrations } from '../../workflows/search-attributes';
import { seedCustomer, startTestDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { devKeys as keys } from '../support/stack';
import { allSettledOrThrow, Teardown } from '../support/teardown';
import { bundleWorkflows } from '../support/temporal';

// Issue 11, "exactly once": a worker killed mid-payment and restarted ends with one ledger row and
// one notice (P5). The stack is real (Temporal dev server, Postgres, the API over HTTP, in real
// time); the in-process worker runs only the workflows. Every activity first runs in a child
// process whose `payRemedy` pays (the ledger row is committed), prints PAID and hangs. The test
// SIGKILLs that process; a replacement activity worker starts here; when the attempt's 30 s
// start-to-close timeout expires, Temporal retries payRemedy on the replacement, which must find
// the payment already made and pay nothing more.

const ports = { postgres: 55461, temporal: 17261, ui: 18261 };
const taskQueue = 'pledge-claim-worker-killed';
const customerId = 'killed-1';
const repoRoot = new URL('../..', import.meta.url).pathname;
const childScript = new URL('../support/payment-worker-process.ts', import.meta.url).pathname;

const teardown = new Teardown();
let db: TestDatabase;
let temporal: Client;
let temporalAddress: string;
let baseUrl: string;

beforeAll(async () => {
  await teardown.unwindOnFailure(async () => {
    const [devServer, database, bundle] = await allSettledOrThrow([
      teardown.add(startTemporalDevServer({ port: ports.temporal, uiPort: ports.ui, namespace: 'default', searchAttributes: searchAttributeRegistrations }), (started) => started.stop()),
      teardown.add(startTestDatabase(ports.postgres), (started) => started.stop()),
      bundleWorkflows(),
    ] as const);
    db = database;
    temporalAddress = devServer.address;
    // Workflows only: no activity of this task queue runs in this process until the replacement starts.
    const workerConnection = await teardown.add(NativeConnection.connect({ address: temporalAddress }), (connection) => connection.close());
    const workflowWorker = await Worker.create({ connection: workerConnection, namespace: 'default', taskQueue, workflowBundle: bundle });
    const workflowsRunning = workflowWorker.run();
    teardown.defer(async () => {
      workflowWorker.shutdown();
      await workflowsRunning;
    });
    const clientConnection = await teardown.add(Connection.connect({ address: temporalAddress }), (connection) => connection.close());
    temporal = new Client({ connection: clientConnection });
    const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
    const app = createApp({ temporal, sql: db.sql, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue });
    const server: ServerType = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    teardown.defer(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // A request left waiting by a failed run must not hold the close.
          if ('closeAllConnections' in server) server.closeAllConnections();
        }),
    );
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await seedCustomer(db.sql, { id: customerId, locale: 'en', email: 'killed-1@example.test', channels: ['inbox', 'email'] });
  });
}, 180_000);

afterAll(() => teardown.run());

async function call(method: string, path: string, options: { key: string; body?: unknown }): Promise<{ status: number; body: any }> {
  const response = await fetch(baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${options.key}`, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

interface PaymentWorkerProcess {
  child: ChildProcess;
  /** Resolves with the first stdout line starting with `prefix`; rejects if the process exits first or the time is up. */
  line(prefix: string, timeoutMs: number): Promise<string>;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The child activity worker, in a process group of its own (so a kill of the group leaves nothing behind). */
function spawnPaymentWorker(): PaymentWorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript], {
    cwd: repoRoot,
    env: { ...process.env, TEMPORAL_ADDRESS: temporalAddress, DATABASE_URL: db.url, TASK_QUEUE: taskQueue },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  return {
    child,
    exited,
    output: () => output,
    line: (prefix, timeoutMs) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => finish(() => reject(new Error(`no "${prefix}" from the payment worker in ${timeoutMs} ms; its output:\n${output}`))), timeoutMs);
        const check = () => {
          const found = lines.find((line) => line.startsWith(prefix));
          if (found !== undefined) finish(() => resolve(found));
        };
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        void exited.then(({ code, signal }) => finish(() => reject(new Error(`the payment worker exited (${signal ?? code}) before "${prefix}"; its output:\n${output}`))));
        check();
      }),
  };
}

describe('a worker killed mid-payment', () => {
  it('P5 exactly once: killed after the ledger row is written and restarted, the claim ends with one ledger row, one claim.paid event and one notice per channel', async () => {
    const worker = spawnPaymentWorker();
    teardown.defer(async () => {
      if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
      killProcessGroup(worker.child.pid!, 'SIGKILL');
      await worker.exited;
    });
    await worker.line('READY', 60_000);

    // Below the approval threshold: approved at intake and paid at once (by the child's worker).
    const body = { customerId, eventAt: new Date(Date.now() - 86_400_000).toISOString(), reason: 'No service for a day', requestedRemedy: { kind: 'coupon', amount: 2_000 } };
    // The intake answers once its inline payment is done, so this request stays open across the kill.
    const opening = call('POST', '/v1/compensation-claims', { key: keys.agent, body });
    opening.catch(() => {});
    const paidLine = await worker.line('PAID ', 30_000);
    const firstAnswer = JSON.parse(paidLine.slice('PAID '.length)) as { entryId: number; paid: boolean };
    expect(firstAnswer.paid).toBe(true);

    // The first attempt committed its payment but never answers; the row is there, the case not yet paid.
    const [row] = await db.sql<{ case_id: string }[]>`select case_id from ledger where id = ${firstAnswer.entryId}`;
    const caseId = row?.case_id ?? '';
    expect(caseId).toMatch(/^CLM-/);
    const paying = await call('GET', `/v1/cases/${caseId}`, { key: keys.auditor });
    expect(paying.body).toMatchObject({ status: 'approved', details: { approval: { required: false }, amountDue: 2_000, payments: [] } });

    // Kill the worker mid-payment: the whole process group, nothing left of it.
    const pid = worker.child.pid!;
    killProcessGroup(pid, 'SIGKILL');
    expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // Anything it started (e.g. the esbuild service tsx runs) is in its group; once reaped, the group is empty.
    expect(
      await eventually(
        async () => processGroupMembers(pid),
        (members) => members.length === 0,
        10_000,
      ),
    ).toEqual([]);
    expect((await call('GET', `/v1/cases/${caseId}`, { key: keys.auditor })).body.status).toBe('approved');

    // The restarted worker (here, in-process) runs every activity; it records what payRemedy answered on which attempt.
    const retried: Array<{ attempt: number; answer: { entryId: number; paid: boolean } }> = [];
    const activities = createActivities({ sql: db.sql });
    const pay = activities.payRemedy;
    activities.payRemedy = async (input) => {
      const answer = await pay(input);
      retried.push({ attempt: Context.current().info.attempt, answer });
      return answer;
    };
    const connection = await teardown.add(NativeConnection.connect({ address: temporalAddress }), (started) => started.close());
    const replacement = await Worker.create({ connection, namespace: 'default', taskQueue, activities });
    const replacementRunning = replacement.run();
    teardown.defer(async () => {
      replacement.shutdown();
      await replacementRunning;
    });

    // The 30 s start-to-close timeout of the lost attempt expires; the retry runs here.
    const paid = await eventually(
      () => call('GET', `/v1/cases/${caseId}`, { key: keys.auditor }),
      (answer) => answer.body.status === 'paid',
      60_000,
      250,
    );
    expect(paid.body.status).toBe('paid');
    const opened = await opening;
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ caseId, type: 'compensation', status: 'paid' });
    expect(paid.body.details.payments).toEqual([expect.objectContaining({ entryId: firstAnswer.entryId, amount: 2_000, reversedBy: null })]);
    expect(retried).toEqual([{ attempt: 2, answer: { entryId: firstAnswer.entryId, paid: false } }]);

    // Temporal's record: one payRemedy scheduled, started for good on attempt 2 after a timeout, completed with the retry's answer.
    const history = await temporal.workflow.getHandle(paid.body.workflowId as string).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'payRemedy');
    expect(scheduled).toHaveLength(1);
    const scheduledId = Number(scheduled[0]!.eventId);
    const started = events.filter((event) => Number(event.activityTaskStartedEventAttributes?.scheduledEventId ?? 0) === scheduledId);
    expect(started.map((event) => event.activityTaskStartedEventAttributes!.attempt)).toEqual([2]);
    expect(started[0]!.activityTaskStartedEventAttributes!.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(proto.api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE);
    const completed = events.filter((event) => Number(event.activityTaskCompletedEventAttributes?.scheduledEventId ?? 0) === scheduledId);
    expect(completed).toHaveLength(1);
    expect(defaultPayloadConverter.fromPayload(completed[0]!.activityTaskCompletedEventAttributes!.result!.payloads![0]!)).toEqual({ entryId: firstAnswer.entryId, paid: false });

    // One ledger row, one claim.paid event, one notice per channel.
    const ledger = await db.sql`select id, amount_cents from ledger where customer_id = ${customerId}`;
    expect(ledger.map((row) => [Number(row.id), Number(row.amount_cents)])).toEqual([[firstAnswer.entryId, 2_000]]);
    const paidEvents = await db.sql`select data from case_events where case_id = ${caseId} and type = 'claim.paid'`;
    expect(paidEvents).toHaveLength(1);
    expect(paidEvents[0]!.data).toMatchObject({ entryId: firstAnswer.entryId, amount: 2_000 });
    // The notice is queued in the outbox with the step that records the payment (no dispatcher runs here: the queued rows are the notices).
    const notices = await db.sql<{ idempotency_key: string; channel: string }[]>`
      select idempotency_key, channel from notifications where case_id = ${caseId} and template = 'claim.paid' order by channel`;
    expect(notices.map((row) => [row.channel, row.idempotency_key])).toEqual([
      ['email', `${paid.body.workflowId}:paid-${firstAnswer.entryId}:email`],
      ['inbox', `${paid.body.workflowId}:paid-${firstAnswer.entryId}:inbox`],
    ]);
  }, 150_000);
});
