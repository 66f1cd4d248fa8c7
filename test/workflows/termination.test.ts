import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertLedgerEntry } from '../../db/ledger';
import type { CaseState } from '../../domain/case-state';
import { caseWorkflowId } from '../../domain/case-types';
import { defaultTerminationPolicy, type TerminationDetails } from '../../domain/termination';
import type { TerminationInput } from '../../workflows/termination';
import { actUpdate, stateQuery } from '../../workflows/protocol';
import { complaintInput } from '../support/case-inputs';
import { seedCustomer, type TestDatabase } from '../support/database';
import { days, minutes } from '../support/durations';
import { eventually } from '../support/eventually';
import { startTimeSkippingBed, type TimeSkippingBed } from '../support/time-skipping-bed';

// Terminations on the time-skipping server with real Postgres and real export files, at the real
// lengths: 30 days' notice, reminders 7 days and 1 day before, deactivation at the date, deletion
// 30 days after (T1–T7).
const taskQueue = 'terminations';
let bed: TimeSkippingBed;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let dataDir: string;
let provisioning: Server;
const provisioningCalls: { headers: IncomingHttpHeaders; body: unknown }[] = [];
let sequence = 0;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pledge-terminations-'));
  process.env.PLEDGE_DATA_DIR = dataDir;
  provisioning = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      provisioningCalls.push({ headers: request.headers, body: JSON.parse(body) });
      response.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => provisioning.listen(0, '127.0.0.1', resolve));
  bed = await startTimeSkippingBed({ postgresPort: 55479, taskQueue });
  ({ env, db } = bed);
}, 180_000);

afterAll(async () => {
  await bed?.stop();
  await new Promise((resolve) => provisioning?.close(resolve));
  delete process.env.PLEDGE_DATA_DIR;
  delete process.env.PLEDGE_PROVISIONING_WEBHOOK;
  rmSync(dataDir, { recursive: true, force: true });
});

async function customer(id: string) {
  await seedCustomer(db.sql, { id, locale: 'en', email: `${id}@example.com`, channels: ['email', 'inbox'], services: ['broadband', 'iptv'] });
  await db.sql`update customers set quiet_hours = ${db.sql.json({ from: '22:00', to: '08:00' })} where id = ${id}`;
}

async function start(overrides: Partial<TerminationInput> & { customerId: string; effectiveAtMs: number }): Promise<{ handle: WorkflowHandle; input: TerminationInput }> {
  const { effectiveAtMs, ...rest } = overrides;
  const input: TerminationInput = {
    caseId: `TRM-2026-${String(100 + ++sequence).padStart(6, '0')}`,
    initiatedBy: 'provider',
    reason: 'The copper network in your building is retired',
    effectiveAt: new Date(effectiveAtMs).toISOString(),
    contacts: { phone: '10000' },
    openedBy: { id: 'agent/test', role: 'agent' },
    policy: defaultTerminationPolicy,
    timeZone: 'Asia/Shanghai',
    ...rest,
  };
  const handle = await env.client.workflow.start('termination', { taskQueue, workflowId: caseWorkflowId('termination', input.caseId), args: [input] });
  await eventually(
    () => db.sql`select 1 from cases where case_id = ${input.caseId}`,
    (rows) => rows.length === 1,
  );
  return { handle, input };
}

/** The termination's details (domain/case-details.ts does not list them yet). */
const detailsOf = (state: CaseState) => state.details as unknown as TerminationDetails;
const eventsOf = (caseId: string, type: string) =>
  db.sql<{ occurred_at: Date; data: Record<string, unknown> }[]>`select occurred_at, data from case_events where case_id = ${caseId} and type = ${type} order by step`;
const templatesTo = async (caseId: string) =>
  (await db.sql<{ template: string }[]>`select template from notifications where case_id = ${caseId} and channel = 'inbox' order by id`).map((row) => row.template);
const standing = async (id: string) =>
  (await db.sql`select status, terminated_at, services, released_services, name, email, phone, consents, quiet_hours, anonymised_at from customers where id = ${id}`)[0]!;
/** Moves the server clock to `atMs` (it only moves forward). */
const sleepUntil = async (atMs: number) => env.sleep(Math.max(0, atMs - (await env.currentTimeMs())));
const act = (handle: WorkflowHandle, action: string, input: Record<string, unknown>, role: 'agent' | 'supervisor' | 'customer' = 'agent') =>
  handle.executeUpdate(actUpdate, { args: [{ action, input, actor: { id: role === 'customer' ? 'cust' : `${role}/test`, role } }] }) as Promise<CaseState>;

describe('terminations (T1–T7)', () => {
  it('T1, T2, T3, T4, T6: a provider termination 30 days out: notice, reminders at exactly 7 d and 1 d before, deactivation exactly at the date, deletion 30 days later', async () => {
    await customer('trm-full');
    process.env.PLEDGE_PROVISIONING_WEBHOOK = `http://127.0.0.1:${(provisioning.address() as AddressInfo).port}/release`;
    const effectiveAtMs = (await env.currentTimeMs()) + days(30);
    const { handle, input } = await start({ customerId: 'trm-full', effectiveAtMs });
    const opened = await handle.query(stateQuery);
    expect(opened).toMatchObject({ status: 'scheduled', expectedCompletionAt: input.effectiveAt, details: { effectiveAt: input.effectiveAt, reminders: [{ daysBefore: 7 }, { daysBefore: 1 }] } });
    expect(await templatesTo(input.caseId)).toEqual(['termination.notice']);
    // T2: urgent, so not held by the customer's quiet hours.
    const [noticeMail] = await db.sql`select priority, not_before <= created_at as at_once from notifications where case_id = ${input.caseId} and channel = 'email'`;
    expect(noticeMail).toEqual({ priority: 0, at_once: true });

    for (const daysBefore of [7, 1]) {
      const dueAtMs = effectiveAtMs - days(daysBefore);
      await sleepUntil(dueAtMs - minutes(1));
      expect((await eventsOf(input.caseId, 'termination.reminder-sent')).map((row) => row.data.daysBefore)).toEqual(daysBefore === 7 ? [] : [7]);
      await env.sleep(minutes(2));
      const reminders = await eventually(
        () => eventsOf(input.caseId, 'termination.reminder-sent'),
        (rows) => rows.length === (daysBefore === 7 ? 1 : 2),
      );
      const sentAtMs = reminders.at(-1)!.occurred_at.getTime();
      expect(sentAtMs).toBeGreaterThanOrEqual(dueAtMs);
      expect(sentAtMs).toBeLessThan(dueAtMs + minutes(1));
    }
    expect(await templatesTo(input.caseId)).toEqual(['termination.notice', 'termination.reminder', 'termination.reminder']);

    await sleepUntil(effectiveAtMs - minutes(1));
    expect((await standing('trm-full')).status).toBe('active');
    await env.sleep(minutes(2));
    const deactivated = await eventually(
      () => standing('trm-full'),
      (row) => row.status === 'terminated',
    );
    expect(deactivated).toMatchObject({ terminated_at: new Date(effectiveAtMs), services: [], released_services: ['broadband', 'iptv'] });
    const terminated = await eventually(
      () => handle.query(stateQuery),
      (state) => detailsOf(state).deactivation?.provisioning === 'sent',
    );
    expect(terminated).toMatchObject({ status: 'terminated', details: { deactivation: { deactivatedAt: input.effectiveAt, releasedServices: ['broadband', 'iptv'] } } });
    const finalBackup = detailsOf(terminated).exports[0]!;
    expect(finalBackup).toMatchObject({ n: 1, purpose: 'final', path: `exports/${input.caseId}-1.json` });
    expect(
      createHash('sha256')
        .update(readFileSync(join(dataDir, finalBackup.path)))
        .digest('hex'),
    ).toBe(finalBackup.sha256);
    expect(provisioningCalls).toEqual([
      {
        headers: expect.objectContaining({ 'idempotency-key': `termination-${input.caseId}:provisioning` }),
        body: { event: 'customer.terminated', caseId: input.caseId, customerId: 'trm-full', releasedServices: ['broadband', 'iptv'], effectiveAt: input.effectiveAt },
      },
    ]);
    const trail = (await db.sql<{ type: string }[]>`select type from case_events where case_id = ${input.caseId} order by step`).map((row) => row.type);
    expect(trail).toEqual([
      'termination.opened',
      'termination.notice-sent',
      'termination.reminder-sent',
      'termination.reminder-sent',
      'termination.effective-date-reached',
      'termination.final-backup-kept',
      'termination.account-deactivated',
      'termination.services-released',
      'termination.effective',
      'termination.provisioning-sent',
    ]);
    expect(await templatesTo(input.caseId)).toContain('termination.effective');
    delete process.env.PLEDGE_PROVISIONING_WEBHOOK;

    // T6: personal data deleted 30 days after the date; the termination's own records stay (T7).
    const deletionAtMs = effectiveAtMs + days(30);
    await sleepUntil(deletionAtMs - minutes(1));
    expect((await standing('trm-full')).anonymised_at).toBeNull();
    await env.sleep(minutes(2));
    const deleted = await eventually(
      () => standing('trm-full'),
      (row) => row.anonymised_at !== null,
    );
    expect(deleted).toMatchObject({ name: 'deleted', email: null, phone: null, consents: {}, quiet_hours: null });
    expect(deleted.anonymised_at.getTime()).toBeGreaterThanOrEqual(deletionAtMs);
    expect(deleted.anonymised_at.getTime()).toBeLessThan(deletionAtMs + minutes(1));
    expect(await handle.result()).toEqual({ caseId: input.caseId, status: 'closed', deactivatedAt: input.effectiveAt, deletedAt: deleted.anonymised_at.toISOString() });
    expect((await db.sql`select count(*)::int as n from case_events where case_id = ${input.caseId}`)[0]!.n).toBe(11);
    expect((await db.sql`select recipient from notifications where customer_id = 'trm-full' and recipient is not null and status not in ('pending', 'sending')`).length).toBe(0);
    expect(readFileSync(join(dataDir, finalBackup.path), 'utf8')).toContain('trm-full@example.com');
  });

  it('T3: a withdrawal before the date stops everything and tells the user', async () => {
    await customer('trm-withdrawn');
    const effectiveAtMs = (await env.currentTimeMs()) + days(30);
    const { handle, input } = await start({ customerId: 'trm-withdrawn', effectiveAtMs });
    await env.sleep(days(10));
    const withdrawn = await act(handle, 'withdraw', { reason: 'The building keeps its copper network' });
    expect(withdrawn).toMatchObject({ status: 'withdrawn', allowedActions: [], details: { withdrawal: { reason: 'The building keeps its copper network' } } });
    expect(await handle.result()).toMatchObject({ status: 'withdrawn', deactivatedAt: null, deletedAt: null });
    await sleepUntil(effectiveAtMs + days(31));
    expect(await standing('trm-withdrawn')).toMatchObject({ status: 'active', services: ['broadband', 'iptv'], anonymised_at: null });
    expect(await eventsOf(input.caseId, 'termination.reminder-sent')).toEqual([]);
    expect(await templatesTo(input.caseId)).toEqual(['termination.notice', 'termination.withdrawn']);
  });

  it('T3, T7: an export contains the customer’s cases, events, messages and ledger, and nothing of other customers', async () => {
    await customer('trm-export-a');
    await customer('trm-export-b');
    for (const [caseId, customerId] of [
      ['CMP-2026-000901', 'trm-export-a'],
      ['CMP-2026-000902', 'trm-export-b'],
    ] as const) {
      await env.client.workflow.start('complaint', {
        taskQueue,
        workflowId: caseWorkflowId('complaint', caseId),
        args: [complaintInput(caseId, { customerId, summary: `Slow line of ${customerId}` })],
      });
      await eventually(
        () => db.sql`select 1 from notifications where case_id = ${caseId}`,
        (rows) => rows.length > 0,
      );
      await insertLedgerEntry(db.sql, { idempotencyKey: `test:${customerId}`, customerId, caseId, kind: 'coupon', amountCents: 500, currency: 'CNY', policyVersion: 'test' });
    }
    const { handle, input } = await start({ customerId: 'trm-export-a', effectiveAtMs: (await env.currentTimeMs()) + days(30) });
    const state = await act(handle, 'request-export', { note: 'For my records' }, 'customer');
    const [exported] = detailsOf(state).exports;
    expect(exported).toMatchObject({ n: 1, purpose: 'requested', path: `exports/${input.caseId}-1.json` });
    const text = readFileSync(join(dataDir, exported!.path), 'utf8');
    expect(Buffer.byteLength(text)).toBe(exported!.sizeBytes);
    const document = JSON.parse(text);
    expect(document.customer).toMatchObject({ id: 'trm-export-a', email: 'trm-export-a@example.com' });
    expect(document.cases.map((row: { case_id: string }) => row.case_id).sort()).toEqual(['CMP-2026-000901', input.caseId]);
    expect(new Set(document.caseEvents.map((row: { case_id: string }) => row.case_id))).toEqual(new Set(['CMP-2026-000901', input.caseId]));
    expect(document.notifications.map((row: { template: string }) => row.template)).toEqual(expect.arrayContaining(['complaint.received', 'termination.notice']));
    expect(document.ledger).toEqual([expect.objectContaining({ customer_id: 'trm-export-a', amount_cents: 500 })]);
    expect(text).not.toContain('trm-export-b');
    expect(text).not.toContain('CMP-2026-000902');
    const told = await eventually(
      () => templatesTo(input.caseId),
      (templates) => templates.includes('termination.export-ready'),
    );
    expect(told).toEqual(['termination.notice', 'termination.export-ready']);
    expect(await eventsOf(input.caseId, 'termination.export-requested')).toEqual([expect.objectContaining({ data: { n: 1, note: 'For my records' } })]);
    await act(handle, 'withdraw', { reason: 'Test over' });
  });

  it('T5: the user’s own termination takes effect at the date they choose, with no 30-day wait and only the reminders that fit', async () => {
    await customer('trm-own');
    const effectiveAtMs = (await env.currentTimeMs()) + days(2);
    const { handle, input } = await start({ customerId: 'trm-own', initiatedBy: 'customer', reason: 'Moving abroad', effectiveAtMs, openedBy: { id: 'agent/test', role: 'agent' } });
    expect((await handle.query(stateQuery)).details).toMatchObject({ effectiveAt: input.effectiveAt, reminders: [{ daysBefore: 1 }] });
    await sleepUntil(effectiveAtMs - minutes(1));
    expect((await standing('trm-own')).status).toBe('active');
    await env.sleep(minutes(2));
    expect(
      await eventually(
        () => standing('trm-own'),
        (row) => row.status === 'terminated',
      ),
    ).toMatchObject({ terminated_at: new Date(effectiveAtMs) });
    expect((await eventsOf(input.caseId, 'termination.reminder-sent')).map((row) => row.data.daysBefore)).toEqual([1]);
    const state = await eventually(
      () => handle.query(stateQuery),
      (current) => detailsOf(current).deactivation?.provisioning === 'skipped',
    );
    expect(state.status).toBe('terminated');
  });

  it('T6: a legal hold keeps the personal data past the deletion date; released, the deletion runs at once', async () => {
    await customer('trm-held');
    const effectiveAtMs = (await env.currentTimeMs()) + days(30);
    const { handle, input } = await start({ customerId: 'trm-held', effectiveAtMs });
    await handle.executeUpdate(actUpdate, { args: [{ action: 'legal-hold', input: { reason: 'Court order 2026-17' }, actor: { id: 'supervisor/test', role: 'supervisor' } }] });
    expect(await standing('trm-held')).toMatchObject({ status: 'active' });
    expect((await db.sql`select legal_hold, legal_hold_reason from customers where id = 'trm-held'`)[0]).toEqual({ legal_hold: true, legal_hold_reason: 'Court order 2026-17' });
    await sleepUntil(effectiveAtMs + days(30) + minutes(1));
    await eventually(
      () => eventsOf(input.caseId, 'termination.deletion-held'),
      (rows) => rows.length === 1,
    );
    expect(await standing('trm-held')).toMatchObject({ status: 'terminated', anonymised_at: null, email: 'trm-held@example.com' });
    expect((await db.sql`select role, kind from staff_notifications where case_id = ${input.caseId}`).map((row) => `${row.role}:${row.kind}`)).toEqual(['supervisor:termination.deletion-held']);
    await env.sleep(days(10));
    expect((await standing('trm-held')).anonymised_at).toBeNull();
    const releasedAtMs = await env.currentTimeMs();
    await handle.executeUpdate(actUpdate, { args: [{ action: 'release-hold', input: { reason: 'Order lifted' }, actor: { id: 'supervisor/test', role: 'supervisor' } }] });
    const deleted = await eventually(
      () => standing('trm-held'),
      (row) => row.anonymised_at !== null,
    );
    expect(deleted.name).toBe('deleted');
    expect(deleted.anonymised_at.getTime()).toBeGreaterThanOrEqual(releasedAtMs);
    expect(await handle.result()).toMatchObject({ status: 'closed' });
  });
});
