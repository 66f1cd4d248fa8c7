import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../db/migrate';
import { listStaffNotifications } from '../../db/staff-notifications';
import type { StaffNotificationRequest } from '../../domain/messages';
import { parseStaffRoutes, staffWebhookSecret } from '../../domain/staff-routes';
import { createDispatcher, createMailer, type Mailer } from '../../notifications';
import { queueStaffMessages } from '../../notifications/staff-pages';
import { createWebhookSender, webhookSignature } from '../../notifications/webhook';
import { startEphemeralPostgres, type RunningPostgres } from '../../scripts/toolchain/postgres';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';

// C9: staff are paged, not only listed: a warning goes to the role's inbox, to its e-mail
// addresses (a real SMTP server) and to its chat webhook (a real HTTP server), once each.

let database: RunningPostgres;
let sql: postgres.Sql;
let smtp: SmtpSink;
let mailer: Mailer;
let hook: Server;
let hookUrl: string;
const hooked: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
const secret = 'chat-webhook-secret-0123456789';

beforeAll(async () => {
  database = await startEphemeralPostgres(55463);
  await migrate(database.url);
  sql = postgres(database.url, { onnotice: () => {} });
  smtp = await startSmtpSink();
  mailer = createMailer(smtp.url, { connections: 1 });
  hook = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      hooked.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks/noc`;
});

afterAll(async () => {
  mailer?.close();
  await sql?.end();
  await smtp?.stop();
  await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
  await database?.stop();
});

const warning = (key: string, deliverAfter: string): StaffNotificationRequest => ({
  idempotencyKey: key,
  role: 'supervisor',
  kind: 'sla.warning',
  subject: 'CMP-2026-000042: first response due in 12 minutes',
  body: 'The first response to CMP-2026-000042 is due at 14:00; 80 % of the time has passed.',
  occurredAt: '2026-11-28T05:48:00.000Z',
  deliverAfter,
});

describe('staff pages (C9)', () => {
  it('C9: a warning reaches the role inbox, every role address by e-mail and the signed webhook, once each, even when queued twice', async () => {
    const routes = parseStaffRoutes(JSON.stringify({ supervisor: { email: ['noc-lead@isp.example', 'duty@isp.example'], webhook: hookUrl, webhookSecret: secret } }));
    const message = warning('complaint-CMP-2026-000042:warn-firstResponse', new Date(Date.now() - 1000).toISOString());
    await queueStaffMessages(sql, 'CMP-2026-000042', [message], routes);
    await queueStaffMessages(sql, 'CMP-2026-000042', [message], routes);

    const dispatcher = createDispatcher({
      sql,
      transports: { mail: { mailer, from: 'pledge@isp.example' }, webhook: { sender: createWebhookSender({ secretFor: (url) => staffWebhookSecret(routes, url) }) } },
      log: () => {},
    });
    while ((await dispatcher.drainOnce()) > 0);

    expect((await listStaffNotifications(sql, { role: 'supervisor', includeScheduled: false, limit: 10 })).map((n) => n.caseId)).toEqual(['CMP-2026-000042']);
    expect(smtp.received.map((mail) => mail.envelopeTo[0]).sort()).toEqual(['duty@isp.example', 'noc-lead@isp.example']);
    expect(smtp.received[0]!.headers.get('subject')).toBe(message.subject);
    expect(hooked).toHaveLength(1);
    const payload = JSON.parse(hooked[0]!.body);
    expect(payload).toMatchObject({ text: expect.stringContaining(message.subject), pledge: { role: 'supervisor', kind: 'sla.warning', caseId: 'CMP-2026-000042' } });
    expect(hooked[0]!.headers['x-pledge-signature']).toBe(webhookSignature(secret, String(hooked[0]!.headers['x-pledge-timestamp']), hooked[0]!.body));
    const rows = await sql`select channel, status from notifications where staff_role = 'supervisor' order by channel, recipient`;
    expect(rows.map((row) => [row.channel, row.status])).toEqual([
      ['email', 'delivered'],
      ['email', 'delivered'],
      ['webhook', 'delivered'],
    ]);
  });

  it('C9: a warning held by quiet hours is paged only when they end', async () => {
    const routes = parseStaffRoutes(JSON.stringify({ supervisor: { email: ['night@isp.example'] } }));
    await queueStaffMessages(sql, 'CMP-2026-000043', [warning('complaint-CMP-2026-000043:warn', new Date(Date.now() + 3_600_000).toISOString())], routes);
    const dispatcher = createDispatcher({ sql, transports: { mail: { mailer, from: 'pledge@isp.example' } }, log: () => {} });
    expect(await dispatcher.drainOnce()).toBe(0);
    await sql`update notifications set not_before = now() where recipient = 'night@isp.example'`;
    expect(await dispatcher.drainOnce()).toBe(1);
    expect(smtp.received.filter((mail) => mail.envelopeTo.includes('night@isp.example'))).toHaveLength(1);
  });
});
