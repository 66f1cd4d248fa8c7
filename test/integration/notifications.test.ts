import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../db/migrate';
import type { NotificationRequest } from '../../domain/messages';
import { renderNotification } from '../../domain/notification-templates';
import { createDispatcher, createMailer, enqueueNotification, messageIdFor, type Dispatcher, type DispatcherDeps, type Mailer } from '../../notifications';
import { startEphemeralPostgres, type RunningPostgres } from '../../scripts/toolchain/postgres';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp-sink';

const postgresPort = 55432;
const mailFrom = 'Pledge <care@pledge.example>';
const rejectedAddress = 'nobody@bounce.example';

let database: RunningPostgres;
let sql: postgres.Sql;
let smtp: SmtpSink;
let mailer: Mailer;
let received: ReceivedMail[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  database = await startEphemeralPostgres(postgresPort);
  await migrate(database.url);
  sql = postgres(database.url, { onnotice: () => {} });
  const consent = sql.json({ granted: true, recordedAt: '2026-01-01T00:00:00Z', source: 'test' });
  await sql`
    insert into customers (id, name, email, phone, channels, consents, locale, plan, region) values
      ('cust-en', 'Li Wei', 'li.wei@example.test', null, '{email,inbox}', jsonb_build_object('email', ${consent}::jsonb), 'en', 'home-100', 'sh'),
      ('cust-zh-inbox', '张伟', 'zhang.wei@example.test', null, '{inbox}', '{}', 'zh-CN', 'home-100', 'sh'),
      ('cust-zh-email', '王芳', 'wang.fang@example.test', null, '{inbox,email}', jsonb_build_object('email', ${consent}::jsonb), 'zh-Hans', 'home-100', 'sh'),
      ('cust-bounce', 'Bounce', ${rejectedAddress}, null, '{inbox,email}', jsonb_build_object('email', ${consent}::jsonb), 'en-US', 'home-100', 'sh'),
      ('cust-no-consent', 'No Consent', 'no.consent@example.test', null, '{email,inbox}', jsonb_build_object('email', jsonb_build_object('granted', false, 'recordedAt', '2026-01-01T00:00:00Z', 'source', 'test')), 'en', 'home-100', 'sh'),
      ('cust-sms-first', 'Sms First', 'sms.first@example.test', '+8613800138000', '{sms,email,inbox}',
        jsonb_build_object('sms', ${consent}::jsonb, 'email', ${consent}::jsonb), 'en', 'home-100', 'sh')
  `;
  smtp = await startSmtpSink({ refuse: (address) => address === rejectedAddress });
  received = smtp.received;
  mailer = createMailer(smtp.url);
});

afterAll(async () => {
  mailer?.close();
  await sql?.end();
  await smtp?.stop();
  await database?.stop();
});

describe('enqueueNotification', () => {
  it('queues one row per channel of the customer, in their locale, once per key', async () => {
    const request = complaintReceived('cust-en');
    expect(await enqueueNotification(sql, request)).toEqual({ queued: 2 });
    expect(await enqueueNotification(sql, request)).toEqual({ queued: 0 });

    const rows = await rowsFor(request);
    expect(rows.map((row) => [row.channel, row.recipient, row.locale, row.status])).toEqual([
      ['email', 'li.wei@example.test', 'en', 'pending'],
      ['inbox', null, 'en', 'pending'],
    ]);
    expect(rows[0]?.subject).toBe(`We have received your complaint (case ${request.params.caseId})`);
    expect(rows[0]?.case_id).toBe(request.caseId);
  });

  it('D4: queues only the inbox when the customer chose e-mail but withdrew consent to it', async () => {
    const request = complaintReceived('cust-no-consent');
    expect(await enqueueNotification(sql, request)).toEqual({ queued: 1 });
    expect((await rowsFor(request)).map((row) => row.channel)).toEqual(['inbox']);
  });

  it('queues only the inbox when the customer did not choose e-mail', async () => {
    const request = complaintReceived('cust-zh-inbox');
    expect(await enqueueNotification(sql, request)).toEqual({ queued: 1 });
    const rows = await rowsFor(request);
    expect(rows.map((row) => [row.channel, row.locale])).toEqual([['inbox', 'zh-CN']]);
    expect(rows[0]?.subject).toContain('我们已收到您的投诉');
  });

  it('queues nothing for a customer it does not know', async () => {
    const request = complaintReceived('cust-missing');
    expect(await enqueueNotification(sql, request)).toEqual({ queued: 0, skipped: 'unknown-customer' });
    expect(await rowsFor(request)).toEqual([]);
  });
});

describe('dispatcher', () => {
  it('delivers each e-mail once, in the customer locale, and marks inbox rows delivered', async () => {
    const english = complaintReceived('cust-en');
    const chinese = complaintReceived('cust-zh-email');
    const inboxOnly = complaintReceived('cust-zh-inbox');
    for (const request of [english, chinese, inboxOnly]) await enqueueNotification(sql, request);
    const dispatcher = createDispatcher(dispatcherDeps());

    expect(await dispatcher.drainOnce()).toBeGreaterThanOrEqual(5);

    const [englishMail, ...englishDuplicates] = mailsFor(english);
    expect(englishDuplicates).toEqual([]);
    expect(englishMail?.envelopeTo).toEqual(['li.wei@example.test']);
    expect(englishMail?.headers.get('subject')).toBe(renderNotification(english.templateId, 'en', english.params).subject);
    expect(englishMail?.headers.get('message-id')).toBe(messageIdFor(`${english.idempotencyKey}:email`));
    expect(englishMail?.headers.get('from')).toBe('Pledge <care@pledge.example>');
    expect(englishMail?.body).toContain(`Your case number is ${english.params.caseId}`);

    const [chineseMail, ...chineseDuplicates] = mailsFor(chinese);
    expect(chineseDuplicates).toEqual([]);
    expect(chineseMail?.headers.get('subject')).toBe(`我们已收到您的投诉（案件编号 ${chinese.params.caseId}）`);
    expect(chineseMail?.body).toContain(`案件编号为 ${chinese.params.caseId}`);

    expect(mailsFor(inboxOnly)).toEqual([]);
    for (const request of [english, chinese, inboxOnly]) {
      for (const row of await rowsFor(request)) {
        expect(row).toMatchObject({ status: 'delivered', attempts: 1, last_error: null });
        expect(row.delivered_at).toBeInstanceOf(Date);
      }
    }

    const mailCountAfterFirstDrain = received.length;
    expect(await dispatcher.drainOnce()).toBe(0);
    expect(received.length).toBe(mailCountAfterFirstDrain);
  });

  it('wakes on NOTIFY from a committed transaction without waiting for a poll', async () => {
    const dispatcher = createDispatcher(dispatcherDeps({ pollIntervalMs: 10 * 60_000 }));
    await dispatcher.start();
    try {
      const request = complaintReceived('cust-en');
      await sql.begin(async (tx) => {
        await enqueueNotification(tx, request);
        // A wake-up sent before commit would find nothing to claim, and no other would come.
        await new Promise((resolve) => setTimeout(resolve, 200));
      });
      await waitFor(() => mailsFor(request).length > 0, 5_000);
      await waitFor(async () => (await rowsFor(request)).every((row) => row.status === 'delivered'), 5_000);
      expect(mailsFor(request)).toHaveLength(1);
    } finally {
      await dispatcher.stop();
    }
  });

  it('never delivers an e-mail twice when two dispatchers drain at once', async () => {
    await drainAll(createDispatcher(dispatcherDeps()));
    const requests = Array.from({ length: 20 }, () => complaintReceived('cust-en'));
    for (const request of requests) await enqueueNotification(sql, request);
    const ownConnections = [postgres(database.url, { onnotice: () => {} }), postgres(database.url, { onnotice: () => {} })];
    try {
      const claimedByEach = await Promise.all(ownConnections.map((connection) => drainAll(createDispatcher(dispatcherDeps({ sql: connection, batchSize: 4 })))));
      expect(claimedByEach.every((claimed) => claimed > 0)).toBe(true);
      expect(claimedByEach[0]! + claimedByEach[1]!).toBe(40);
    } finally {
      await Promise.all(ownConnections.map((connection) => connection.end()));
    }
    for (const request of requests) {
      expect(mailsFor(request)).toHaveLength(1);
      for (const row of await rowsFor(request)) expect(row).toMatchObject({ status: 'delivered', attempts: 1 });
    }
  });

  it('skips rows another dispatcher is claiming instead of waiting for or taking them', async () => {
    const dispatcher = createDispatcher(dispatcherDeps());
    await drainAll(dispatcher);
    const beingClaimed = complaintReceived('cust-en');
    const free = complaintReceived('cust-en');
    for (const request of [beingClaimed, free]) await enqueueNotification(sql, request);

    await sql.begin(async (otherDispatcher) => {
      await otherDispatcher`select id from notifications where idempotency_key like ${`${beingClaimed.idempotencyKey}:%`} for update`;
      expect(await withTimeout(dispatcher.drainOnce(), 2_000)).toBe(2);
    });

    expect((await rowsFor(free)).map((row) => row.status)).toEqual(['delivered', 'delivered']);
    expect((await rowsFor(beingClaimed)).map((row) => row.status)).toEqual(['pending', 'pending']);
    expect(await dispatcher.drainOnce()).toBe(2);
    expect(mailsFor(beingClaimed)).toHaveLength(1);
  });

  it('retries a rejected e-mail after the retry delay, then gives up after maxAttempts', async () => {
    const request = complaintReceived('cust-bounce');
    await enqueueNotification(sql, request);
    const dispatcher = createDispatcher(dispatcherDeps({ maxAttempts: 2, retryDelayMs: 60_000 }));

    await dispatcher.drainOnce();
    let email = await emailRowFor(request);
    expect(email).toMatchObject({ status: 'pending', attempts: 1 });
    expect(email.last_error).toMatch(/mailbox unavailable/);
    expect(email.not_before.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect((await rowsFor(request)).find((row) => row.channel === 'inbox')?.status).toBe('delivered');

    expect(await dispatcher.drainOnce()).toBe(0);
    await sql`update notifications set not_before = now() where id = ${email.id}`;

    expect(await dispatcher.drainOnce()).toBe(1);
    email = await emailRowFor(request);
    expect(email).toMatchObject({ status: 'failed', attempts: 2 });
    expect(email.last_error).toMatch(/mailbox unavailable/);

    expect(await dispatcher.drainOnce()).toBe(0);
    expect(mailsFor(request)).toEqual([]);
    expect(logLines.some((line) => line.includes('failed for good'))).toBe(true);
  });

  it('records e-mail as not sent, never as sent, when no SMTP server is configured', async () => {
    const request = complaintReceived('cust-en');
    await enqueueNotification(sql, request);
    await drainAll(createDispatcher(dispatcherDeps({ transports: {} })));
    expect(await emailRowFor(request)).toMatchObject({ status: 'not-sent', sent_at: null, delivered_at: null });
    expect(mailsFor(request)).toEqual([]);
  });

  it('falls back to the next channel the customer chose when the first cannot be sent', async () => {
    const request = complaintReceived('cust-sms-first');
    await enqueueNotification(sql, request);
    expect((await rowsFor(request)).map((row) => [row.channel, row.fallbacks])).toEqual([
      ['inbox', []],
      ['sms', ['email']],
    ]);
    // No SMPP here: the SMS is not sent, and the e-mail fallback is queued and delivered.
    await drainAll(createDispatcher(dispatcherDeps()));
    expect((await rowsFor(request)).map((row) => [row.channel, row.status, row.recipient])).toEqual([
      ['email', 'delivered', 'sms.first@example.test'],
      ['inbox', 'delivered', null],
      ['sms', 'not-sent', '+8613800138000'],
    ]);
    expect(mailsFor(request)).toHaveLength(1);
  });

  it('O4: claims urgent messages first, but a message that waited past its class bound goes ahead of them', async () => {
    const dispatcher = createDispatcher(dispatcherDeps({ batchSize: 20 }));
    await drainAll(dispatcher);
    const urgent = Array.from({ length: 60 }, () => complaintReceived('cust-zh-inbox'));
    for (const request of urgent) await enqueueNotification(sql, request);
    await sql`update notifications set priority = 0 where idempotency_key like any(${urgent.map((request) => `${request.idempotencyKey}:%`)}::text[])`;
    const routine = complaintReceived('cust-zh-inbox');
    const waited = complaintReceived('cust-zh-inbox');
    for (const request of [routine, waited]) await enqueueNotification(sql, request);
    await sql`update notifications set priority = 2, not_before = now() - interval '10 seconds' where idempotency_key = ${`${routine.idempotencyKey}:inbox`}`;
    await sql`update notifications set priority = 2, not_before = now() - interval '301 seconds' where idempotency_key = ${`${waited.idempotencyKey}:inbox`}`;

    expect(await dispatcher.drainOnce()).toBe(20);
    expect((await rowsFor(waited))[0]?.status).toBe('delivered');
    expect((await rowsFor(routine))[0]?.status).toBe('pending');
    expect(await drainAll(dispatcher)).toBe(60 - 19 + 1);
    expect((await rowsFor(routine))[0]?.status).toBe('delivered');
  });

  it('re-sends a row abandoned mid-send only after its lease expires, under the same Message-ID', async () => {
    const abandoned = complaintReceived('cust-en');
    const inProgress = complaintReceived('cust-en');
    for (const request of [abandoned, inProgress]) await enqueueNotification(sql, request);
    await sql`update notifications set status = 'sent', sent_at = now() where idempotency_key in ${sql([`${abandoned.idempotencyKey}:inbox`, `${inProgress.idempotencyKey}:inbox`])}`;
    // A dispatcher that sent the first message and then died before marking it sent,
    // and one that is still busy with the second.
    const abandonedRow = await emailRowFor(abandoned);
    await mailer.sendMail({ from: mailFrom, to: abandonedRow.recipient!, subject: abandonedRow.subject, text: abandonedRow.body, messageId: messageIdFor(abandonedRow.idempotency_key) });
    await sql`update notifications set status = 'sending', attempts = 1, claimed_at = now() - interval '1 hour' where id = ${abandonedRow.id}`;
    await sql`update notifications set status = 'sending', attempts = 1, claimed_at = now() where id = ${(await emailRowFor(inProgress)).id}`;

    expect(await createDispatcher(dispatcherDeps({ leaseMs: 60_000 })).drainOnce()).toBe(1);

    expect(await emailRowFor(abandoned)).toMatchObject({ status: 'delivered', attempts: 2 });
    const deliveries = mailsFor(abandoned);
    expect(deliveries).toHaveLength(2);
    expect(new Set(deliveries.map((mail) => mail.headers.get('message-id')))).toEqual(new Set([messageIdFor(`${abandoned.idempotencyKey}:email`)]));
    expect(await emailRowFor(inProgress)).toMatchObject({ status: 'sending', attempts: 1 });
    expect(mailsFor(inProgress)).toEqual([]);
  });
});

let requestCounter = 0;
function complaintReceived(customerId: string): NotificationRequest {
  requestCounter += 1;
  const caseId = `C-2026-${String(requestCounter).padStart(6, '0')}`;
  return {
    idempotencyKey: `complaint-${caseId}:1`,
    customerId,
    caseId,
    templateId: 'complaint.received',
    params: { caseId, summary: `Broadband down (${caseId})` },
  };
}

/** Drains until nothing is left to claim; returns how many rows this dispatcher claimed. */
async function drainAll(dispatcher: Dispatcher): Promise<number> {
  let claimed = 0;
  for (let batch = await dispatcher.drainOnce(); batch > 0; batch = await dispatcher.drainOnce()) claimed += batch;
  return claimed;
}

function dispatcherDeps(overrides: Partial<DispatcherDeps> = {}): DispatcherDeps {
  return { sql, transports: { mail: { mailer, from: mailFrom } }, log: (line) => logLines.push(line), ...overrides };
}

interface NotificationRow {
  id: string;
  idempotency_key: string;
  case_id: string | null;
  channel: string;
  recipient: string | null;
  locale: string;
  subject: string;
  body: string;
  status: string;
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  not_before: Date;
  fallbacks: string[];
}

async function rowsFor(request: NotificationRequest): Promise<NotificationRow[]> {
  return sql<NotificationRow[]>`
    select * from notifications where idempotency_key like ${`${request.idempotencyKey}:%`} order by channel
  `;
}

async function emailRowFor(request: NotificationRequest): Promise<NotificationRow> {
  const email = (await rowsFor(request)).find((row) => row.channel === 'email');
  if (!email) throw new Error(`no e-mail row queued for ${request.idempotencyKey}`);
  return email;
}

function mailsFor(request: NotificationRequest): ReceivedMail[] {
  const messageId = messageIdFor(`${request.idempotencyKey}:email`);
  return received.filter((mail) => mail.headers.get('message-id') === messageId);
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
