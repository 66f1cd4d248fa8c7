import type postgres from 'postgres';
import { withTrackingLine } from '../domain/notification-templates';
import type { TrackedMessageRow } from '../domain/tracking';
import { inTransaction, type Sql } from './sql';
import { ensureTrackingCodes, trackingPairKey } from './tracking-codes';

// The customer notification outbox (table `notifications`): rows are queued by activities in the
// transaction of the step that promises them, and delivered by the dispatcher (notifications/).

/** The Postgres NOTIFY channel that wakes the dispatcher as soon as a message is queued. */
export const outboxChannel = 'pledge_outbox';

export type NotificationChannel = 'inbox' | 'email';

export interface NotificationRow {
  /** Unique: a retried insert of the same key adds nothing. */
  idempotencyKey: string;
  customerId: string;
  caseId: string | null;
  channel: NotificationChannel;
  locale: string;
  template: string;
  subject: string;
  body: string;
  recipient: string | null;
  /**
   * C8: the tracking line to end the body with (a message about a case), its URL holding
   * `trackingCodeToken`; replaced by the (case, customer)'s code when the row is queued.
   */
  trackingLine?: string;
}

/**
 * Queues rendered messages in one INSERT … SELECT and wakes the dispatcher if anything was added.
 * Rows with a tracking line first get the tracking code of their (case, customer), created if
 * missing, in one more statement for the whole batch and in the same transaction (C8).
 * Not sql.notify(): postgres.js runs that on the pool, outside the transaction, so the dispatcher
 * would wake before the rows it is told about are committed; pg_notify in the transaction is
 * delivered on commit. Returns the rows this call added.
 */
export async function insertNotifications(sql: Sql, rows: readonly NotificationRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const tracked = rows.filter((row): row is NotificationRow & { caseId: string; trackingLine: string } => row.caseId !== null && row.trackingLine !== undefined);
  if (tracked.length === 0) return insertRows(sql, rows);
  return inTransaction(sql, async (tx) => {
    const codes = await ensureTrackingCodes(
      tx,
      tracked.map((row) => ({ caseId: row.caseId, customerId: row.customerId })),
    );
    const withLinks = rows.map((row) =>
      row.caseId !== null && row.trackingLine !== undefined
        ? { ...row, body: withTrackingLine(row.body, row.trackingLine, codes.get(trackingPairKey({ caseId: row.caseId, customerId: row.customerId }))!) }
        : row,
    );
    return insertRows(tx, withLinks);
  });
}

async function insertRows(sql: Sql, rows: readonly NotificationRow[]): Promise<number> {
  const records = rows.map((row) => ({
    idempotency_key: row.idempotencyKey,
    customer_id: row.customerId,
    case_id: row.caseId,
    channel: row.channel,
    locale: row.locale,
    template: row.template,
    subject: row.subject,
    body: row.body,
    recipient: row.recipient,
  }));
  const inserted = await sql`
    insert into notifications (idempotency_key, customer_id, case_id, channel, locale, template, subject, body, recipient)
    select idempotency_key, customer_id, case_id, channel, locale, template, subject, body, recipient
    from jsonb_to_recordset(${sql.json(records as unknown as postgres.JSONValue)}) as r(
      idempotency_key text, customer_id text, case_id text, channel text, locale text,
      template text, subject text, body text, recipient text)
    on conflict (idempotency_key) do nothing
    returning id`;
  if (inserted.length > 0) await sql`select pg_notify(${outboxChannel}, '')`;
  return inserted.length;
}

/** How many of these keys are queued, whichever call queued them. */
export async function countNotificationsByKeys(sql: Sql, idempotencyKeys: readonly string[]): Promise<number> {
  if (idempotencyKeys.length === 0) return 0;
  const [row] = await sql<{ count: number }[]>`
    select count(*)::int as count from notifications where idempotency_key = any(${idempotencyKeys as string[]}::text[])`;
  return row!.count;
}

export interface ClaimedNotification {
  id: string;
  idempotency_key: string;
  channel: NotificationChannel;
  recipient: string | null;
  subject: string;
  body: string;
  attempts: number;
}

/**
 * Claims up to `batchSize` rows for delivery: pending rows whose retry delay has passed, and
 * 'sending' rows whose lease expired. FOR UPDATE SKIP LOCKED keeps concurrent dispatchers apart;
 * each claim bumps `attempts`, which then fences that claim's writes.
 */
export async function claimNotifications(sql: Sql, options: { batchSize: number; retryDelayMs: number; leaseMs: number }): Promise<ClaimedNotification[]> {
  return sql<ClaimedNotification[]>`
    update notifications
    set status = 'sending', attempts = attempts + 1, claimed_at = now()
    where id in (
      select id from notifications
      where (status = 'pending'
             and (claimed_at is null or claimed_at <= now() - make_interval(secs => ${options.retryDelayMs / 1000})))
         or (status = 'sending' and claimed_at <= now() - make_interval(secs => ${options.leaseMs / 1000}))
      order by created_at
      limit ${options.batchSize}
      for update skip locked
    )
    returning id, idempotency_key, channel, recipient, subject, body, attempts`;
}

/** Delivered; a no-op if another claim took the row since (attempts moved on). */
export async function markNotificationSent(sql: Sql, claim: { id: string; attempts: number }): Promise<void> {
  await sql`update notifications set status = 'sent', sent_at = now() where id = ${claim.id} and attempts = ${claim.attempts}`;
}

/** Back to pending after a failed attempt; tried again once the retry delay has passed. */
export async function markNotificationRetry(sql: Sql, claim: { id: string; attempts: number }, reason: string): Promise<void> {
  await sql`update notifications set status = 'pending', last_error = ${reason} where id = ${claim.id} and attempts = ${claim.attempts}`;
}

/** Given up for good. */
export async function markNotificationFailed(sql: Sql, claim: { id: string; attempts: number }, reason: string): Promise<void> {
  await sql`update notifications set status = 'failed', last_error = ${reason} where id = ${claim.id} and attempts = ${claim.attempts}`;
}

export interface CustomerNotification {
  id: number;
  caseId: string | null;
  channel: string;
  template: string;
  locale: string;
  subject: string;
  body: string;
  status: string;
  createdAt: string;
  sentAt: string | null;
}

/** What a customer was told, newest first. */
export async function listCustomerNotifications(sql: Sql, customerId: string, options: { channel?: NotificationChannel; limit: number }): Promise<CustomerNotification[]> {
  const rows = await sql<
    { id: string; case_id: string | null; channel: string; template: string; locale: string; subject: string; body: string; status: string; created_at: Date; sent_at: Date | null }[]
  >`
    select id, case_id, channel, template, locale, subject, body, status, created_at, sent_at
    from notifications
    where customer_id = ${customerId} ${options.channel ? sql`and channel = ${options.channel}` : sql``}
    order by created_at desc, id desc
    limit ${options.limit}`;
  return rows.map((row) => ({
    id: Number(row.id),
    caseId: row.case_id,
    channel: row.channel,
    template: row.template,
    locale: row.locale,
    subject: row.subject,
    body: row.body,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    sentAt: row.sent_at?.toISOString() ?? null,
  }));
}

/**
 * C8: what the customer was sent about one case, newest first, one row per channel; `messageKey`
 * (the row's key without its channel) ties the rows of one message together.
 */
export async function listCaseNotificationsForCustomer(sql: Sql, input: { caseId: string; customerId: string; limit: number }): Promise<TrackedMessageRow[]> {
  const rows = await sql<{ message_key: string; channel: string; status: string; subject: string; body: string; created_at: Date; sent_at: Date | null }[]>`
    select left(idempotency_key, length(idempotency_key) - length(channel) - 1) as message_key,
           channel, status, subject, body, created_at, sent_at
    from notifications
    where customer_id = ${input.customerId} and case_id = ${input.caseId}
    order by created_at desc, id desc
    limit ${input.limit}`;
  return rows.map((row) => ({
    messageKey: row.message_key,
    channel: row.channel,
    status: row.status,
    subject: row.subject,
    body: row.body,
    createdAt: row.created_at.toISOString(),
    sentAt: row.sent_at?.toISOString() ?? null,
  }));
}

/** Metrics: the outbox by channel and status. */
export async function countNotificationsByChannelStatus(sql: Sql): Promise<{ channel: string; status: string; count: number }[]> {
  const rows = await sql<{ channel: string; status: string; count: string }[]>`
    select channel, status, count(*) as count from notifications group by channel, status`;
  return rows.map((row) => ({ channel: row.channel, status: row.status, count: Number(row.count) }));
}
