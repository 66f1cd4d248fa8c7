import { createHmac } from 'node:crypto';
import type { StaffNotificationRequest } from '../domain/messages';

/**
 * C9: staff messages sent to a generic JSON webhook (a chat or on-call tool's incoming webhook).
 *
 * Signing, when the route has a secret:
 *   x-pledge-timestamp: <unix seconds when sent>
 *   x-pledge-signature: sha256=<lower-case hex HMAC-SHA256(secret, `${timestamp}.${body}`)>
 * where `body` is the exact request body bytes (UTF-8 JSON). A receiver recomputes the HMAC over
 * the header's timestamp, a dot and the raw body, compares in constant time, and rejects
 * timestamps too far from its clock so a captured request cannot be replayed later.
 *
 * Every request carries `idempotency-key`, stable across retries of one outbox row, so a receiver
 * that honours it shows a message once however often the dispatcher retries.
 */

export interface WebhookMessage {
  url: string;
  idempotencyKey: string;
  payload: object;
}

export interface WebhookSenderOptions {
  /** The signing secret for a URL, or undefined to send unsigned. */
  secretFor(url: string): string | undefined;
  /** Whole request, response body included; defaults to 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface WebhookSender {
  send(message: WebhookMessage): Promise<{ status: number }>;
}

/**
 * Why a webhook send failed. `retryable` tells the dispatcher to try again later (408, 429, 5xx,
 * no answer in time, no connection); otherwise the receiver refused the request and the same
 * request will be refused again (a wrong URL or payload: fix the route). `status` is undefined
 * when no response came; `retryAfterMs` is the receiver's `Retry-After` on 429 and 503.
 */
export class WebhookRejected extends Error {
  override readonly name = 'WebhookRejected';
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, details: { retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.retryable = details.retryable;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

const defaultTimeoutMs = 10_000;

/** Sign `${timestamp}.${body}` as documented above. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const fetchFn = options.fetch ?? globalThis.fetch;

  return {
    async send({ url, idempotencyKey, payload }) {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        throw new WebhookRejected('webhook URL is not a valid URL; fix the staff route', { retryable: false });
      }
      // Incoming-webhook URLs often hold their own secret in the path: messages name the origin only.
      const where = `webhook ${target.origin}`;

      const body = JSON.stringify(payload);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': idempotencyKey, 'user-agent': 'pledge' };
      const secret = options.secretFor(url);
      if (secret !== undefined) {
        const timestamp = String(Math.floor(Date.now() / 1000));
        headers['x-pledge-timestamp'] = timestamp;
        headers['x-pledge-signature'] = webhookSignature(secret, timestamp, body);
      }

      const signal = AbortSignal.timeout(timeoutMs);
      let response: Response;
      let responseText: string;
      try {
        // A redirect would resend the signed body somewhere unconfigured (and turn POST into GET): refuse it.
        response = await fetchFn(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
        responseText = await response.text();
      } catch (error) {
        const timedOut = signal.aborted || (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'));
        const reason = timedOut ? `no answer within ${timeoutMs} ms` : `unreachable (${describeNetworkError(error)})`;
        throw new WebhookRejected(`${where}: ${reason}; will retry`, { retryable: true, cause: error });
      }

      const { status } = response;
      if (status >= 200 && status < 300) return { status };

      const excerpt = responseText.trim().slice(0, 200);
      const answered = `${where} answered ${status}${excerpt ? `: ${excerpt}` : ''}`;
      if (isRetryableStatus(status)) {
        const delayMs = status === 429 || status === 503 ? retryAfterMs(response.headers.get('retry-after'), Date.now()) : undefined;
        throw new WebhookRejected(`${answered}; will retry`, { retryable: true, status, ...(delayMs === undefined ? {} : { retryAfterMs: delayMs }) });
      }
      const advice = status >= 300 && status < 400 ? 'configure the final URL, redirects are not followed' : 'check the staff route URL and the receiver';
      throw new WebhookRejected(`${answered}; not retried: ${advice}`, { retryable: false, status });
    },
  };
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) return (cause as Error & { code?: string }).code ?? cause.message;
  return error.message;
}

export interface StaffWebhookMessage {
  role: StaffNotificationRequest['role'];
  kind: string;
  caseId: string;
  subject: string;
  body: string;
  occurredAt: string;
  /** Where staff open the case. */
  url?: string;
}

/**
 * The JSON body for a staff message: `text` for Slack-compatible incoming webhooks (Slack,
 * Mattermost, Rocket.Chat…), `pledge` with the fields for tools that map their own.
 */
export interface StaffWebhookPayload {
  text: string;
  pledge: StaffWebhookMessage;
}

/**
 * Slack reads `<…>` in `text` as links and mentions (`<!channel>`), and subjects can quote
 * customers, so `&`, `<` and `>` are escaped there as Slack asks; `pledge` keeps the raw text.
 */
function escapeChatText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function staffWebhookPayload(message: StaffWebhookMessage): StaffWebhookPayload {
  const { role, kind, caseId, subject, body, occurredAt, url } = message;
  return {
    text: escapeChatText(`${subject}\n${body}`),
    pledge: { role, kind, caseId, subject, body, occurredAt, ...(url === undefined ? {} : { url }) },
  };
}
