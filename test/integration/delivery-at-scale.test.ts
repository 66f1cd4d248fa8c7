import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactColumns, contactOf, findCustomerContact, type ContactRow, type CustomerContact } from '../../db/customers';
import { migrate } from '../../db/migrate';
import { insertNotifications } from '../../db/notifications';
import { priorityClasses } from '../../domain/channels';
import { createDispatcher, createMailer, messageIdFor, notificationRows, type BatchNotificationRequest, type Dispatcher } from '../../notifications';
import { createReceiptRecorder } from '../../notifications/receipts';
import { createSmppSender } from '../../notifications/sms';
import { startEphemeralPostgres } from '../../scripts/toolchain/postgres';
import { seedCustomer } from '../support/database';
import { eventually, seedRegion } from '../support/incidents';
import { startSmppSink, type SmppSink } from '../support/smpp-sink';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { Teardown } from '../support/teardown';

// The outbox end to end at a few thousand customers: one dispatcher over a real Postgres, a real
// SMTP server and a real SMSC, an outage notice per customer on the inbox and their external
// channel, each delivered exactly once (SMS by its receipts), and a routine message behind them.

const postgresPort = 55462;
const customerCount = 3000;
const region = 'delivery-scale';
const prefix = 'scale';
const publicUrl = 'https://pledge.example/care';
const mailFrom = 'Pledge <care@pledge.example>';
const pageSize = 1000;
/** Numbers the SMSC cannot reach: their receipts say UNDELIV. */
const unreachable = '86137';

const teardown = new Teardown();
let sql: postgres.Sql;
let smtp: SmtpSink;
let smsc: SmppSink;
let dispatcher: Dispatcher;
const dispatcherLog: string[] = [];

interface OutboxRow {
  idempotency_key: string;
  customer_id: string;
  channel: string;
  recipient: string | null;
  subject: string;
  body: string;
  status: string;
  last_error: string | null;
  provider_ids: string[];
  created_at: Date;
  delivered_at: Date | null;
}

beforeAll(async () => {
  const database = await teardown.add(startEphemeralPostgres(postgresPort), (pg) => pg.stop());
  await migrate(database.url);
  sql = await teardown.add(Promise.resolve(postgres(database.url, { onnotice: () => {} })), (pool) => pool.end());
  await seedRegion(sql, prefix, region, customerCount, { sms: true });
  smtp = await teardown.add(startSmtpSink(), (sink) => sink.stop());
  // A few throttled submits on the way: the sender resubmits them, the customer gets one message.
  smsc = await teardown.add(startSmppSink({ throttleFirst: 5, undeliverable: (to) => to.startsWith(unreachable) }), (sink) => sink.stop());
  const mailer = await teardown.add(Promise.resolve(createMailer(smtp.url)), (created) => created.close());
  const sms = await teardown.add(
    Promise.resolve(
      createSmppSender({
        url: smsc.url,
        senderId: 'Pledge',
        onReceipt: createReceiptRecorder(sql),
        throttleBackoffMs: { initial: 20, max: 200 },
        log: { warn: () => undefined, error: (fields, message) => dispatcherLog.push(`${message} ${JSON.stringify(fields)}`) },
      }),
    ),
    (sender) => sender.close(),
  );
  dispatcher = createDispatcher({ sql, transports: { mail: { mailer, from: mailFrom }, sms: { sender: sms } }, lanes: 4, batchSize: 200, log: (line) => dispatcherLog.push(line) });
  await teardown.add(dispatcher.start(), () => dispatcher.stop());
});

afterAll(() => teardown.run());

/** Every customer of the region, a page at a time, by id. */
async function* customerPages(region: string): AsyncGenerator<CustomerContact[]> {
  for (let after = ''; ;) {
    const rows = await sql<ContactRow[]>`
      select ${sql.unsafe(contactColumns)} from customers c where c.region = ${region} and c.id > ${after} order by c.id limit ${pageSize}`;
    if (rows.length === 0) return;
    yield rows.map(contactOf);
    after = rows.at(-1)!.id;
  }
}

function outageNotice(caseId: string, customer: CustomerContact): BatchNotificationRequest {
  return {
    idempotencyKey: `incident-${caseId}:notice:${customer.id}`,
    customer,
    caseId,
    templateId: 'incident.outage-notice',
    params: { caseId, title: 'Broadband outage in the test region', startedAt: '2026-03-02 09:15', message: 'A fibre trunk is down; engineers are on their way.' },
  };
}

async function queue(requests: readonly BatchNotificationRequest[]): Promise<number> {
  return insertNotifications(sql, notificationRows(requests, { publicUrl }));
}

const openStatuses = ['pending', 'sending', 'sent'];

/** Until nothing is waiting to be sent or for its receipt. */
async function settled(): Promise<void> {
  const [open] = await eventually(
    () => sql<{ count: number }[]>`select count(*)::int as count from notifications where status = any(${openStatuses})`,
    ([row]) => row!.count === 0,
    45_000,
    50,
  );
  expect(open!.count, `rows still open; dispatcher log:\n${dispatcherLog.join('\n')}`).toBe(0);
}

const rowsLike = (keyPattern: string) =>
  sql<OutboxRow[]>`
    select idempotency_key, customer_id, channel, recipient, subject, body, status, last_error, provider_ids, created_at, delivered_at
    from notifications where idempotency_key like ${keyPattern} order by id`;

/** Map.groupBy, which Node 20 lacks. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** SMPP destinations are E.164 digits without the '+'. */
const digits = (phone: string) => phone.replace(/^\+/, '');

describe('delivery at scale', () => {
  it(`O4, N3: ${customerCount} outage notices reach every customer on the inbox and their own channel, each once; a routine message still gets through`, async () => {
    const caseId = 'INC-2026-000001';
    let queued = 0;
    for await (const page of customerPages(region)) queued += await queue(page.map((customer) => outageNotice(caseId, customer)));
    // Routine (priority 2), queued behind every notice, for a customer with e-mail.
    const reminderFor = (await findCustomerContact(sql, `${prefix}-000002`))!;
    queued += await queue([
      {
        idempotencyKey: 'complaint-CMP-2026-000001:info-reminder-7',
        customer: reminderFor,
        caseId: 'CMP-2026-000001',
        templateId: 'complaint.info-reminder',
        params: { caseId: 'CMP-2026-000001', message: 'The address where the fault occurs.', days: '10' },
      },
    ]);

    await settled();

    const notices = await rowsLike(`incident-${caseId}:notice:%`);
    const [customers] = await sql<{ email: number; sms: number }[]>`
      select count(*) filter (where channels[1] = 'email')::int as email, count(*) filter (where channels[1] = 'sms')::int as sms
      from customers where region = ${region}`;
    expect(queued).toBe(notices.length + 2);
    // Every 3rd customer prefers SMS; of the rest, every 2nd has e-mail.
    expect(customers).toEqual({ email: 1000, sms: 1000 });
    const byChannel = (channel: string) => notices.filter((row) => row.channel === channel);
    expect([byChannel('inbox').length, byChannel('email').length, byChannel('sms').length]).toEqual([customerCount, customers!.email, customers!.sms]);
    expect(notices.filter((row) => row.status !== 'delivered' || row.delivered_at === null)).toEqual([]);
    expect(new Set(byChannel('inbox').map((row) => row.customer_id)).size).toBe(customerCount);

    // E-mail: one mail per row, under the row's Message-ID, to its address.
    const mailsById = groupBy(smtp.received, (mail) => mail.headers.get('message-id') ?? '');
    const emailRows = (await rowsLike('%:email')).filter((row) => row.status === 'delivered');
    expect(smtp.received).toHaveLength(emailRows.length);
    for (const row of emailRows) {
      const mails = mailsById.get(messageIdFor(row.idempotency_key)) ?? [];
      expect(mails.map((mail) => mail.envelopeTo)).toEqual([[row.recipient]]);
    }

    // SMS: one whole message per row (every part once), as the row's text, settled by the receipts of its parts.
    const smsRows = byChannel('sms');
    const messagesTo = groupBy(smsc.received, (message) => message.to);
    expect(smsc.received).toHaveLength(smsRows.length);
    expect(smsc.partsWaiting).toBe(0);
    for (const row of smsRows) {
      const messages = messagesTo.get(digits(row.recipient!)) ?? [];
      expect(messages.map((message) => ({ text: message.text, messageIds: message.messageIds }))).toEqual([{ text: `${row.subject}\n${row.body}`, messageIds: row.provider_ids }]);
    }
    const parts = smsRows.reduce((sum, row) => sum + row.provider_ids.length, 0);
    expect(parts).toBeGreaterThan(smsRows.length); // long enough to be concatenated
    expect(smsc.submits).toBe(parts + smsc.throttled);
    expect(smsc.throttled).toBe(5);
    const [receipts] = await sql<{ count: number }[]>`select count(*)::int as count from notification_receipts where state = 'delivered'`;
    expect(receipts!.count).toBe(parts);

    // The routine message waited behind the urgent ones, within its class's bound.
    const reminder = await rowsLike('complaint-CMP-2026-000001:info-reminder-7:%');
    expect(reminder.map((row) => [row.channel, row.status])).toEqual([
      ['inbox', 'delivered'],
      ['email', 'delivered'],
    ]);
    const waitedMs = Math.max(...reminder.map((row) => row.delivered_at!.getTime() - row.created_at.getTime()));
    const lastNotice = Math.max(...notices.map((row) => row.delivered_at!.getTime()));
    console.info(`${notices.length} notice rows delivered within ${lastNotice - Math.min(...notices.map((row) => row.created_at.getTime()))} ms; the routine message waited ${waitedMs} ms`);
    expect(waitedMs).toBeLessThan((priorityClasses.routine.starvationBoundSeconds + 30) * 1000);
    expect(dispatcherLog).toEqual([]);
  });

  it('N3: an SMS whose receipt says UNDELIV fails, and the message goes out on the customer’s e-mail instead', async () => {
    await seedCustomer(sql, { id: 'undeliv-both', locale: 'zh-CN', phone: `+${unreachable}00000001`, email: 'undeliv-both@example.com', channels: ['sms', 'email', 'inbox'] });
    await seedCustomer(sql, { id: 'undeliv-sms-only', locale: 'zh-CN', phone: `+${unreachable}00000002`, channels: ['sms', 'inbox'] });
    const caseId = 'INC-2026-000002';
    const customers = await sql<ContactRow[]>`select ${sql.unsafe(contactColumns)} from customers c where c.id like 'undeliv-%' order by c.id`;
    const mailsBefore = smtp.received.length;
    const smsBefore = smsc.received.length;

    expect(await queue(customers.map((row) => outageNotice(caseId, contactOf(row))))).toBe(4);
    // Two inbox rows, two SMS rows and one fallback (none for the customer without e-mail), all
    // settled. Waiting for the fallback itself: it is queued a statement after its SMS row fails.
    const rows = await eventually(
      () => rowsLike(`incident-${caseId}:notice:%`),
      (found) => found.length === 5 && found.every((row) => !openStatuses.includes(row.status)),
      20_000,
      50,
    );
    const summary = rows.map((row) => [row.customer_id, row.channel, row.status]);
    expect(summary).toEqual(
      expect.arrayContaining([
        ['undeliv-both', 'sms', 'failed'],
        ['undeliv-both', 'email', 'delivered'],
        ['undeliv-sms-only', 'sms', 'failed'],
      ]),
    );
    expect(rows).toHaveLength(5);
    for (const row of rows.filter((row) => row.channel === 'sms')) {
      expect(row.last_error).toContain('UNDELIV');
      expect(row.delivered_at).toBeNull();
    }

    // The SMSC got each whole UCS-2 message once; the fallback mail went out once.
    const sent = smsc.received.slice(smsBefore);
    expect(sent.map((message) => message.to).sort()).toEqual([`${unreachable}00000001`, `${unreachable}00000002`]);
    const failedSms = rows.find((row) => row.customer_id === 'undeliv-both' && row.channel === 'sms')!;
    expect(sent.find((message) => message.to === digits(failedSms.recipient!))?.text).toBe(`${failedSms.subject}\n${failedSms.body}`);
    const fallback = rows.find((row) => row.channel === 'email')!;
    expect(fallback.idempotency_key).toBe(`incident-${caseId}:notice:undeliv-both:email`);
    expect(smtp.received.slice(mailsBefore).map((mail) => [mail.headers.get('message-id'), mail.envelopeTo])).toEqual([[messageIdFor(fallback.idempotency_key), ['undeliv-both@example.com']]]);
  });
});
