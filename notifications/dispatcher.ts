import type postgres from 'postgres';
import { claimNotifications, markNotificationFailed, markNotificationRetry, markNotificationSent, outboxChannel, type ClaimedNotification } from '../db/notifications';
import type { Mailer } from './mailer';

// Exactly once, as far as the dispatcher can make it so:
// - a batch is claimed with FOR UPDATE SKIP LOCKED, so concurrent dispatchers never claim
//   the same row, and each claim bumps `attempts`, which then fences that claim's writes;
// - a dispatcher that dies between sending and marking 'sent' leaves the row 'sending';
//   it is sent again only after its lease expires, under the same Message-ID (derived from
//   the row's idempotency key), so the receiving side can drop the duplicate.

export type DispatcherLog =
  | ((message: string) => void)
  | {
      warn(fields: object, message: string): void;
      error(fields: object, message: string): void;
    };

export interface DispatcherDeps {
  sql: postgres.Sql;
  mailer: Pick<Mailer, 'sendMail'>;
  mailFrom: string;
  /** Safety net for a missed NOTIFY (e.g. while the listen connection was reconnecting). */
  pollIntervalMs?: number;
  batchSize?: number;
  /** A 'sending' row older than this is presumed abandoned. Must outlast a whole batch of sends. */
  leaseMs?: number;
  /** A failed row is tried again no sooner than this after its last attempt began. */
  retryDelayMs?: number;
  maxAttempts?: number;
  log?: DispatcherLog;
}

export interface Dispatcher {
  /** Resolves once LISTEN is active (or has failed, in which case polling still runs). */
  start(): Promise<void>;
  /** Stops listening and polling, then waits for the batch in flight. */
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

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { sql, mailer, mailFrom } = deps;
  const pollIntervalMs = deps.pollIntervalMs ?? 5_000;
  const batchSize = deps.batchSize ?? 10;
  // createMailer's timeouts bound one send to ~50 s, so ten of them fit well inside the lease.
  const leaseMs = deps.leaseMs ?? 15 * 60_000;
  const retryDelayMs = deps.retryDelayMs ?? 60_000;
  const maxAttempts = deps.maxAttempts ?? 5;
  const log = toLogger(deps.log);

  let running = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let listening: Promise<postgres.ListenMeta | undefined> | undefined;
  let drainInFlight: Promise<void> | undefined;
  let wokenDuringDrain = false;

  async function drainOnce(): Promise<number> {
    const claimed = await claimNotifications(sql, { batchSize, retryDelayMs, leaseMs });
    for (const row of claimed) await deliver(row);
    return claimed.length;
  }

  async function deliver(row: ClaimedNotification): Promise<void> {
    if (row.attempts > maxAttempts) {
      // Only a row whose lease expired gets here: its last attempt never reported back.
      await markFailed(row, `gave up after ${maxAttempts} attempts; the last one did not finish within the lease`);
      return;
    }
    try {
      // The inbox is the notifications table itself: marking the row 'sent' delivers it.
      if (row.channel === 'email') await sendEmail(row);
    } catch (error) {
      await recordFailedAttempt(row, error instanceof Error ? error.message : String(error));
      return;
    }
    await markNotificationSent(sql, row);
  }

  async function recordFailedAttempt(row: ClaimedNotification, reason: string): Promise<void> {
    if (row.attempts >= maxAttempts) {
      await markFailed(row, reason);
      return;
    }
    await markNotificationRetry(sql, row, reason);
    log.warn({ notificationId: row.id, attempts: row.attempts, reason }, 'notification delivery failed; will retry');
  }

  async function sendEmail(row: ClaimedNotification): Promise<void> {
    if (!row.recipient) throw new Error('e-mail notification has no recipient address');
    await mailer.sendMail({
      from: mailFrom,
      to: row.recipient,
      subject: row.subject,
      text: row.body,
      messageId: messageIdFor(row.idempotency_key),
    });
  }

  async function markFailed(row: ClaimedNotification, reason: string): Promise<void> {
    await markNotificationFailed(sql, row, reason);
    log.error({ notificationId: row.id, attempts: row.attempts, reason }, 'notification delivery failed for good');
  }

  /** Drains until a batch comes back short and nothing new arrived meanwhile. */
  async function drainUntilIdle(): Promise<void> {
    while (running) {
      wokenDuringDrain = false;
      const claimed = await drainOnce();
      if (claimed < batchSize && !wokenDuringDrain) return;
    }
  }

  function wake(): void {
    if (!running) return;
    if (drainInFlight) {
      wokenDuringDrain = true;
      return;
    }
    drainInFlight = drainUntilIdle()
      .catch((error: unknown) => log.error({ err: error }, 'notification dispatch failed; will retry on the next poll'))
      .finally(() => {
        drainInFlight = undefined;
      });
  }

  return {
    async start() {
      if (running) return;
      running = true;
      pollTimer = setInterval(wake, pollIntervalMs);
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
      await drainInFlight;
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
