import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app';
import { payloadCodecFromEnv, pledgeDataConverter } from '../../codec/data-converter';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import { startTemporalDevServer } from '../../scripts/toolchain/temporal-dev-server';
import { createDispatcher, createMailer } from '../../notifications';
import { createPledgeWorker } from '../../worker/worker';
import { searchAttributeRegistrations } from '../../workflows/search-attributes';
import { startTestDatabase, type TestDatabase } from './database';
import { startSmtpSink, type ReceivedMail } from './smtp-sink';
import { allSettledOrThrow, Teardown } from './teardown';
import { bundleWorkflows } from './temporal';

export const devKeys = { agent: 'dev-agent-key', supervisor: 'dev-supervisor-key', auditor: 'dev-auditor-key', alertSource: 'dev-alert-key' };

export interface RunningStack {
  db: TestDatabase;
  temporal: Client;
  baseUrl: string;
  /** What reached people by e-mail (a real SMTP server). */
  mails: ReceivedMail[];
  call(method: string, path: string, options?: { key?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any }>;
  stop(): Promise<void>;
}

/** Calls the API at `baseUrl` as a client would: a Bearer key, a JSON body, the JSON answer parsed. */
export function callJson(baseUrl: string): RunningStack['call'] {
  return async (method, path, options = {}) => {
    const response = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
}

/** The whole stack as ops staff and monitoring meet it: real Temporal dev server, real worker, real Postgres, the API over HTTP. */
export async function startStack(ports: { postgres: number; temporal: number; temporalUi: number }, taskQueue: string, options: { payloadCodec?: PayloadCodec } = {}): Promise<RunningStack> {
  // D5: the worker, the client and the API's codec endpoint share one codec (the development key unless given).
  const payloadCodec = options.payloadCodec ?? payloadCodecFromEnv();
  const teardown = new Teardown();
  return teardown.unwindOnFailure(async () => {
    const [devServer, db, bundle] = await allSettledOrThrow([
      teardown.add(startTemporalDevServer({ port: ports.temporal, uiPort: ports.temporalUi, namespace: 'default', searchAttributes: searchAttributeRegistrations }), (started) => started.stop()),
      teardown.add(startTestDatabase(ports.postgres), (started) => started.stop()),
      bundleWorkflows(),
    ] as const);
    const workerConnection = await teardown.add(NativeConnection.connect({ address: devServer.address }), (connection) => connection.close());
    const worker: Worker = await createPledgeWorker({ connection: workerConnection, namespace: 'default', taskQueue, sql: db.sql, workflowBundle: bundle, payloadCodec });
    const workerRunning = worker.run();
    teardown.defer(async () => {
      worker.shutdown();
      await workerRunning;
    });
    // The outbox dispatcher runs beside the worker, as in worker/main.ts, with a real SMTP server
    // that keeps what it receives; no SMPP, so SMS is recorded as not sent and falls back.
    const smtp = await teardown.add(startSmtpSink(), (sink) => sink.stop());
    const mailer = createMailer(smtp.url, { connections: 2 });
    teardown.defer(() => mailer.close());
    const dispatcher = createDispatcher({ sql: db.sql, transports: { mail: { mailer, from: 'pledge@test' } }, pollIntervalMs: 200, log: () => {} });
    await teardown.add(dispatcher.start(), () => dispatcher.stop());
    const clientConnection = await teardown.add(Connection.connect({ address: devServer.address }), (connection) => connection.close());
    const temporal = new Client({ connection: clientConnection, dataConverter: pledgeDataConverter(payloadCodec) });
    const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
    const app = createApp({ temporal, sql: db.sql, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue, payloadCodec });
    const server: ServerType = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    teardown.defer(() => void server.close());
    await new Promise((resolve) => server.once('listening', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return runningStack(db, temporal, baseUrl, smtp.received, () => teardown.run());
  });
}

function runningStack(db: TestDatabase, temporal: Client, baseUrl: string, mails: ReceivedMail[], stop: () => Promise<void>): RunningStack {
  return {
    db,
    temporal,
    baseUrl,
    mails,
    call: callJson(baseUrl),
    stop,
  };
}
