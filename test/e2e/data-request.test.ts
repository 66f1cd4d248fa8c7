import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRetentionSchedule, retentionScheduleId } from '../../api/retention-schedule';
import { eventually } from '../support/eventually';
import { putCustomer } from '../support/customers';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';

// Data-subject requests (D3), legal holds (D2) and the retention Schedule over HTTP against the real
// stack (Temporal dev server, worker, dispatcher, Postgres, export files under a temporary data dir).
const taskQueue = 'pledge-data-requests-e2e';
let stack: RunningStack;
let dataDir: string;

const trackingLink = /Follow your case: http:\/\/127\.0\.0\.1:3000\/track\/([0-9a-z]{20})$/;
const verification = { method: 'id-document', reference: 'ID card ending 4417', verifiedBy: 'agent Wang' };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pledge-data-requests-e2e-'));
  process.env.PLEDGE_DATA_DIR = dataDir;
  stack = await startStack({ postgres: 55480, temporal: 17280, temporalUi: 18280 }, taskQueue);
  for (const id of ['dsr-e2e-access', 'dsr-e2e-correct', 'dsr-e2e-delete', 'dsr-e2e-trm', 'dsr-e2e-shred']) await putCustomer(stack.call, id);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  delete process.env.PLEDGE_DATA_DIR;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const open = (body: Record<string, unknown>, idempotencyKey?: string) =>
  stack.call('POST', '/v1/data-requests', { key: keys.agent, body, headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {} });
const settled = (caseId: string) =>
  eventually(
    () => stack.call('GET', `/v1/cases/${caseId}`, { key: keys.auditor }),
    (answer) => ['completed', 'refused'].includes(answer.body.status),
  );

/** The tracking code in the customer's messages about the case. */
async function codeOf(customerId: string, caseId: string): Promise<string> {
  const told = await eventually(
    () => stack.call('GET', `/v1/customers/${customerId}/notifications`, { key: keys.agent }),
    (result) => result.body.notifications.some((n: { caseId: string }) => n.caseId === caseId),
  );
  const message = told.body.notifications.find((n: { caseId: string }) => n.caseId === caseId);
  return trackingLink.exec(message.body)![1]!;
}

async function download(path: string, key?: string): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(stack.baseUrl + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('data-subject requests over HTTP (D3)', () => {
  it('D3: an access request: 201 with its 15-working-day deadline, the export made, downloadable by the user with the tracking code and by staff', async () => {
    const body = { customerId: 'dsr-e2e-access', kind: 'access', verification };
    const opened = await open(body, 'dsr-e2e-access-once');
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ type: 'data-request', customerId: 'dsr-e2e-access', deadlines: [{ name: 'response', state: 'pending', policyVersion: 'data-request/2026.1' }] });
    const caseId: string = opened.body.caseId;
    expect(caseId).toMatch(/^DSR-\d{4}-\d{6}$/);
    const again = await open(body, 'dsr-e2e-access-once');
    expect([again.status, again.body.caseId, again.headers.get('idempotent-replayed')]).toEqual([201, caseId, 'true']);

    const done = await settled(caseId);
    expect(done.body).toMatchObject({ status: 'completed', details: { kind: 'access', export: { n: 1 } }, deadlines: [{ state: 'met' }] });
    // The live state moves first; its record lands with the step's activity.
    const events = await eventually(
      () => stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor }),
      (answer) => answer.body.events.length >= 6,
    );
    expect(events.body.events.map((event: { type: string }) => event.type)).toEqual([
      'data-request.received',
      'data-request.identity-verified',
      'sla.started',
      'data-request.export-created',
      'data-request.completed',
      'sla.met',
    ]);
    expect(events.body.events[1].data).toEqual(verification);

    const code = await codeOf('dsr-e2e-access', caseId);
    const byCode = await download(`/v1/track/${code}/export`);
    expect(byCode.status).toBe(200);
    expect(byCode.headers.get('x-pledge-export-sha256')).toBe(createHash('sha256').update(byCode.text).digest('hex'));
    expect(JSON.parse(byCode.text)).toMatchObject({ format: 'pledge-customer-export/1', caseId, customer: { id: 'dsr-e2e-access', name: 'Li Wei', email: 'dsr-e2e-access@example.com' } });
    expect((await download(`/track/${code}/export`)).status).toBe(200);
    const byStaff = await download(`/v1/data-requests/${caseId}/export`, keys.auditor);
    expect([byStaff.status, byStaff.text]).toEqual([200, byCode.text]);
    expect((await download(`/v1/data-requests/${caseId}/export`)).status).toBe(401);
    const told = await stack.db.sql<{ template: string }[]>`select template from notifications where case_id = ${caseId} and channel = 'inbox' order by id`;
    expect(told.map((row) => row.template)).toEqual(['data-request.received', 'data-request.access-ready']);

    // The termination's download by its own code still works beside this one (the routes share the path).
    const termination = await stack.call('POST', '/v1/terminations', { key: keys.agent, body: { customerId: 'dsr-e2e-trm', initiatedBy: 'customer', reason: 'Moving abroad' } });
    await eventually(
      () => stack.call('GET', `/v1/cases/${termination.body.caseId}`, { key: keys.auditor }),
      (answer) => answer.body.status === 'terminated',
    );
    const backup = await download(`/v1/track/${await codeOf('dsr-e2e-trm', termination.body.caseId)}/export`);
    expect([backup.status, JSON.parse(backup.text).purpose]).toEqual([200, 'final']);
    expect((await download('/v1/track/aaaaaaaaaaaaaaaaaaaa/export')).status).toBe(404);
  });

  it('D3, D1: a correction changes the customer and the record shows old → new; a bad phone number is a 422 naming the field', async () => {
    const bad = await open({ customerId: 'dsr-e2e-correct', kind: 'correction', verification, changes: { phone: '12345' } });
    expect([bad.status, bad.body.error.fields.map((field: { field: string }) => field.field)]).toEqual([422, ['changes.phone']]);
    const opened = await open({ customerId: 'dsr-e2e-correct', kind: 'correction', verification, changes: { email: 'li.wei@new.example', name: 'Li Wei (李伟)' } });
    expect(opened.status).toBe(201);
    const done = await settled(opened.body.caseId);
    expect(done.body).toMatchObject({ status: 'completed', details: { correction: { changes: [{ field: 'name' }, { field: 'email' }] } } });
    expect((await stack.call('GET', '/v1/customers/dsr-e2e-correct', { key: keys.agent })).body).toMatchObject({ name: 'Li Wei (李伟)', email: 'li.wei@new.example' });
    const events = await eventually(
      () => stack.call('GET', `/v1/cases/${opened.body.caseId}/events`, { key: keys.auditor }),
      (answer) => answer.body.events.some((event: { type: string }) => event.type === 'data-request.corrected'),
    );
    expect(events.body.events.find((event: { type: string }) => event.type === 'data-request.corrected').data.changes).toEqual([
      { field: 'name', from: 'Li Wei', to: 'Li Wei (李伟)' },
      { field: 'email', from: 'dsr-e2e-correct@example.com', to: 'li.wei@new.example' },
    ]);
  });

  it('D3, D2: a deletion is refused while a legal hold stands; once a supervisor or auditor lifts it (recorded with the reason), a new request deletes', async () => {
    expect((await stack.call('PUT', '/v1/customers/dsr-e2e-delete/legal-hold', { key: keys.agent, body: { reason: 'x' } })).status).toBe(403);
    const held = await stack.call('PUT', '/v1/customers/dsr-e2e-delete/legal-hold', { key: keys.supervisor, body: { reason: 'Court order 2026-17' } });
    expect(held.body).toMatchObject({ held: true, reason: 'Court order 2026-17' });

    const first = await open({ customerId: 'dsr-e2e-delete', kind: 'deletion', verification });
    expect(first.status).toBe(201);
    const refused = await settled(first.body.caseId);
    expect(refused.body).toMatchObject({ status: 'refused', details: { refusal: { reason: 'legal hold: Court order 2026-17' } }, deadlines: [{ state: 'met' }] });
    expect((await stack.call('GET', '/v1/customers/dsr-e2e-delete', { key: keys.agent })).body.name).toBe('Li Wei');
    const toldUser = await eventually(
      () => stack.call('GET', '/v1/customers/dsr-e2e-delete/notifications', { key: keys.agent }),
      (answer) => answer.body.notifications.some((n: { template: string; channel: string }) => n.template === 'data-request.deletion-held' && n.channel === 'email'),
    );
    const heldNotice = toldUser.body.notifications.find((n: { template: string; channel: string }) => n.template === 'data-request.deletion-held' && n.channel === 'email');
    expect(heldNotice.body).toContain('legal hold');
    expect(heldNotice.body).not.toContain('Court order');

    const lifted = await stack.call('DELETE', '/v1/customers/dsr-e2e-delete/legal-hold', { key: keys.auditor, body: { reason: 'Order set aside on appeal' } });
    expect(lifted.status).toBe(200);
    expect(lifted.body).toMatchObject({
      held: false,
      history: [
        { action: 'lifted', reason: 'Order set aside on appeal' },
        { action: 'placed', reason: 'Court order 2026-17' },
      ],
    });
    expect((await stack.call('DELETE', '/v1/customers/dsr-e2e-delete/legal-hold', { key: keys.auditor, body: { reason: 'again' } })).status).toBe(409);

    const second = await open({ customerId: 'dsr-e2e-delete', kind: 'deletion', verification });
    const deleted = await settled(second.body.caseId);
    expect(deleted.body).toMatchObject({ status: 'completed', details: { deletion: { fields: expect.arrayContaining(['name', 'email', 'phone']) } } });
    expect((await stack.call('GET', '/v1/customers/dsr-e2e-delete', { key: keys.agent })).body).toMatchObject({ name: 'deleted', email: null, phone: null, channels: ['inbox'], consents: {} });
    // D1: the refused request's record is intact.
    const trail = await eventually(
      () => stack.call('GET', `/v1/cases/${first.body.caseId}/events`, { key: keys.auditor }),
      (answer) => answer.body.events.some((event: { type: string }) => event.type === 'data-request.refused'),
    );
    expect(trail.body.events.map((event: { type: string }) => event.type)).toContain('data-request.refused');
    const correction = await open({ customerId: 'dsr-e2e-delete', kind: 'correction', verification, changes: { name: 'x' } });
    expect([correction.status, correction.body.error.code]).toEqual([409, 'customer_anonymised']);
  });
});

describe('the retention Schedule (D2)', () => {
  it('D2: created once (then updated), daily, runs retentionPurge; a triggered run is recorded with its counts', async () => {
    expect(await ensureRetentionSchedule(stack.temporal, { taskQueue, timeZone: 'Asia/Shanghai' })).toBe('created');
    expect(await ensureRetentionSchedule(stack.temporal, { taskQueue, timeZone: 'Asia/Shanghai' })).toBe('updated');
    const handle = stack.temporal.schedule.getHandle(retentionScheduleId);
    const described = await handle.describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'retentionPurge', taskQueue });
    expect(described.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 3, end: 3, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] })]);
    expect(described.spec.timezone).toBe('Asia/Shanghai');
    await handle.trigger();
    const runs = await eventually(
      () => stack.call('GET', '/v1/privacy/purge-runs', { key: keys.auditor }),
      (answer) => answer.body.runs?.some((run: { finishedAt: string | null }) => run.finishedAt !== null),
      30_000,
    );
    expect(runs.body.runs[0]).toMatchObject({ retentionYears: 3, policyVersion: 'retention/2026.1', casesPurged: 0, heldCases: 0 });
    expect((await stack.call('GET', '/v1/privacy/purge-runs', { key: keys.agent })).status).toBe(403);
    await handle.delete();
  });
});

describe('personal data sealed in Postgres and crypto-shredded on deletion (D5, D3, D1)', () => {
  const customerId = 'dsr-e2e-shred';
  const complaintText = 'The router in flat 12B reboots whenever my son Ming streams';
  type EventRow = { case_id: string; step: number; type: string; data: Record<string, unknown> };
  const rawEvents = () => stack.db.sql<EventRow[]>`
    select case_id, step, type, data from case_events where case_id in (select case_id from cases where customer_id = ${customerId}) order by case_id, step`;

  it('D5, D3, D1: personal fields are stored sealed; after deletion every event is still there but none of its personal fields decrypts, and the request met its deadline', async () => {
    const complaint = await stack.call('POST', '/v1/complaints', {
      key: keys.agent,
      body: { customerId, channel: 'phone', category: 'network-quality', summary: 'Router reboots', description: complaintText },
    });
    expect(complaint.status).toBe(201);
    const caseId: string = complaint.body.caseId;
    const note = await stack.call('POST', `/v1/cases/${caseId}/actions/note`, { key: keys.agent, body: { input: { text: 'Customer Li Wei called back from +86 138 0000 4417' } } });
    expect(note.status).toBe(200);
    const withdrawn = await stack.call('POST', `/v1/cases/${caseId}/actions/withdraw`, { key: keys.agent, body: { input: { reason: 'Li Wei fixed it by moving the router' } } });
    expect(withdrawn.status).toBe(200);
    await eventually(
      () => stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor }),
      (answer) => answer.body.events.some((event: { type: string }) => event.type === 'complaint.withdrawn'),
    );

    // At rest: the customer row, the events' texts and the messages hold none of it in clear.
    const [row] = await stack.db.sql<{ name: string; email: string; data_key: string | null }[]>`select name, email, data_key from customers where id = ${customerId}`;
    expect(row!.data_key).toMatch(/^[\w.-]+:/);
    expect(`${row!.name} ${row!.email}`).not.toMatch(/Li Wei|example\.com/);
    const before = await rawEvents();
    const stored = JSON.stringify(before);
    expect(stored).not.toMatch(/router|Ming|4417|Li Wei/);
    expect(stored).toContain('pii:v1:');
    const messages = await stack.db.sql<{ body: string; recipient: string | null }[]>`select body, recipient from notifications where customer_id = ${customerId}`;
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every((message) => message.body.startsWith('pii:v1:') && !message.recipient?.includes('@'))).toBe(true);
    // Authorised reads open them transparently.
    const trail = await stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor });
    expect(trail.body.events.find((event: { type: string }) => event.type === 'complaint.received').data.description).toBe(complaintText);
    expect(trail.body.events.find((event: { type: string }) => event.type === 'complaint.note').data.text).toContain('+86 138 0000 4417');
    expect((await stack.call('GET', `/v1/customers/${customerId}`, { key: keys.agent })).body).toMatchObject({ name: 'Li Wei', email: `${customerId}@example.com` });

    const request = await open({ customerId, kind: 'deletion', verification });
    expect(request.status).toBe(201);
    const deleted = await settled(request.body.caseId);
    expect(deleted.body).toMatchObject({ status: 'completed', deadlines: [{ state: 'met' }], details: { deletion: { fields: expect.arrayContaining(['data key']) } } });

    // D1: the same events, byte for byte, and the purge recorded after them; D3: the key that opened them is gone.
    const complaintBefore = before.filter((event) => event.case_id === caseId);
    const after = (await rawEvents()).filter((event) => event.case_id === caseId);
    expect(after.slice(0, complaintBefore.length)).toEqual(complaintBefore);
    expect(after.slice(complaintBefore.length).map((event) => event.type)).toEqual(['case.personal-data-purged']);
    const [shredded] = await stack.db.sql<{ data_key: string | null; data_key_shredded_at: Date | null }[]>`select data_key, data_key_shredded_at from customers where id = ${customerId}`;
    expect(shredded!.data_key).toBeNull();
    expect(shredded!.data_key_shredded_at).toBeInstanceOf(Date);
    const erasedTrail = await stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor });
    expect(erasedTrail.body.events).toHaveLength(after.length);
    const received = erasedTrail.body.events.find((event: { type: string }) => event.type === 'complaint.received');
    expect(received.data).toMatchObject({ description: '[erased]', category: 'network-quality', channel: 'phone' });
    expect(erasedTrail.body.events.find((event: { type: string }) => event.type === 'complaint.note').data.text).toBe('[erased]');
    expect(JSON.stringify(erasedTrail.body)).not.toMatch(/router|Ming|4417|Li Wei/);
    // The CRM cannot write them back in: a returning customer gets a new id.
    const rewritten = await stack.call('PUT', `/v1/customers/${customerId}`, {
      key: keys.agent,
      body: { name: 'Li Wei', channels: ['inbox'], consents: {}, locale: 'en', plan: 'home-500m', services: ['broadband'], region: 'shanghai' },
    });
    expect([rewritten.status, rewritten.body.error.code, rewritten.body.error.fields[0].field]).toEqual([409, 'customer_anonymised', 'id']);
  });
});
