import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import { placeLegalHold } from '../../db/legal-holds';
import type { CaseState } from '../../domain/case-state';
import { caseWorkflowId } from '../../domain/case-types';
import { legallyRequiredNoticeLine } from '../../domain/consent';
import { defaultDataRequestPolicy, type DataRequestDetails } from '../../domain/data-request';
import { enqueueNotification } from '../../notifications/outbox';
import type { DataRequestInput } from '../../workflows/data-request';
import { actUpdate, stateQuery } from '../../workflows/protocol';
import { shippedCalendar } from '../support/case-inputs';
import { seedCustomer, type TestDatabase } from '../support/database';
import { minutes } from '../support/durations';
import { eventually } from '../support/eventually';
import { devKeys } from '../support/stack';
import { startTimeSkippingBed, type TimeSkippingBed } from '../support/time-skipping-bed';

// Data-subject requests (D3) on the time-skipping server with real Postgres: the 15-working-day
// answer with its warning and escalation, deletion under a legal hold and after it, a correction;
// and consent (D4) through the API with what the outbox then does.
const taskQueue = 'data-requests';
let bed: TimeSkippingBed;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let dataDir: string;
let sequence = 0;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pledge-data-requests-'));
  process.env.PLEDGE_DATA_DIR = dataDir;
  bed = await startTimeSkippingBed({ postgresPort: 55481, taskQueue });
  ({ env, db } = bed);
}, 180_000);

afterAll(async () => {
  await bed?.stop();
  delete process.env.PLEDGE_DATA_DIR;
  rmSync(dataDir, { recursive: true, force: true });
});

async function customer(id: string) {
  await seedCustomer(db.sql, { id, locale: 'en', email: `${id}@example.com`, phone: '+8613800138000', channels: ['sms', 'email', 'inbox'] });
}

async function start(overrides: Partial<DataRequestInput> & { customerId: string }): Promise<{ handle: WorkflowHandle; input: DataRequestInput }> {
  const input: DataRequestInput = {
    caseId: `DSR-2026-${String(100 + ++sequence).padStart(6, '0')}`,
    kind: 'access',
    verification: { status: 'verified', method: 'id-document', reference: 'ID card ending 4417', verifiedBy: 'agent Wang' },
    changes: null,
    note: null,
    openedBy: { id: 'agent/test', role: 'agent' },
    policy: defaultDataRequestPolicy,
    timeZone: 'Asia/Shanghai',
    calendar: shippedCalendar,
    ...overrides,
  };
  const handle = await env.client.workflow.start('dataRequest', { taskQueue, workflowId: caseWorkflowId('data-request', input.caseId), args: [input] });
  await eventually(
    () => db.sql`select 1 from cases where case_id = ${input.caseId}`,
    (rows) => rows.length === 1,
  );
  return { handle, input };
}

const detailsOf = (state: CaseState) => state.details as unknown as DataRequestDetails;
const eventTypes = async (caseId: string) => (await db.sql<{ type: string }[]>`select type from case_events where case_id = ${caseId} order by step`).map((row) => row.type);
const staffKinds = async (caseId: string) => db.sql<{ role: string; kind: string }[]>`select role, kind from staff_notifications where case_id = ${caseId} order by id`;
const sleepUntil = async (atMs: number) => env.sleep(Math.max(0, atMs - (await env.currentTimeMs())));
const act = (handle: WorkflowHandle, action: string, input: Record<string, unknown>, role: 'agent' | 'supervisor' = 'agent') =>
  handle.executeUpdate(actUpdate, { args: [{ action, input, actor: { id: `${role}/test`, role } }] }) as Promise<CaseState>;

describe('D3: the answer within 15 working days', () => {
  it('D3: received before National Day 2026 and recorded late: due at the end of 22 Oct (1–7 Oct off, Sat 10 Oct worked), warned and escalated to supervisors at once', async () => {
    await customer('dsr-national-day');
    const { handle, input } = await start({
      customerId: 'dsr-national-day',
      receivedAt: '2026-09-25T10:00:00+08:00',
      verification: { status: 'pending', method: 'id-document', reference: 'copy of ID card requested' },
    });
    const state = await eventually(
      () => handle.query(stateQuery),
      (current) => current.slaBreached,
    );
    expect(state.deadlines).toEqual([expect.objectContaining({ name: 'response', dueAt: '2026-10-22T16:00:00.000Z', state: 'breached', provisional: false })]);
    const recorded = await eventually(
      () => eventTypes(input.caseId),
      (types) => types.length >= 5,
    );
    expect(recorded).toEqual(['data-request.received', 'data-request.verification-pending', 'sla.started', 'sla.warned', 'sla.breached']);
    expect(await staffKinds(input.caseId)).toEqual([
      { role: 'agent', kind: 'sla.warned' },
      { role: 'supervisor', kind: 'sla.breached' },
    ]);
    await act(handle, 'refuse', { reason: 'The requester did not send proof of identity' }, 'supervisor');
    expect(await handle.result()).toMatchObject({ status: 'refused' });
  });

  it('D3, C9: opened now and left unverified: no warning a minute before 80 %, warned a minute after; not breached a minute before the due time, escalated a minute after; then verified and exported', async () => {
    await customer('dsr-clock');
    const { handle, input } = await start({ customerId: 'dsr-clock', verification: { status: 'pending', method: 'video-call', reference: 'call booked' } });
    const opened = await handle.query(stateQuery);
    const due = opened.deadlines[0]!;
    expect(due.state).toBe('pending');
    await sleepUntil(Date.parse(due.warnAt!) - minutes(1));
    expect(await staffKinds(input.caseId)).toEqual([]);
    await env.sleep(minutes(2));
    await eventually(
      () => staffKinds(input.caseId),
      (rows) => rows.length === 1,
    );
    await sleepUntil(Date.parse(due.dueAt!) - minutes(1));
    expect((await handle.query(stateQuery)).slaBreached).toBe(false);
    await env.sleep(minutes(2));
    const kinds = await eventually(
      () => staffKinds(input.caseId),
      (rows) => rows.length === 2,
    );
    expect(kinds).toEqual([
      { role: 'agent', kind: 'sla.warned' },
      { role: 'supervisor', kind: 'sla.breached' },
    ]);
    const [breach] = await db.sql<{ occurred_at: Date }[]>`select occurred_at from case_events where case_id = ${input.caseId} and type = 'sla.breached'`;
    expect(breach!.occurred_at.getTime()).toBeGreaterThanOrEqual(Date.parse(due.dueAt!));
    expect(breach!.occurred_at.getTime()).toBeLessThan(Date.parse(due.dueAt!) + minutes(2));

    await act(handle, 'verify', { method: 'video-call', reference: 'face matched ID photo', verifiedBy: 'agent Li' });
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    const done = await handle.query(stateQuery);
    expect(detailsOf(done).export).toMatchObject({ n: 1, path: `exports/${input.caseId}-1.json` });
    expect(done.deadlines[0]).toMatchObject({ state: 'breached', metAt: expect.any(String) });
  });
});

describe('D3: deletion keeps the record true (D1) and respects a legal hold (D2)', () => {
  /** A closed complaint of the customer, recorded as the runtime would have: read model, trail, messages. */
  async function closedComplaint(customerId: string, caseId: string) {
    const state = { caseId, type: 'complaint', status: 'closed', customerId, summary: 'Li Wei: charged twice, call me on +8613800138000', details: { description: 'Li Wei at 5 Garden Rd' } };
    await db.sql`
      insert into cases (case_id, workflow_id, type, status, customer_id, summary, opened_at, updated_at, last_step, state)
      values (${caseId}, ${`complaint-${caseId}`}, 'complaint', 'closed', ${customerId}, ${state.summary}, now() - interval '40 days', now() - interval '20 days', 3, ${db.sql.json(state)})`;
    for (const [step, type] of [
      [1, 'complaint.received'],
      [2, 'complaint.resolved'],
      [3, 'complaint.closed'],
    ] as const) {
      await db.sql`
        insert into case_events (workflow_id, step, case_id, type, actor_id, actor_role, occurred_at, data)
        values (${`complaint-${caseId}`}, ${step}, ${caseId}, ${type}, 'agent/test', 'agent', now() - interval '30 days', ${db.sql.json({ text: 'Li Wei says hello' })})`;
    }
    await db.sql`
      insert into notifications (idempotency_key, customer_id, case_id, channel, locale, template, subject, body, recipient, status)
      values (${`${caseId}:1:email`}, ${customerId}, ${caseId}, 'email', 'en', 'complaint.received', 'We have received your complaint', 'Dear Li Wei, …', ${`${customerId}@example.com`}, 'delivered'),
             (${`${caseId}:1:inbox`}, ${customerId}, ${caseId}, 'inbox', 'en', 'complaint.received', 'We have received your complaint', 'Dear Li Wei, …', null, 'delivered')`;
  }
  const trail = (customerId: string) =>
    db.sql<{ id: string; case_id: string; step: number; type: string; data: unknown }[]>`
      select id, case_id, step, type, data from case_events where case_id in (select case_id from cases where customer_id = ${customerId} and type <> 'data-request') order by id`;

  it('D3, D2: refused while a legal hold stands (the reason recorded, the user told only that the law requires keeping it); after the hold is lifted a new request deletes', async () => {
    await customer('dsr-held');
    await placeLegalHold(db.sql, { customerId: 'dsr-held', reason: 'Court order 2026-17', actor: { id: 'supervisor/test', role: 'supervisor' } });
    const { handle, input } = await start({ customerId: 'dsr-held', kind: 'deletion' });
    expect(await handle.result()).toMatchObject({ status: 'refused' });
    const [refusal] = await db.sql<{ data: { reason: string } }[]>`select data from case_events where case_id = ${input.caseId} and type = 'data-request.refused'`;
    expect(refusal!.data.reason).toBe('legal hold: Court order 2026-17');
    const told = await db.sql<{ template: string; body: string }[]>`select template, body from notifications where case_id = ${input.caseId} and channel = 'inbox' order by id`;
    expect(told.map((row) => row.template)).toEqual(['data-request.received', 'data-request.deletion-held']);
    expect(told[1]!.body).not.toContain('Court order');
    expect((await db.sql`select name from customers where id = 'dsr-held'`)[0]!.name).toBe('Customer dsr-held');
  });

  it('D3, D1: deletion: the customer row loses its personal fields, messages their text and address, closed cases their summary; every event recorded before is still there, unchanged', async () => {
    await customer('dsr-erase');
    await closedComplaint('dsr-erase', 'CMP-2026-009001');
    const before = await trail('dsr-erase');
    expect(before).toHaveLength(3);
    const { handle, input } = await start({ customerId: 'dsr-erase', kind: 'deletion' });
    expect(await handle.result()).toMatchObject({ status: 'completed' });

    const after = await trail('dsr-erase');
    // D1: nothing rewritten or removed; the purge itself is one more entry at the end of the trail.
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length).map((row) => [row.case_id, row.step, row.type])).toEqual([['CMP-2026-009001', 4, 'case.personal-data-purged']]);

    const [row] = await db.sql`select name, email, phone, consents, channels, anonymised_at from customers where id = 'dsr-erase'`;
    expect(row).toMatchObject({ name: 'deleted', email: null, phone: null, consents: {}, channels: ['inbox'] });
    expect(row!.anonymised_at).toBeInstanceOf(Date);
    const messages = await db.sql<{ body: string; recipient: string | null; redacted_at: Date | null }[]>`
      select body, recipient, redacted_at from notifications where case_id = 'CMP-2026-009001'`;
    expect(messages.every((message) => message.recipient === null && message.redacted_at !== null && !message.body.includes('Li Wei'))).toBe(true);
    const [complaint] = await db.sql<{ summary: string; purged_at: Date | null; state: { details: Record<string, unknown> } }[]>`
      select summary, purged_at, state from cases where case_id = 'CMP-2026-009001'`;
    expect(complaint!.summary).not.toContain('Li Wei');
    expect(JSON.stringify(complaint!.state)).not.toContain('Li Wei');
    expect(complaint!.purged_at).toBeInstanceOf(Date);
    // D4: the consents cleared by the deletion are in the consent history as withdrawn.
    const withdrawn = await db.sql<{ channel: string; granted: boolean; source: string }[]>`
      select channel, granted, source from consent_events where customer_id = 'dsr-erase' and not granted order by channel`;
    expect(withdrawn).toEqual([
      { channel: 'email', granted: false, source: `personal data deleted on request ${input.caseId}` },
      { channel: 'sms', granted: false, source: `personal data deleted on request ${input.caseId}` },
    ]);
    const done = await handle.query(stateQuery);
    // The complaint's two messages and the request's own acknowledgement (inbox, and the SMS not yet sent: now never sent).
    expect(detailsOf(done).deletion).toMatchObject({ notificationsRedacted: 4, casesPurged: 1 });
    const unsent = await db.sql`select status, recipient from notifications where case_id = ${input.caseId} and channel = 'sms'`;
    expect(unsent).toEqual([{ status: 'not-sent', recipient: null }]);
    expect(done.deadlines[0]).toMatchObject({ state: 'met' });
    // The confirmation reaches the inbox only: no address is left.
    const confirmation = await db.sql<{ channel: string }[]>`select channel from notifications where case_id = ${input.caseId} and template = 'data-request.deleted'`;
    expect(confirmation.map((entry) => entry.channel)).toEqual(['inbox']);
  });

  it('D3: deletion while another case is open is deferred until that case’s expected completion, then done', async () => {
    await customer('dsr-deferred');
    const now = await env.currentTimeMs();
    const expected = new Date(now + 3 * 24 * 3600_000).toISOString();
    await db.sql`
      insert into cases (case_id, workflow_id, type, status, customer_id, summary, opened_at, updated_at, last_step, state)
      values ('CMP-2026-009002', 'complaint-CMP-2026-009002', 'complaint', 'acknowledged', 'dsr-deferred', 'open complaint', now(), now(), 1,
              ${db.sql.json({ expectedCompletionAt: expected })})`;
    const { handle, input } = await start({ customerId: 'dsr-deferred', kind: 'deletion' });
    const deferred = await eventually(
      () => handle.query(stateQuery),
      (state) => state.status === 'deferred',
    );
    expect(deferred).toMatchObject({ expectedCompletionAt: expected, details: { deferral: { blockingCases: ['CMP-2026-009002'] } } });
    await db.sql`update cases set status = 'closed' where case_id = 'CMP-2026-009002'`;
    await sleepUntil(Date.parse(expected) + minutes(1));
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    expect(await eventTypes(input.caseId)).toEqual([
      'data-request.received',
      'data-request.identity-verified',
      'sla.started',
      'data-request.deletion-deferred',
      'sla.met',
      'data-request.retried',
      'data-request.personal-data-deleted',
      'data-request.completed',
    ]);
  });

  it('D3, D1: correction changes the customer record and records old → new', async () => {
    await customer('dsr-correct');
    const { handle, input } = await start({ customerId: 'dsr-correct', kind: 'correction', changes: { name: 'Li Wei', email: 'li.wei@new.example' } });
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    const [row] = await db.sql`select name, email from customers where id = 'dsr-correct'`;
    expect(row).toEqual({ name: 'Li Wei', email: 'li.wei@new.example' });
    const [corrected] = await db.sql<{ data: unknown }[]>`select data from case_events where case_id = ${input.caseId} and type = 'data-request.corrected'`;
    expect(corrected!.data).toEqual({
      changes: [
        { field: 'name', from: 'Customer dsr-correct', to: 'Li Wei' },
        { field: 'email', from: 'dsr-correct@example.com', to: 'li.wei@new.example' },
      ],
      unchanged: [],
    });
  });
});

describe('D4: consent per purpose and channel', () => {
  it('D4: PUT records each changed answer with time and source, GET shows the answers in force and the history; the outbox leaves out a withdrawn channel except for a legally required notice, which says so', async () => {
    const app = createApp({ temporal: env.client, sql: db.sql, apiKeys: parseApiKeys(readEnv({ PLEDGE_API_KEYS: devApiKeys })), policies: loadPolicies(readEnv({})), taskQueue });
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await app.request(path, {
        method,
        headers: { authorization: `Bearer ${devKeys.agent}`, 'x-actor-name': 'Agent Zhao', ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    await customer('dsr-consent');
    const put = await call('PUT', '/v1/customers/dsr-consent/consents', { source: 'app settings v2', consents: { 'service-notices': { sms: false, email: true }, marketing: { email: true } } });
    expect(put.status).toBe(200);
    // email was already granted (seeded): unchanged answers are not recorded again.
    expect(put.body.changed.map((answer: { purpose: string; channel: string; granted: boolean }) => [answer.purpose, answer.channel, answer.granted])).toEqual([
      ['service-notices', 'sms', false],
      ['marketing', 'email', true],
    ]);
    const read = await call('GET', '/v1/customers/dsr-consent/consents');
    expect(read.body.consents).toEqual({
      marketing: { email: expect.objectContaining({ granted: true, source: 'app settings v2', recordedBy: expect.stringContaining('Agent Zhao') }) },
      'service-notices': {
        email: expect.objectContaining({ granted: true, source: 'test' }),
        sms: expect.objectContaining({ granted: false, source: 'app settings v2', recordedBy: expect.stringContaining('Agent Zhao') }),
      },
    });
    expect(read.body.history.map((entry: { purpose: string; channel: string; granted: boolean }) => `${entry.purpose}/${entry.channel}=${entry.granted}`)).toEqual([
      'marketing/email=true',
      'service-notices/sms=false',
      'service-notices/email=true',
      'service-notices/sms=true',
    ]);
    // The outbox reads the same answer: customers.consents.sms is withdrawn.
    const [stored] = await db.sql<{ consents: Record<string, { granted: boolean }> }[]>`select consents from customers where id = 'dsr-consent'`;
    expect(stored!.consents.sms!.granted).toBe(false);

    await enqueueNotification(db.sql, {
      idempotencyKey: 'consent-test:case',
      customerId: 'dsr-consent',
      caseId: 'CMP-2026-009100',
      templateId: 'complaint.received',
      params: { caseId: 'CMP-2026-009100', summary: 'x' },
    });
    await enqueueNotification(db.sql, {
      idempotencyKey: 'consent-test:outage',
      customerId: 'dsr-consent',
      caseId: 'INC-2026-009100',
      templateId: 'incident.outage-notice',
      params: { caseId: 'INC-2026-009100', title: 'Fibre cut', startedAt: 'now', message: 'Repairs under way' },
    });
    const rows = await db.sql<{ idempotency_key: string; body: string }[]>`select idempotency_key, body from notifications where idempotency_key like 'consent-test:%' order by id`;
    expect(rows.map((row) => row.idempotency_key)).toEqual(['consent-test:case:inbox', 'consent-test:case:email', 'consent-test:outage:inbox', 'consent-test:outage:sms']);
    expect(rows.filter((row) => row.body.includes(legallyRequiredNoticeLine('en'))).map((row) => row.idempotency_key)).toEqual(['consent-test:outage:inbox', 'consent-test:outage:sms']);

    // The CRM sync (PUT /v1/customers/{id}) changing a consent is recorded in the same history.
    const crm = await app.request('/v1/customers/dsr-consent', {
      method: 'PUT',
      headers: { authorization: `Bearer ${devKeys.agent}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Customer dsr-consent',
        email: 'dsr-consent@example.com',
        channels: ['email', 'inbox'],
        consents: { email: { granted: false, source: 'crm: unsubscribed' } },
        plan: 'home-300m',
        region: 'shanghai',
        locale: 'en',
      }),
    });
    expect(crm.status).toBe(422); // the email channel without consent is refused by the customer route; nothing recorded
    const crmOk = await app.request('/v1/customers/dsr-consent', {
      method: 'PUT',
      headers: { authorization: `Bearer ${devKeys.agent}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Customer dsr-consent',
        channels: ['inbox'],
        consents: { email: { granted: false, source: 'crm: unsubscribed' } },
        plan: 'home-300m',
        region: 'shanghai',
        locale: 'en',
      }),
    });
    expect(crmOk.status).toBe(200);
    const latest = await call('GET', '/v1/customers/dsr-consent/consents');
    expect(latest.body.history[0]).toMatchObject({ purpose: 'service-notices', channel: 'email', granted: false, source: 'crm: unsubscribed' });
    expect((await call('PUT', '/v1/customers/nobody/consents', { source: 'x', consents: { marketing: { sms: true } } })).status).toBe(404);
    expect((await call('PUT', '/v1/customers/dsr-consent/consents', { source: 'x', consents: { newsletter: { sms: true } } })).status).toBe(422);
  });
});
