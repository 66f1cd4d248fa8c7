import pLimit, { type LimitFunction } from 'p-limit';
import type postgres from 'postgres';
import { priorityClasses } from '../domain/channels';
import { claimNotifications, outboxChannel, recordDeliveryOutcomes, settleWaitingMessages, type ClaimedNotification, type DeliveryOutcome, type NotificationChannel } from '../db/notifications';
import type { Mailer } from './mailer';
import type { SmsSender } from './sms';
import { staffWebhookPayload, WebhookRejected, type WebhookSender } from './webhook';

// Exactly once, as far as the dispatcher can make it so:
// - a batch is claimed in one statement with FOR UPDATE SKIP LOCKED, so concurrent lanes and
//   dispatchers never claim the same row, and each claim bumps `attempts`, which then fences that
//   claim's writes (its outcomes are recorded in one statement per batch);
// - a dispatcher that dies between sending and recording leaves the row 'sending'; it is sent
//   again only after its lease expires, under the same Message-ID / idempotency key (derived from
//   the row's key), so the receiving side can drop the duplicate.
// A channel without a configured transport records its rows as 'not-sent', never as sent, and
// the message falls back to the customer's next channel.

export type DispatcherLog =
  | ((message: string) => void)
  | {
      warn(fields: object, message: string): void;
      error(fields: object, message: string): void;
    };

export interface ChannelTransports {
  /** `SMTP_URL`: e-mail to customers and to staff role addresses. */
  mail?: { mailer: Pick<Mailer, 'sendMail'>; from: string; concurrency?: number };
  /** `SMPP_URL`: SMS; delivery comes later by receipt. */
  sms?: { sender: Pick<SmsSender, 'send'>; concurrency?: number };
  /** Staff pages to chat or on-call tools (PLEDGE_STAFF_ROUTES). */
  webhook?: { sender: WebhookSender; concurrency?: number };
}

export interface DispatcherDeps {
  sql: postgres.Sql;
  transports: ChannelTransports;
  /** Safety net for a missed NOTIFY (e.g. while the listen connection was reconnecting). */
  pollIntervalMs?: number;
  batchSize?: number;
  /** Batches in flight at once; each claims, sends and records its own. */
  lanes?: number;
  /** A 'sending' row older than this is presumed abandoned. Must outlast a whole batch of sends. */
  leaseMs?: number;
  /** A failed row is tried again no sooner than this (unless the channel asked for longer). */
  retryDelayMs?: number;
  maxAttempts?: number;
  log?: DispatcherLog;
}

export interface Dispatcher {
  /** Resolves once LISTEN is active (or has failed, in which case polling still runs). */
  start(): Promise<void>;
  /** Stops listening and polling, then waits for the batches in flight. */
  stop(): Promise<void>;
  /** Claims and delivers one batch; returns how many rows it claimed. */
  drainOnce(): Promise<number>;
}

/** RFC 5322 allows only "atext" before the @; anything else in a key is percent-encoded. */
export function messageIdFor(idempotencyKey: string): string {
  const localPart = [...new TextEncoder().encode(idempotencyKey)]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9_-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
  return `<${localPart}@pledge>`;
}

/** What one send produced, before the claim's fencing fields are added. */
type SendResult = Pick<DeliveryOutcome, 'status' | 'providerIds'>;

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { sql, transports } = deps;
  const pollIntervalMs = deps.pollIntervalMs ?? 5_000;
  const batchSize = deps.batchSize ?? 200;
  const lanes = deps.lanes ?? 4;
  // The transports' own timeouts bound one send to well under a minute; a batch runs its sends
  // concurrently, so the lease outlasts it many times over.
  const leaseMs = deps.leaseMs ?? 15 * 60_000;
  const retryDelayMs = deps.retryDelayMs ?? 60_000;
  const maxAttempts = deps.maxAttempts ?? 5;
  const log = toLogger(deps.log);
  const limits: Record<NotificationChannel, LimitFunction> = {
    inbox: pLimit(Number.POSITIVE_INFINITY),
    email: pLimit(transports.mail?.concurrency ?? 8),
    sms: pLimit(transports.sms?.concurrency ?? 16),
    webhook: pLimit(transports.webhook?.concurrency ?? 4),
  };
  const starvationBoundSeconds = { 1: priorityClasses.case.starvationBoundSeconds, 2: priorityClasses.routine.starvationBoundSeconds };

  let running = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let listening: Promise<postgres.ListenMeta | undefined> | undefined;
  const lanesInFlight = new Set<Promise<void>>();
  let wokenDuringDrain = false;

  async function drainOnce(): Promise<number> {
    const claimed = await claimNotifications(sql, { batchSize, leaseMs, starvationBoundSeconds });
    if (claimed.length === 0) return 0;
    const outcomes = await Promise.all(claimed.map((row) => limits[row.channel](() => deliver(row))));
    await recordDeliveryOutcomes(sql, outcomes);
    return claimed.length;
  }

  async function deliver(row: ClaimedNotification): Promise<DeliveryOutcome> {
    const fence = { id: row.id, attempts: row.attempts };
    if (row.attempts > maxAttempts) {
      // Only a row whose lease expired gets here: its last attempt never reported back.
      return failed(row, `gave up after ${maxAttempts} attempts; the last one did not finish within the lease`);
    }
    try {
      return { ...fence, ...(await send(row)) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const permanent = error instanceof WebhookRejected && !error.retryable;
      if (permanent || row.attempts >= maxAttempts) return failed(row, reason);
      log.warn({ notificationId: row.id, channel: row.channel, attempts: row.attempts, reason }, 'notification delivery failed; will retry');
      const asked = error instanceof WebhookRejected ? error.retryAfterMs : undefined;
      return { ...fence, status: 'pending', error: reason, retryAfterMs: Math.max(retryDelayMs, asked ?? 0) };
    }
  }

  function failed(row: ClaimedNotification, reason: string): DeliveryOutcome {
    log.error({ notificationId: row.id, channel: row.channel, attempts: row.attempts, reason }, 'notification delivery failed for good');
    return { id: row.id, attempts: row.attempts, status: 'failed', error: reason };
  }

  function notSent(row: ClaimedNotification, setting: string): SendResult {
    // Ids only: recipients and texts are personal data and stay out of the logs.
    log.warn({ notificationId: row.id, channel: row.channel, caseId: row.case_id, template: row.template }, `${row.channel} not sent: ${setting} is unset`);
    return { status: 'not-sent' };
  }

  async function send(row: ClaimedNotification): Promise<SendResult> {
    switch (row.channel) {
      // The inbox is the notifications table itself, which the user reads on their tracking page.
      case 'inbox':
        return { status: 'delivered' };
      case 'email': {
        if (!transports.mail) return notSent(row, 'SMTP_URL');
        if (!row.recipient) throw new Error('e-mail notification has no recipient address');
        const messageId = messageIdFor(row.idempotency_key);
        await transports.mail.mailer.sendMail({ from: transports.mail.from, to: row.recipient, subject: row.subject, text: row.body, messageId });
        // The SMTP server accepted it for the recipient: as far as SMTP can tell, delivered.
        return { status: 'delivered', providerIds: [messageId] };
      }
      case 'sms': {
        if (!transports.sms) return notSent(row, 'SMPP_URL');
        if (!row.recipient) throw new Error('SMS notification has no phone number');
        const sent = await transports.sms.sender.send({ to: row.recipient, text: `${row.subject}\n${row.body}`, reference: row.idempotency_key });
        return { status: 'sent', providerIds: sent.messageIds };
      }
      case 'webhook': {
        if (!transports.webhook) return notSent(row, 'PLEDGE_STAFF_ROUTES');
        if (!row.recipient) throw new Error('webhook notification has no URL');
        const payload = staffWebhookPayload({
          role: (row.staff_role ?? 'supervisor') as 'agent' | 'supervisor',
          kind: row.template,
          caseId: row.case_id ?? '',
          subject: row.subject,
          body: row.body,
          occurredAt: row.created_at.toISOString(),
        });
        await transports.webhook.sender.send({ url: row.recipient, idempotencyKey: row.idempotency_key, payload });
        return { status: 'delivered' };
      }
    }
  }

  /** One lane: drains until a batch comes back short and nothing new arrived meanwhile. */
  async function drainUntilIdle(): Promise<void> {
    while (running) {
      wokenDuringDrain = false;
      const claimed = await drainOnce();
      if (claimed < batchSize && !wokenDuringDrain) return;
    }
  }

  let sweeping = false;
  /** Sent messages whose receipts are all in but which were never settled (a lost race, a crash) are settled here. */
  function sweepWaiting(): void {
    if (sweeping || !transports.sms) return;
    sweeping = true;
    settleWaitingMessages(sql, { olderThanSeconds: 30, limit: 1000 })
      .catch((error: unknown) => log.error({ err: error }, 'settling messages that wait for receipts failed; will retry on the next poll'))
      .finally(() => {
        sweeping = false;
      });
  }

  function wake(): void {
    if (!running) return;
    wokenDuringDrain = true;
    while (lanesInFlight.size < lanes) {
      const lane: Promise<void> = drainUntilIdle()
        .catch((error: unknown) => log.error({ err: error }, 'notification dispatch failed; will retry on the next poll'))
        .finally(() => lanesInFlight.delete(lane));
      lanesInFlight.add(lane);
    }
  }

  return {
    async start() {
      if (running) return;
      running = true;
      pollTimer = setInterval(() => {
        wake();
        sweepWaiting();
      }, pollIntervalMs);
      // onlisten also fires after a reconnect, when NOTIFYs may have been missed.
      listening = sql.listen(outboxChannel, wake, wake).catch((error: unknown) => {
        log.error({ err: error }, `could not LISTEN on ${outboxChannel}; falling back to polling`);
        return undefined;
      });
      await listening;
    },

    async stop() {
      running = false;
      clearInterval(pollTimer);
      const listener = await listening;
      listening = undefined;
      await listener?.unlisten();
      await Promise.all(lanesInFlight);
    },

    drainOnce,
  };
}

function toLogger(log: DispatcherLog | undefined): Exclude<DispatcherLog, (message: string) => void> {
  if (typeof log === 'object') return log;
  const write = log ?? console.error;
  const line = (fields: object, message: string) => write(`${message} ${JSON.stringify(fields, describeError)}`);
  return { warn: line, error: line };
}

function describeError(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}
