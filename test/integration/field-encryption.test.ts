import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCaseEvents, listCaseEvents } from '../../db/case-events';
import { anonymiseCustomer } from '../../db/customer-lifecycle';
import { findCustomer, findCustomerContact, upsertCustomer, type CustomerFields } from '../../db/customers';
import { seedDemoCustomers } from '../../db/demo-data';
import { claimNotifications, insertNotifications, listCustomerNotifications, recordDeliveryOutcomes, type NotificationRow } from '../../db/notifications';
import { startTestDatabase, type TestDatabase } from '../support/database';

// D5 in Postgres against a real database: what is stored sealed, what every read gives back, and
// crypto-shredding (D3) — through the db functions the API, the activities and the outbox use.
let db: TestDatabase;

beforeAll(async () => {
  db = await startTestDatabase(55493);
}, 120_000);

afterAll(async () => {
  await db?.stop();
});

const fields: CustomerFields = {
  name: 'Zhang Min',
  email: 'zhang.min@example.cn',
  phone: '+8613800001234',
  channels: ['email', 'sms', 'inbox'],
  consents: { email: { granted: true, recordedAt: '2026-01-01T00:00:00.000Z', source: 'test' }, sms: { granted: true, recordedAt: '2026-01-01T00:00:00.000Z', source: 'test' } },
  quietHours: null,
  timeZone: 'Asia/Shanghai',
  locale: 'en',
  plan: 'home-500m',
  services: ['broadband'],
  region: 'shanghai',
};

const message = (customerId: string, key: string, extra: Partial<NotificationRow> = {}): NotificationRow => ({
  idempotencyKey: key,
  customerId,
  caseId: null,
  channel: 'email',
  locale: 'en',
  template: 'test.message',
  subject: 'About your line, Zhang Min',
  body: 'Your router at 12 Huaihai Road will be replaced.',
  recipient: 'zhang.min@example.cn',
  priority: 1,
  ...extra,
});

const claim = () => claimNotifications(db.sql, { batchSize: 50, leaseMs: 60_000, starvationBoundSeconds: { 1: 60, 2: 300 } });
const raw = (text: unknown) => JSON.stringify(text);

describe('personal fields sealed in Postgres (D5)', () => {
  it('D5: a customer written through Pledge is stored sealed under a key of its own, read back in clear, and keeps its key across updates', async () => {
    const { customer } = await upsertCustomer(db.sql, 'fe-1', fields);
    expect(customer).toMatchObject({ name: 'Zhang Min', email: 'zhang.min@example.cn', phone: '+8613800001234' });
    const [stored] = await db.sql`select name, email, phone, data_key from customers where id = 'fe-1'`;
    expect(raw(stored)).not.toMatch(/Zhang|zhang|13800001234/);
    expect(stored!.name).toMatch(/^pii:v1:/);
    await upsertCustomer(db.sql, 'fe-1', { ...fields, name: 'Zhang Min (updated)' });
    const [again] = await db.sql`select data_key from customers where id = 'fe-1'`;
    expect(again!.data_key).toBe(stored!.data_key);
    expect((await findCustomer(db.sql, 'fe-1'))!.name).toBe('Zhang Min (updated)');
    expect(await findCustomerContact(db.sql, 'fe-1')).toMatchObject({ email: 'zhang.min@example.cn', phone: '+8613800001234' });
  });

  it('D5: the demo customers are sealed like any other', async () => {
    await seedDemoCustomers(db.sql, 3);
    const rows = await db.sql<{ id: string; name: string }[]>`select id, name from customers where id like 'cust-%' order by id`;
    expect(rows.map((row) => row.name.startsWith('pii:v1:'))).toEqual([true, true, true]);
    expect((await findCustomer(db.sql, 'cust-000001'))!.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
  });

  it('D5: a message is stored sealed; the outbox gets its address and text in clear, and so does a fallback queued by SQL', async () => {
    await insertNotifications(db.sql, [message('fe-1', 'fe-msg-1:email', { fallbacks: ['sms'] })]);
    const [stored] = await db.sql`select subject, body, recipient from notifications where idempotency_key = 'fe-msg-1:email'`;
    expect(raw(stored)).not.toMatch(/Zhang|Huaihai|example\.cn/);
    const [claimed] = await claim();
    expect(claimed).toMatchObject({ recipient: 'zhang.min@example.cn', subject: 'About your line, Zhang Min', body: 'Your router at 12 Huaihai Road will be replaced.' });
    await recordDeliveryOutcomes(db.sql, [{ id: claimed!.id, attempts: claimed!.attempts, status: 'failed', error: 'mailbox full' }]);
    const [fallback] = await claim();
    expect(fallback).toMatchObject({ channel: 'sms', recipient: '+8613800001234', body: 'Your router at 12 Huaihai Road will be replaced.' });
    const [storedFallback] = await db.sql`select recipient from notifications where id = ${fallback!.id}`;
    expect(storedFallback!.recipient).toMatch(/^pii:v1:/);
    expect((await listCustomerNotifications(db.sql, 'fe-1', { limit: 10 })).map((row) => row.subject)).toEqual(['About your line, Zhang Min', 'About your line, Zhang Min']);
  });

  it("D5, D3, D1: an event's personal fields are sealed and its other fields stay readable; once the key is destroyed the same rows read [erased], and later writes are erased too", async () => {
    await db.sql`
      insert into cases (case_id, workflow_id, type, status, priority, customer_id, summary, sla_breached, opened_at, updated_at, last_step, state)
      values ('CMP-2026-990001', 'complaint-CMP-2026-990001', 'complaint', 'received', 'P3', 'fe-1', 'router', false, now(), now(), 1, '{}')`;
    const actor = { id: 'agent-1', role: 'agent' as const };
    const at = new Date().toISOString();
    await insertCaseEvents(db.sql, {
      workflowId: 'complaint-CMP-2026-990001',
      caseId: 'CMP-2026-990001',
      customerId: 'fe-1',
      firstStep: 1,
      events: [
        { type: 'complaint.received', actor, occurredAt: at, data: { category: 'billing', description: 'My neighbour Wang Fang uses my Wi-Fi', priority: 'P3' } },
        { type: 'sla.met', actor, occurredAt: at, data: { clock: 'firstResponse', note: 'called +8613800001234' } },
      ],
    });
    const [clock] = await db.sql`select data->>'clock' as clock, data->>'note' as note from case_events where case_id = 'CMP-2026-990001' and step = 2`;
    expect(clock!.clock).toBe('firstResponse');
    expect(clock!.note).toMatch(/^pii:v1:/);
    const before = await db.sql`select step, data from case_events where case_id = 'CMP-2026-990001' order by step`;
    expect(raw(before)).not.toMatch(/Wang Fang|13800001234/);
    expect((await listCaseEvents(db.sql, 'CMP-2026-990001'))[0]!.data).toEqual({ category: 'billing', description: 'My neighbour Wang Fang uses my Wi-Fi', priority: 'P3' });

    expect(await anonymiseCustomer(db.sql, { customerId: 'fe-1', at })).toMatchObject({ deleted: true });
    expect(await db.sql`select step, data from case_events where case_id = 'CMP-2026-990001' order by step`).toEqual(before);
    const [key] = await db.sql`select data_key, data_key_shredded_at from customers where id = 'fe-1'`;
    expect(key!.data_key).toBeNull();
    const erased = await listCaseEvents(db.sql, 'CMP-2026-990001');
    expect(erased.map((event) => event.data)).toEqual([
      { category: 'billing', description: '[erased]', priority: 'P3' },
      { clock: 'firstResponse', note: '[erased]' },
    ]);
    await insertCaseEvents(db.sql, {
      workflowId: 'complaint-CMP-2026-990001',
      caseId: 'CMP-2026-990001',
      customerId: 'fe-1',
      firstStep: 3,
      events: [{ type: 'complaint.note', actor, occurredAt: at, data: { text: 'Zhang Min again' } }],
    });
    const [late] = await db.sql`select data from case_events where case_id = 'CMP-2026-990001' and step = 3`;
    expect(late!.data).toEqual({ text: '[erased]' });
    await insertNotifications(db.sql, [message('fe-1', 'fe-msg-2:inbox', { channel: 'inbox', recipient: null })]);
    const [lateMessage] = await db.sql`select subject, body from notifications where idempotency_key = 'fe-msg-2:inbox'`;
    expect(lateMessage).toEqual({ subject: '[erased]', body: '[erased]' });
    // A new data key is never made for them: writing the customer again keeps them erased.
    await upsertCustomer(db.sql, 'fe-1', fields);
    expect(await db.sql`select name, data_key from customers where id = 'fe-1'`).toEqual([{ name: '[erased]', data_key: null }]);
  });
});
