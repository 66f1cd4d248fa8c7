import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findCustomerContact } from '../../db/customers';
import { migrate } from '../../db/migrate';
import { insertNotifications } from '../../db/notifications';
import { findTrackingCode, revokeTrackingCode } from '../../db/tracking-codes';
import type { NotificationRequest } from '../../domain/messages';
import { enqueueNotification, enqueueNotificationBatch, notificationRows, type BatchNotificationRequest } from '../../notifications';
import { startEphemeralPostgres, type RunningPostgres } from '../../scripts/toolchain/postgres';

const postgresPort = 55473;
const publicUrl = 'https://pledge.example/care';

let database: RunningPostgres;
let sql: postgres.Sql;
/** Every statement sent, to count what the batch path costs. */
const statements: string[] = [];

beforeAll(async () => {
  database = await startEphemeralPostgres(postgresPort);
  await migrate(database.url);
  sql = postgres(database.url, { onnotice: () => {}, debug: (_connection, query) => void statements.push(query) });
  await sql`
    insert into customers (id, name, email, channels, consents, locale, plan, region, services)
    select 'cust-' || lpad(n::text, 4, '0'), 'Customer ' || n, 'c' || n || '@example.test',
           case when n % 2 = 0 then '{inbox,email}'::text[] else '{inbox}'::text[] end,
           case when n % 2 = 0 then '{"email":{"granted":true,"recordedAt":"2026-01-01T00:00:00Z","source":"test"}}'::jsonb else '{}'::jsonb end,
           case when n % 3 = 0 then 'en' else 'zh-CN' end, 'home-100', 'sh', '{broadband}'
    from generate_series(1, 400) as n`;
  process.env.PLEDGE_PUBLIC_URL = publicUrl;
});

afterAll(async () => {
  delete process.env.PLEDGE_PUBLIC_URL;
  await sql?.end();
  await database?.stop();
});

beforeEach(() => {
  statements.length = 0;
});

const message = (key: string, customerId: string, caseId: string | undefined): NotificationRequest => ({
  idempotencyKey: key,
  customerId,
  ...(caseId ? { caseId } : {}),
  templateId: 'complaint.closed',
  params: { caseId: caseId ?? 'none' },
});

async function codesOf(caseId: string) {
  return sql<{ code: string; customer_id: string; revoked_at: Date | null }[]>`select code, customer_id, revoked_at from tracking_codes where case_id = ${caseId} order by created_at, code`;
}

async function bodiesOf(keyPrefix: string) {
  return sql<{ idempotency_key: string; customer_id: string; locale: string; body: string }[]>`
    select idempotency_key, customer_id, locale, body from notifications where idempotency_key like ${`${keyPrefix}%`} order by idempotency_key`;
}

const trackingCodeInBody = /\/track\/([0-9a-z]{20})$/;

describe('C8: a tracking code per (case, customer), created with the first message', () => {
  it('C8: enqueueNotification creates one code per (case, customer) in the enqueue transaction; every row of every message carries it', async () => {
    await sql.begin(async (tx) => {
      await enqueueNotification(tx, message('cmp-1:1', 'cust-0006', 'CMP-2026-000001'));
      await enqueueNotification(tx, message('cmp-1:2', 'cust-0006', 'CMP-2026-000001'));
    });
    const [code, ...others] = await codesOf('CMP-2026-000001');
    expect(others).toEqual([]);
    expect(code).toMatchObject({ customer_id: 'cust-0006', revoked_at: null });
    const rows = await bodiesOf('cmp-1:');
    expect(rows.map((row) => row.idempotency_key)).toEqual(['cmp-1:1:email', 'cmp-1:1:inbox', 'cmp-1:2:email', 'cmp-1:2:inbox']);
    for (const row of rows) {
      // cust-0006 reads English (n % 3 = 0): the line is in the message's locale, under PLEDGE_PUBLIC_URL.
      expect(row.body.endsWith(`\n\nFollow your case: ${publicUrl}/track/${code!.code}`), row.body).toBe(true);
    }

    // A retry of a queued message adds nothing, and no code.
    expect(await enqueueNotification(sql, message('cmp-1:2', 'cust-0006', 'CMP-2026-000001'))).toEqual({ queued: 0 });
    expect(await codesOf('CMP-2026-000001')).toHaveLength(1);

    // Another case of the same customer has a code of its own.
    await enqueueNotification(sql, message('cmp-2:1', 'cust-0006', 'CMP-2026-000002'));
    const [second] = await codesOf('CMP-2026-000002');
    expect(second!.code).not.toBe(code!.code);
    expect((await bodiesOf('cmp-2:1:inbox'))[0]!.body).toContain(`/track/${second!.code}`);
  });

  it('C8: a rolled-back step leaves neither the message nor its code', async () => {
    await expect(
      sql.begin(async (tx) => {
        await enqueueNotification(tx, message('cmp-3:1', 'cust-0001', 'CMP-2026-000003'));
        expect(await tx`select code from tracking_codes where case_id = 'CMP-2026-000003'`).toHaveLength(1);
        throw new Error('the step failed');
      }),
    ).rejects.toThrow('the step failed');
    expect(await codesOf('CMP-2026-000003')).toEqual([]);
    expect(await bodiesOf('cmp-3:')).toEqual([]);
  });

  it('C8: the line follows the locale (zh-CN); a message about no case carries no code', async () => {
    await enqueueNotification(sql, message('cmp-4:1', 'cust-0001', 'CMP-2026-000004'));
    const [code] = await codesOf('CMP-2026-000004');
    expect((await bodiesOf('cmp-4:1'))[0]!.body).toMatch(new RegExp(`\\n\\n查询进度：${publicUrl}/track/${code!.code}$`));

    const before = (await sql`select count(*)::int as n from tracking_codes`)[0]!.n;
    await enqueueNotification(sql, message('no-case:1', 'cust-0001', undefined));
    expect((await sql`select count(*)::int as n from tracking_codes`)[0]!.n).toBe(before);
    expect((await bodiesOf('no-case:1'))[0]!.body).not.toContain('/track/');
  });

  it('C8: a revoked code stays revoked; the next message of the case brings a new one', async () => {
    await enqueueNotification(sql, message('cmp-5:1', 'cust-0002', 'CMP-2026-000005'));
    const [old] = await codesOf('CMP-2026-000005');
    const revoked = await revokeTrackingCode(sql, old!.code, 'agent (key 1234)');
    expect(revoked).toMatchObject({ code: old!.code, caseId: 'CMP-2026-000005', customerId: 'cust-0002', revokedAt: expect.any(String) });
    expect((await revokeTrackingCode(sql, old!.code, 'someone else'))!.revokedAt).toBe(revoked!.revokedAt);
    expect(await revokeTrackingCode(sql, 'zzzzzzzzzzzzzzzzzzzz', 'agent')).toBeUndefined();

    await enqueueNotification(sql, message('cmp-5:2', 'cust-0002', 'CMP-2026-000005'));
    const codes = await codesOf('CMP-2026-000005');
    expect(codes).toHaveLength(2);
    const fresh = codes.find((code) => code.revoked_at === null)!;
    expect(fresh.code).not.toBe(old!.code);
    expect((await bodiesOf('cmp-5:2:inbox'))[0]!.body).toContain(`/track/${fresh.code}`);
    expect((await findTrackingCode(sql, old!.code))!.revokedAt).not.toBeNull();
  });
});

describe('C8, O4: the batch path (incident fan-outs) creates codes set-based', () => {
  async function fanoutPage(prefix: string, caseId: string, customerIds: string[]): Promise<BatchNotificationRequest[]> {
    const contacts = await Promise.all(customerIds.map((id) => findCustomerContact(sql, id)));
    return contacts.map((customer) => ({
      idempotencyKey: `${prefix}:${customer!.id}`,
      customer: customer!,
      caseId,
      templateId: 'incident.update',
      params: { caseId, title: 'Fibre cut', message: 'Crews on site' },
    }));
  }
  const trackingStatements = () => statements.filter((query) => /tracking_codes/.test(query));

  it('C8, O4: one statement creates the codes of a whole page, inside the page transaction, as activities/incidents.ts queues it', async () => {
    const customerIds = Array.from({ length: 300 }, (_, index) => `cust-${String(index + 1).padStart(4, '0')}`);
    const requests = await fanoutPage('inc-1:notice', 'INC-2026-000001', customerIds);
    statements.length = 0;
    // What deliverIncidentPage does: the rows of the page, then one INSERT … SELECT, in its transaction.
    await sql.begin(async (tx) => insertNotifications(tx, notificationRows(requests)));
    expect(trackingStatements()).toHaveLength(1);
    expect(statements.filter((query) => /insert into notifications/.test(query))).toHaveLength(1);

    const codes = await codesOf('INC-2026-000001');
    expect(codes).toHaveLength(300);
    const codeOf = new Map(codes.map((code) => [code.customer_id, code.code]));
    expect(new Set(codeOf.values()).size).toBe(300);
    const rows = await bodiesOf('inc-1:notice:');
    expect(rows).toHaveLength(450);
    for (const row of rows) {
      expect(trackingCodeInBody.exec(row.body)?.[1], row.idempotency_key).toBe(codeOf.get(row.customer_id));
      expect(row.body).toContain(row.locale === 'en' ? 'Follow your case: ' : '查询进度：');
    }

    // The next fan-out of the incident (or a retried page) reuses the codes: still one statement, nothing new.
    statements.length = 0;
    const update = await fanoutPage('inc-1:update-1', 'INC-2026-000001', customerIds.slice(0, 250));
    expect((await enqueueNotificationBatch(sql, update)).queued).toBe(375);
    expect(trackingStatements()).toHaveLength(1);
    expect(await codesOf('INC-2026-000001')).toHaveLength(300);
    for (const row of await bodiesOf('inc-1:update-1:')) expect(trackingCodeInBody.exec(row.body)?.[1]).toBe(codeOf.get(row.customer_id));
  });
});
