import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { pledgeDataConverter } from '../../codec/data-converter';
import { AesGcmPayloadCodec, type PayloadKey } from '../../codec/payload-codec';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import { eventually } from '../support/eventually';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';
import { bundleWorkflows } from '../support/temporal';

// D5 against the real stack (Temporal dev server, worker, Postgres, the API over HTTP), with the
// payload key k1: what the Temporal server itself stores and serves holds none of the customer's
// data in the clear; staff read it through the codec endpoint; and after k2 becomes the primary
// key the history written under k1 still replays and decodes.
const ports = { postgres: 55472, temporal: 17272, temporalUi: 18272 };
const k1: PayloadKey = { id: 'k1', key: randomBytes(32) };
const k2: PayloadKey = { id: 'k2', key: randomBytes(32) };
const customer = { id: 'cust-d5-privacy-7731', name: 'Zhao Mingyue', email: 'zhao.mingyue.d5@example.com', phone: '+8613912345678' };
const summary = 'Quinoa-coloured invoice charged twice';
const description = `I am ${customer.name}; call me on ${customer.phone} or write to ${customer.email}.`;
const acknowledgement = 'Checking the duplicate quinoa invoice';
const secrets = [customer.id, customer.name, customer.email, customer.phone, customer.phone.slice(1), summary, 'Quinoa-coloured', acknowledgement];

let stack: RunningStack;
let rawConnection: Connection;
/** A client with no data converter: Temporal as anyone with server access sees it. */
let raw: Client;

beforeAll(async () => {
  stack = await startStack(ports, 'pledge-codec-at-rest', { payloadCodec: new AesGcmPayloadCodec([k1]) });
  rawConnection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  raw = new Client({ connection: rawConnection });
});

afterAll(async () => {
  await rawConnection?.close();
  await stack?.stop();
});

/** Every string in a server answer, and every byte field read as text, so nothing hides in a Buffer. */
function textsOf(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string') found.push(value);
  else if (value instanceof Uint8Array) found.push(Buffer.from(value).toString('utf8'), Buffer.from(value).toString('latin1'));
  else if (Array.isArray(value)) for (const item of value) textsOf(item, found);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) textsOf(item, found);
  return found;
}

const leaks = (value: unknown) => {
  const all = [JSON.stringify(value), ...textsOf(value)].join('\n').toLowerCase();
  return secrets.filter((secret) => all.includes(secret.toLowerCase()));
};

const toJson = (payload: Payload) => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, bytes]) => [name, Buffer.from(bytes).toString('base64')])),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});

describe('personal data at rest in Temporal (D5)', () => {
  let workflowId: string;
  let history: History;

  it('D5: a complaint opened over HTTP leaves no customer id, name, phone, e-mail or complaint text in the history, memo or search attributes the server holds', async () => {
    const created = await stack.call('PUT', `/v1/customers/${customer.id}`, {
      key: keys.agent,
      body: {
        name: customer.name,
        email: customer.email,
        phone: customer.phone,
        channels: ['email', 'inbox'],
        consents: { email: { granted: true, source: 'd5 test' } },
        locale: 'en',
        plan: 'home-500m',
        services: ['broadband'],
        region: 'shanghai',
      },
    });
    expect(created.status).toBe(201);
    const opened = await stack.call('POST', '/v1/complaints', { key: keys.agent, body: { customerId: customer.id, channel: 'phone', category: 'billing', summary, description } });
    expect(opened.status).toBe(201);
    workflowId = opened.body.workflowId;
    const acted = await stack.call('POST', `/v1/cases/${opened.body.caseId}/actions/acknowledge`, {
      key: keys.agent,
      body: { input: { message: acknowledgement, problem: summary, steps: `Call ${customer.name} back`, expectedCompletionAt: '2030-01-01T10:00:00+08:00' } },
    });
    expect(acted.status).toBe(200);
    // Through the API (and the codec) staff still see everything.
    expect(acted.body).toMatchObject({ customerId: customer.id, summary, status: 'acknowledged' });

    history = await raw.workflow.getHandle(workflowId).fetchHistory();
    expect(history.events!.length).toBeGreaterThan(10);
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    expect(Buffer.from(started.input!.payloads![0]!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(leaks(defaultPayloadConverter.toPayload({ summary }))).toEqual([summary, 'Quinoa-coloured']); // the scan reads bytes
    expect(leaks(history)).toEqual([]);

    const described = await rawConnection.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } });
    const info = described.workflowExecutionInfo!;
    expect(Object.keys(info.memo?.fields ?? {})).toEqual(['summary']);
    expect(Buffer.from(info.memo!.fields!.summary!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(leaks(info.memo)).toEqual([]);
    expect(leaks(described.executionConfig?.userMetadata)).toEqual([]);
    expect(leaks(info.searchAttributes)).toEqual([]);
    expect(leaks(described)).toEqual([]);

    // CustomerId holds the pseudonym the API hands staff, and the visibility query finds the case by it
    // (listing through the codec: without it the encrypted memo of every listed case is unreadable).
    const search = await stack.call('GET', `/v1/customers/${customer.id}/temporal-search`, { key: keys.auditor });
    expect(search.status).toBe(200);
    expect(defaultPayloadConverter.fromPayload(info.searchAttributes!.indexedFields!.CustomerId!)).toBe(search.body.value);
    const found = await eventually(
      async () => {
        const ids: string[] = [];
        for await (const workflow of stack.temporal.workflow.list({ query: search.body.query })) ids.push(workflow.workflowId);
        return ids;
      },
      (ids) => ids.includes(workflowId),
    );
    expect(found).toEqual([workflowId]);
  });

  it('D5: the codec endpoint decodes a payload of that history for a staff key, and refuses without one', async () => {
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const body = { payloads: [toJson(input)] };
    const decoded = await stack.call('POST', '/codec/decode', { key: keys.auditor, body, headers: { 'x-namespace': 'default' } });
    expect(decoded.status).toBe(200);
    const text = Buffer.from(decoded.body.payloads[0].data, 'base64').toString('utf8');
    expect(text).toContain(summary);
    expect(text).toContain(customer.id);
    expect(JSON.parse(text)).toMatchObject({ customerId: customer.id, summary, description });

    const refused = await stack.call('POST', '/codec/decode', { body });
    expect(refused.status).toBe(401);
    expect(JSON.stringify(refused.body)).not.toContain(summary);
  });

  it('D5: rotation: after k2 becomes primary, the history written under k1 replays and decodes; without k1 it cannot be read', async () => {
    const rotated = new AesGcmPayloadCodec([k2, k1]);
    const bundle = await bundleWorkflows();
    await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: pledgeDataConverter(rotated) }, history, workflowId);
    // Without k1 the worker cannot decode the history (it logs the key it misses) and the replay fails.
    await expect(Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: pledgeDataConverter(new AesGcmPayloadCodec([k2])) }, history, workflowId)).rejects.toThrow(/workflow task failure/);

    const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
    const rotatedApi = createApp({ temporal: {} as never, sql: {} as never, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue: 'rotated', payloadCodec: rotated });
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const response = await rotatedApi.request('/codec/decode', {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.supervisor}`, 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [toJson(input)] }),
    });
    expect(response.status).toBe(200);
    const { payloads } = (await response.json()) as { payloads: Array<{ data: string }> };
    expect(Buffer.from(payloads[0]!.data, 'base64').toString('utf8')).toContain(summary);
  });
});
