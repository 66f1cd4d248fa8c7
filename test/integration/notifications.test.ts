import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../db/migrate';
import type { NotificationRequest } from '../../domain/messages';
import { renderNotification } from '../../domain/notification-templates';
import { createDispatcher, createMailer, enqueueNotification, messageIdFor, type Dispatcher, type DispatcherDeps, type Mailer } from '../../notifications';
import { startEphemeralPostgres, type RunningPostgres } from '../../scripts/toolchain/postgres';

const postgresPort = 55432;
const mailFrom = 'Pledge <care@pledge.example>';
const rejectedAddress = 'nobody@bounce.example';

interface ReceivedMail {
  envelopeTo: string[];
  headers: Map<string, string>;
  body: string;
}

let database: RunningPostgres;
let sql: postgres.Sql;
let smtp: SMTPServer;
let mailer: Mailer;
const received: ReceivedMail[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  database = await startEphemeralPostgres(postgresPort);
  await migrate(database.url);
  sql = postgres(database.url, { onnotice: () => {} });
  // Until the migration carries the dispatcher's lease column; a no-op once it does.
  await sql`
    insert into customers (id, name, email, channels, locale, plan, region) values
      ('cust-en', 'Li Wei', 'li.wei@example.test', '{inbox,email}', 'en', 'home-100', 'sh'),
      ('cust-zh-inbox', '张伟', 'zhang.wei@example.test', '{inbox}', 'zh-CN', 'home-100', 'sh'),
      ('cust-zh-email', '王芳', 'wang.fang@example.test', '{inbox,email}', 'zh-Hans', 'home-100', 'sh'),
      ('cust-bounce', 'Bounce', ${rejectedAddress}, '{inbox,email}', 'en-US', 'home-100', 'sh')
  `;
  smtp = startSmtpSink();
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  mailer = createMailer(`smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`);
});

afterAll(async () => {
  mailer?.close();
  await sql?.end();
  await new Promise<void>((resolve) => (smtp ? smtp.close(resolve) : resolve()));
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
  it('delivers each e-mail once, in the customer locale, and marks inbox rows sent', async () => {
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
        expect(row).toMatchObject({ status: 'sent', attempts: 1, last_error: null });
        expect(row.sent_at).toBeInstanceOf(Date);
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
      await waitFor(async () => (await rowsFor(request)).every((row) => row.status === 'sent'), 5_000);
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
      for (const row of await rowsFor(request)) expect(row).toMatchObject({ status: 'sent', attempts: 1 });
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

    expect((await rowsFor(free)).map((row) => row.status)).toEqual(['sent', 'sent']);
    expect((await rowsFor(beingClaimed)).map((row) => row.status)).toEqual(['pending', 'pending']);
    expect(await dispatcher.drainOnce()).toBe(2);
    expect(mailsFor(beingClaimed)).toHaveLength(1);
  });

  it('retries a rejected e-mail after the retry delay, then gives up after maxAttempts', async () => {
    const request = complaintReceived('cust-bounce');
    await enqueueNotification(sql, request);
    const dispatcher = createDispatcher(dispatcherDeps({ maxAttempts: 2, retryDelayMs: 0 }));
    const patientDispatcher = createDispatcher(dispatcherDeps({ maxAttempts: 2, retryDelayMs: 60_000 }));

    await dispatcher.drainOnce();
    let email = await emailRowFor(request);
    expect(email).toMatchObject({ status: 'pending', attempts: 1 });
    expect(email.last_error).toMatch(/mailbox unavailable/);
    expect((await rowsFor(request)).find((row) => row.channel === 'inbox')?.status).toBe('sent');

    expect(await patientDispatcher.drainOnce()).toBe(0);

    expect(await dispatcher.drainOnce()).toBe(1);
    email = await emailRowFor(request);
    expect(email).toMatchObject({ status: 'failed', attempts: 2 });
    expect(email.last_error).toMatch(/mailbox unavailable/);

    expect(await dispatcher.drainOnce()).toBe(0);
    expect(mailsFor(request)).toEqual([]);
    expect(logLines.some((line) => line.includes('failed for good'))).toBe(true);
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

    expect(await emailRowFor(abandoned)).toMatchObject({ status: 'sent', attempts: 2 });
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
  return { sql, mailer, mailFrom, log: (line) => logLines.push(line), ...overrides };
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

/** A real SMTP server on loopback that keeps every message and refuses one address. */
function startSmtpSink(): SMTPServer {
  return new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address === rejectedAddress) callback(new Error(`mailbox unavailable: ${address.address}`));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({ envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address), ...parseMessage(Buffer.concat(chunks).toString('utf8')) });
        callback();
      });
    },
  });
}

function parseMessage(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), decodeEncodedWords(line.slice(colon + 1).trim()));
  }
  const encodedBody = raw.slice(split + 4);
  const transferEncoding = headers.get('content-transfer-encoding')?.toLowerCase();
  const body = transferEncoding === 'base64' ? Buffer.from(encodedBody, 'base64').toString('utf8') : transferEncoding === 'quoted-printable' ? decodeQuotedPrintable(encodedBody) : encodedBody;
  return { headers, body };
}

function decodeEncodedWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
