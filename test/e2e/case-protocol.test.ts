import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { caseStateSchema } from '../../api/schemas';
import { complaintDetailsSchema, incidentDetailsSchema } from '../../domain/case-details';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import { createPledgeWorker } from '../../worker/worker';
import { seedCustomer } from '../support/database';
import { eventually, seedRegion } from '../support/incidents';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';
import { bundleWorkflows } from '../support/temporal';

// The case protocol over HTTP: opening answers with the recorded state, and an action retried
// with its Idempotency-Key is done once.
let stack: RunningStack;
const customers = 8;
const ports = { postgres: 55447, temporal: 17247, temporalUi: 18247 };

beforeAll(async () => {
  stack = await startStack(ports, 'pledge-case-protocol');
  await seedCustomer(stack.db.sql, { id: 'proto-1', locale: 'en' });
  await seedRegion(stack.db.sql, 'proto', 'protocol-region', customers);
});

afterAll(() => stack?.stop());

describe('opening a case', () => {
  it('C1, C3: the 201 carries the recorded deadlines even when the worker picks the case up late, and every read route already shows it', async () => {
    // An API on a task queue no worker polls yet: the request waits for intake to be recorded.
    const taskQueue = 'pledge-slow-worker';
    const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
    const app = createApp({ temporal: stack.temporal, sql: stack.db.sql, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue });
    const opening = app.request('/v1/complaints', {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.agent}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: 'proto-1', channel: 'web', category: 'account-security', summary: 'Password changed without me' }),
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const connection = await NativeConnection.connect({ address: `127.0.0.1:${ports.temporal}` });
    const worker = await createPledgeWorker({ connection, namespace: 'default', taskQueue, sql: stack.db.sql, workflowBundle: await bundleWorkflows() });
    const running = worker.run();
    try {
      const response = await opening;
      expect(response.status).toBe(201);
      const body = (await response.json()) as { caseId: string; status: string; deadlines: { name: string; dueAt: string }[] };
      expect(body.status).toBe('received');
      expect(body.deadlines.map((deadline) => deadline.name)).toEqual(['firstResponse', 'preliminary', 'result']);
      expect(body.deadlines.every((deadline) => typeof deadline.dueAt === 'string')).toBe(true);

      const [events, listed, read] = await Promise.all([
        stack.call('GET', `/v1/cases/${body.caseId}/events`, { key: keys.auditor }),
        stack.call('GET', '/v1/cases?customerId=proto-1', { key: keys.auditor }),
        stack.call('GET', `/v1/cases/${body.caseId}`, { key: keys.auditor }),
      ]);
      expect(events.status).toBe(200);
      expect(events.body.events.map((event: { type: string }) => event.type)).toEqual(['complaint.received', 'sla.started', 'sla.started', 'sla.started']);
      expect(listed.body.cases.map((entry: { caseId: string }) => entry.caseId)).toContain(body.caseId);
      expect(read.body.deadlines).toEqual(body.deadlines);
      // The document tells the truth: the answer parses with the schema /openapi.json publishes.
      expect(caseStateSchema.safeParse(read.body).success).toBe(true);
      expect(complaintDetailsSchema.strict().safeParse(read.body.details).success).toBe(true);
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  });
});

describe('acting on a case', () => {
  it('O4, P5: the same action posted twice with one Idempotency-Key is one event, one fan-out and one notice per customer', async () => {
    const opened = await stack.call('POST', '/v1/incidents', {
      key: keys.agent,
      body: { title: 'Protocol region outage', severity: 'SEV2', scope: { services: ['broadband'], regions: ['protocol-region'] } },
    });
    expect(opened.status).toBe(201);
    const { caseId } = opened.body;
    const update = { input: { message: 'Engineers on site', notifyUsers: true } };
    const headers = { 'idempotency-key': 'update-once' };
    const [first, second] = await Promise.all([
      stack.call('POST', `/v1/cases/${caseId}/actions/post-update`, { key: keys.agent, body: update, headers }),
      stack.call('POST', `/v1/cases/${caseId}/actions/post-update`, { key: keys.agent, body: update, headers }),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await stack.call('POST', `/v1/cases/${caseId}/actions/post-update`, { key: keys.agent, body: update, headers });
    expect(third.status).toBe(200);
    expect(third.body.details.updates).toHaveLength(1);

    const reused = await stack.call('POST', `/v1/cases/${caseId}/actions/post-update`, { key: keys.agent, body: { input: { message: 'Something else' } }, headers });
    expect(reused.status).toBe(422);
    expect(reused.body.error.fields).toEqual([{ field: 'Idempotency-Key', message: 'reused with a different request' }]);

    const state = await eventually(
      () => stack.call('GET', `/v1/cases/${caseId}`, { key: keys.auditor }),
      (answer) => answer.body.details.fanouts.length === 1,
    );
    expect(state.body.details.fanouts).toHaveLength(1);
    expect(incidentDetailsSchema.strict().safeParse(state.body.details).success).toBe(true);
    const events = await stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor });
    expect(events.body.events.filter((event: { type: string }) => event.type === 'incident.update-posted')).toHaveLength(1);
    const notices = await stack.db.sql`select customer_id from notifications where case_id = ${caseId} and template = 'incident.update' and channel = 'inbox'`;
    expect(notices).toHaveLength(customers);
    expect(new Set(notices.map((row) => row.customer_id)).size).toBe(customers);
  });

  it('the schema names every action and what it takes', async () => {
    const document = await stack.call('GET', '/openapi.json');
    const paths = Object.keys(document.body.paths);
    expect(paths).toContain('/v1/cases/{caseId}/actions/acknowledge');
    expect(paths).toContain('/v1/cases/{caseId}/actions/post-update');
    const acknowledge = document.body.paths['/v1/cases/{caseId}/actions/acknowledge'].post;
    const schema = acknowledge.requestBody.content['application/json'].schema;
    expect(JSON.stringify(schema)).toContain('message');
    expect(acknowledge.parameters.map((parameter: { name: string }) => parameter.name)).toContain('idempotency-key');
  });
});
