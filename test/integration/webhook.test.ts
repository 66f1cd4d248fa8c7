import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookSender, staffWebhookPayload, WebhookRejected } from '../../notifications/webhook';

const secret = 'a-signing-secret-of-32-characters';
const timeoutMs = 300;

interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver does per path; everything it receives is recorded. */
const behaviours: Record<string, (response: ServerResponse) => void> = {
  '/ok': (response) => response.writeHead(204).end(),
  '/accepted': (response) => response.writeHead(202, { 'content-type': 'text/plain' }).end('queued'),
  '/broken': (response) => response.writeHead(500, { 'content-type': 'text/plain' }).end('database down'),
  '/bad': (response) => response.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload'),
  '/gone': (response) => response.writeHead(404).end(),
  '/busy': (response) => response.writeHead(429, { 'retry-after': '7' }).end(),
  '/unavailable': (response) => response.writeHead(503, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() }).end(),
  '/moved': (response) => response.writeHead(301, { location: '/ok' }).end(),
  '/slow': (response) => {
    const reply = setTimeout(() => response.writeHead(204).end(), timeoutMs * 5);
    response.on('close', () => clearTimeout(reply));
  },
};

let server: Server;
let baseUrl: string;
const received: ReceivedRequest[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      received.push({ method: request.method ?? '', path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const behaviour = behaviours[path];
      if (behaviour) behaviour(response);
      else response.writeHead(418).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve, reject) => (server ? server.close((error) => (error ? reject(error) : resolve())) : resolve()));
});

beforeEach(() => {
  received.length = 0;
});

const signedSender = () => createWebhookSender({ secretFor: (url) => (url.startsWith(baseUrl) ? secret : undefined), timeoutMs });

const payload = staffWebhookPayload({
  role: 'supervisor',
  kind: 'breach',
  caseId: 'CMP-2026-000123',
  subject: 'Complaint CMP-2026-000123 breached its first response',
  body: 'Acknowledge it now; 48 h have passed. 网络中断',
  occurredAt: '2026-11-24T06:00:00.000Z',
  url: 'https://pledge.example/cases/CMP-2026-000123',
});

/** The error a send fails with; fails the test if it succeeds or throws something else. */
async function sendError(path: string, sender = signedSender()): Promise<WebhookRejected> {
  const error: unknown = await sender.send({ url: `${baseUrl}${path}`, idempotencyKey: `key-${path}`, payload }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(WebhookRejected);
  return error as WebhookRejected;
}

describe('webhook sender (C9)', () => {
  it('POSTs the JSON payload once, signed over the timestamp and the raw body', async () => {
    const beforeSeconds = Math.floor(Date.now() / 1000);
    const result = await signedSender().send({ url: `${baseUrl}/ok`, idempotencyKey: 'wf-1:7:supervisor:webhook', payload });

    expect(result).toEqual({ status: 204 });
    expect(received).toHaveLength(1);
    const [request] = received as [ReceivedRequest];
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['user-agent']).toBe('pledge');
    expect(request.headers['idempotency-key']).toBe('wf-1:7:supervisor:webhook');
    expect(JSON.parse(request.body)).toEqual(payload);

    // Verify as a receiver would: HMAC-SHA256(secret, `${timestamp}.${rawBody}`), hex, constant-time compare.
    const timestamp = String(request.headers['x-pledge-timestamp']);
    expect(Number(timestamp)).toBeGreaterThanOrEqual(beforeSeconds);
    expect(Number(timestamp)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`;
    const signature = String(request.headers['x-pledge-signature']);
    expect(signature).toBe(expected);
    expect(timingSafeEqual(Buffer.from(signature), Buffer.from(expected))).toBe(true);

    // The signature binds the body: a tampered body no longer matches.
    const tampered = `sha256=${createHmac('sha256', secret)
      .update(`${timestamp}.${request.body.replace('breach', 'warning')}`)
      .digest('hex')}`;
    expect(signature).not.toBe(tampered);
  });

  it('accepts any 2xx', async () => {
    await expect(signedSender().send({ url: `${baseUrl}/accepted`, idempotencyKey: 'k', payload })).resolves.toEqual({ status: 202 });
  });

  it('sends unsigned when the URL has no secret', async () => {
    const sender = createWebhookSender({ secretFor: () => undefined, timeoutMs });
    await sender.send({ url: `${baseUrl}/ok`, idempotencyKey: 'unsigned', payload });
    const [request] = received as [ReceivedRequest];
    expect(request.headers['x-pledge-signature']).toBeUndefined();
    expect(request.headers['x-pledge-timestamp']).toBeUndefined();
    expect(request.headers['idempotency-key']).toBe('unsigned');
  });

  it('marks a 500 retryable', async () => {
    const error = await sendError('/broken');
    expect(error).toMatchObject({ retryable: true, status: 500, retryAfterMs: undefined });
    expect(error.message).toContain('answered 500: database down');
  });

  it('marks a 400 permanent', async () => {
    const error = await sendError('/bad');
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(error.message).toContain('invalid_payload');
    expect((await sendError('/gone')).retryable).toBe(false);
  });

  it('passes on Retry-After of a 429 in seconds', async () => {
    expect(await sendError('/busy')).toMatchObject({ retryable: true, status: 429, retryAfterMs: 7000 });
  });

  it('passes on Retry-After of a 503 given as a date', async () => {
    const error = await sendError('/unavailable');
    expect(error).toMatchObject({ retryable: true, status: 503 });
    // Second resolution in the date, and a little time spent sending.
    expect(error.retryAfterMs).toBeGreaterThan(55_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('marks a receiver that does not answer in time retryable', async () => {
    const startedAt = Date.now();
    const error = await sendError('/slow');
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect(error.message).toContain(`no answer within ${timeoutMs} ms`);
    expect(Date.now() - startedAt).toBeLessThan(timeoutMs * 4);
  });

  it('marks a refused connection retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const sender = createWebhookSender({ secretFor: () => undefined, timeoutMs });
    const error: unknown = await sender.send({ url: `http://127.0.0.1:${port}/hook`, idempotencyKey: 'k', payload }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(WebhookRejected);
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect((error as Error).message).toContain('unreachable');
  });

  it('does not follow a redirect, and says so', async () => {
    const error = await sendError('/moved');
    expect(error).toMatchObject({ retryable: false, status: 301 });
    expect(received.map((request) => request.path)).toEqual(['/moved']);
    expect(error.message).toContain('redirects are not followed');
  });

  it('names only the origin in errors, never the secret path of the hook URL', async () => {
    const error = await sendError('/bad');
    expect(error.message).toContain(baseUrl);
    expect(error.message).not.toContain('/bad');
  });
});

describe('staff webhook payload', () => {
  it('carries Slack-compatible text and the structured fields', () => {
    expect(payload).toEqual({
      text: 'Complaint CMP-2026-000123 breached its first response\nAcknowledge it now; 48 h have passed. 网络中断',
      pledge: {
        role: 'supervisor',
        kind: 'breach',
        caseId: 'CMP-2026-000123',
        subject: 'Complaint CMP-2026-000123 breached its first response',
        body: 'Acknowledge it now; 48 h have passed. 网络中断',
        occurredAt: '2026-11-24T06:00:00.000Z',
        url: 'https://pledge.example/cases/CMP-2026-000123',
      },
    });
  });

  it('escapes Slack control characters in text only, and leaves out a missing url', () => {
    const message = staffWebhookPayload({ role: 'agent', kind: 'warning', caseId: 'CMP-1', subject: 'Customer wrote <!channel> & more', body: 'a > b', occurredAt: '2026-11-24T06:00:00.000Z' });
    expect(message.text).toBe('Customer wrote &lt;!channel&gt; &amp; more\na &gt; b');
    expect(message.pledge.subject).toBe('Customer wrote <!channel> & more');
    expect('url' in message.pledge).toBe(false);
  });
});
