import type postgres from 'postgres';
import { openFields, sealFields } from '../codec/customer-data-keys';
import { withTrackingLine } from '../domain/notification-templates';
import type { TrackedMessageRow } from '../domain/tracking';
import { personalNotificationFields } from '../domain/personal-data';
import { loadCustomerCiphers } from './customer-keys';
import { inTransaction, type Sql } from './sql';
import { ensureTrackingCodes, trackingPairKey } from './tracking-codes';

// The customer notification outbox (table `notifications`): rows are queued by activities in the
// transaction of the step that promises them, and delivered by the dispatcher (notifications/).

/** The Postgres NOTIFY channel that wakes the dispatcher as soon as a message is queued. */
export const outboxChannel = 'pledge_outbox';

export type NotificationChannel = 'inbox' | 'email' | 'sms' | 'webhook';
/** 0 urgent (outage, termination), 1 about one case, 2 routine: see domain/channels.ts. */
export type NotificationPriority = 0 | 1 | 2;

export interface NotificationRow {
  /** Unique: a retried insert of the same key adds nothing. */
  idempotencyKey: string;
  /** The customer told; null for a staff page, which has `staffRole` instead. */
  customerId: string | null;
  staffRole?: 'agent' | 'supervisor';
  caseId: string | null;
  channel: NotificationChannel;
  locale: string;
  template: string;
  subject: string;
  body: string;
  recipient: string | null;
  priority: NotificationPriority;
  /** Not delivered before this (quiet hours); now when absent. */
  notBefore?: string;
  /** External channels to try, in order, if this one fails for good or cannot be sent. */
  fallbacks?: string[];
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
  const tracked = rows.filter(
    (row): row is NotificationRow & { caseId: string; customerId: string; trackingLine: string } => row.caseId !== null && row.customerId !== null && row.trackingLine !== undefined,
  );
  if (tracked.length === 0) return insertRows(sql, rows);
  return inTransaction(sql, async (tx) => {
    const codes = await ensureTrackingCodes(
      tx,
      tracked.map((row) => ({ caseId: row.caseId, customerId: row.customerId })),
    );
    const withLinks = rows.map((row) =>
      row.caseId !== null && row.customerId !== null && row.trackingLine !== undefined
        ? { ...row, body: withTrackingLine(row.body, row.trackingLine, codes.get(trackingPairKey({ caseId: row.caseId, customerId: row.customerId }))!) }
        : row,
    );
    return insertRows(tx, withLinks);
  });
}

/** D5: a customer's message is stored with its subject, body and address sealed under their data key. */
async function insertRows(sql: Sql, rows: readonly NotificationRow[]): Promise<number> {
  const cipherOf = await loadCustomerCiphers(
    sql,
    rows.flatMap((row) => (row.customerId === null ? [] : [row.customerId])),
  );
  const records = rows
    .map((row) => sealFields(cipherOf(row.customerId), row, personalNotificationFields))
    .map((row) => ({
      idempotency_key: row.idempotencyKey,
      customer_id: row.customerId,
      staff_role: row.staffRole ?? null,
      case_id: row.caseId,
      channel: row.channel,
      locale: row.locale,
      template: row.template,
      subject: row.subject,
      body: row.body,
      recipient: row.recipient,
      priority: row.priority,
      not_before: row.notBefore ?? null,
      fallbacks: row.fallbacks ?? [],
    }));
  const inserted = await sql`
    insert into notifications (idempotency_key, customer_id, staff_role, case_id, channel, locale, template, subject, body, recipient, priority, not_before, fallbacks)
    select idempotency_key, customer_id, staff_role, case_id, channel, locale, template, subject, body, recipient, priority,
           coalesce(not_before, now()), fallbacks
    from jsonb_to_recordset(${sql.json(records as unknown as postgres.JSONValue)}) as r(
      idempotency_key text, customer_id text, staff_role text, case_id text, channel text, locale text,
      template text, subject text, body text, recipient text, priority smallint, not_before timestamptz, fallbacks text[])
    on conflict (idempotency_key) do nothing
    returning id`;
  if (inserted.length > 0) await sql`select pg_notify(${outboxChannel}, '')`;
  return inserted.length;
}

/** Rows as read, with the sealed fields opened for whoever the rows belong to. */
async function opened<T extends { customer_id: string | null }>(sql: Sql, rows: T[]): Promise<T[]> {
  const cipherOf = await loadCustomerCiphers(
    sql,
    rows.flatMap((row) => (row.customer_id === null ? [] : [row.customer_id])),
  );
  return rows.map((row) => openFields(cipherOf(row.customer_id), row, personalNotificationFields));
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
  customer_id: string | null;
  channel: NotificationChannel;
  recipient: string | null;
  subject: string;
  body: string;
  template: string;
  case_id: string | null;
  staff_role: string | null;
  priority: NotificationPriority;
  attempts: number;
  created_at: Date;
}

export interface ClaimOptions {
  batchSize: number;
  leaseMs: number;
  /** Seconds a message of priority 1 and 2 may wait before it goes ahead of newer urgent ones. */
  starvationBoundSeconds: { 1: number; 2: number };
}

/**
 * Claims up to `batchSize` rows for delivery in one statement, highest priority first: ready
 * pending rows, and 'sending' rows whose lease expired. Rows of a lower class that waited past
 * their bound go first (up to a quarter of the batch), so a flood of outage notices cannot starve
 * routine messages forever. FOR UPDATE SKIP LOCKED keeps concurrent dispatchers apart; each claim
 * bumps `attempts`, which then fences that claim's writes.
 */
export async function claimNotifications(sql: Sql, options: ClaimOptions): Promise<ClaimedNotification[]> {
  const overdueShare = Math.max(1, Math.floor(options.batchSize / 4));
  const claimed = await sql<ClaimedNotification[]>`
    with overdue as (
      select id from notifications
      where status = 'pending'
        and ((priority = 1 and not_before <= now() - make_interval(secs => ${options.starvationBoundSeconds[1]}))
          or (priority = 2 and not_before <= now() - make_interval(secs => ${options.starvationBoundSeconds[2]})))
      order by not_before
      limit ${overdueShare}
      for update skip locked
    ), ready as (
      select id from notifications
      where status = 'pending' and not_before <= now()
      order by priority, not_before
      limit ${options.batchSize}
      for update skip locked
    ), abandoned as (
      select id from notifications
      where status = 'sending' and claimed_at <= now() - make_interval(secs => ${options.leaseMs / 1000})
      limit ${options.batchSize}
      for update skip locked
    ), chosen as (
      select id from (
        select id, 0 as rank from overdue
        union all select id, 1 from abandoned
        union all select id, 2 from ready
      ) candidates
      group by id
      order by min(rank)
      limit ${options.batchSize}
    )
    update notifications n
    set status = 'sending', attempts = attempts + 1, claimed_at = now()
    from chosen
    where n.id = chosen.id
    returning n.id, n.idempotency_key, n.customer_id, n.channel, n.recipient, n.subject, n.body, n.template, n.case_id, n.staff_role, n.priority, n.attempts, n.created_at`;
  return opened(sql, claimed);
}

export type DeliveryStatus = 'pending' | 'sent' | 'delivered' | 'failed' | 'not-sent';

export interface DeliveryOutcome {
  id: string;
  /** The claim's attempt: an outcome of an older claim changes nothing. */
  attempts: number;
  /**
   * `delivered` when the channel confirmed it (the inbox holds it; the SMTP server accepted the
   * mail; an SMS receipt); `sent` while a receipt is awaited; `pending` to try again after
   * `retryAfterMs`; `not-sent` when no transport is configured for the channel.
   */
  status: DeliveryStatus;
  error?: string;
  providerIds?: string[];
  retryAfterMs?: number;
}

/**
 * Records a batch's outcomes, in one transaction: the rows' new states (one statement), the parts
 * of each SMS sent (for its receipts), and the next fallback channel of every message that failed
 * for good or could not be sent — so a crash never leaves a failure without its fallback. Receipts
 * that arrived before their submit's answer was recorded are settled after it commits.
 */
export async function recordDeliveryOutcomes(sql: Sql, outcomes: readonly DeliveryOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const records = outcomes.map((outcome) => ({
    id: outcome.id,
    attempts: outcome.attempts,
    status: outcome.status,
    error: outcome.error ?? null,
    provider_ids: outcome.providerIds ?? [],
    retry_after_seconds: (outcome.retryAfterMs ?? 0) / 1000,
  }));
  const awaitingReceipts = await retryOnDeadlock(() =>
    inTransaction(sql, async (tx) => {
      const updated = await tx<{ id: string; status: DeliveryStatus; provider_ids: string[]; channel: string }[]>`
        update notifications n
        set status = r.status,
            last_error = coalesce(r.error, n.last_error),
            provider_ids = case when cardinality(r.provider_ids) > 0 then r.provider_ids else n.provider_ids end,
            sent_at = case when r.status in ('sent', 'delivered') then now() else n.sent_at end,
            delivered_at = case when r.status = 'delivered' then now() else n.delivered_at end,
            not_before = case when r.status = 'pending' then now() + make_interval(secs => r.retry_after_seconds) else n.not_before end
        from (select * from jsonb_to_recordset(${tx.json(records as unknown as postgres.JSONValue)}) as r(
                id bigint, attempts int, status text, error text, provider_ids text[], retry_after_seconds float8)
              order by id) r
        where n.id = r.id and n.attempts = r.attempts and n.status = 'sending'
        returning n.id, n.status, n.provider_ids, n.channel`;
      const sent = updated.filter((row) => row.status === 'sent');
      const parts = sent.flatMap((row) => row.provider_ids.map((providerId) => ({ provider_id: providerId, notification_id: row.id })));
      if (parts.length > 0) {
        await tx`
          insert into notification_parts (provider_id, notification_id)
          select provider_id, notification_id from jsonb_to_recordset(${tx.json(parts as unknown as postgres.JSONValue)}) as p(provider_id text, notification_id bigint)
          on conflict (provider_id) do nothing`;
      }
      await queueFallbacks(
        tx,
        updated.filter((row) => row.status === 'failed' || row.status === 'not-sent').map((row) => row.id),
      );
      return sent.map((row) => row.id);
    }),
  );
  await settleReceipts(sql, awaitingReceipts);
}

/** The next channel of each message that ended without reaching its customer, keyed `<message key>:<channel>`. */
async function queueFallbacks(sql: Sql, endedIds: readonly string[]): Promise<void> {
  if (endedIds.length === 0) return;
  const inserted = await sql`
    insert into notifications (idempotency_key, customer_id, case_id, channel, locale, template, subject, body, recipient, priority, fallbacks)
    select left(n.idempotency_key, length(n.idempotency_key) - length(n.channel)) || n.fallbacks[1],
           n.customer_id, n.case_id, n.fallbacks[1], n.locale, n.template, n.subject, n.body,
           case n.fallbacks[1] when 'email' then c.email when 'sms' then c.phone end,
           n.priority, n.fallbacks[2:]
    from notifications n join customers c on c.id = n.customer_id
    where n.id = any(${endedIds as string[]}::bigint[]) and n.status in ('failed', 'not-sent') and cardinality(n.fallbacks) > 0
    on conflict (idempotency_key) do nothing
    returning id`;
  if (inserted.length > 0) await sql`select pg_notify(${outboxChannel}, '')`;
}

export interface DeliveryReceiptRecord {
  providerId: string;
  state: 'delivered' | 'failed';
  detail?: string;
}

/** Records delivery receipts (an SMS part's DELIVRD or UNDELIV) and settles the messages they complete. */
export async function recordDeliveryReceipts(sql: Sql, receipts: readonly DeliveryReceiptRecord[]): Promise<void> {
  if (receipts.length === 0) return;
  const records = receipts.map((receipt) => ({ provider_id: receipt.providerId, state: receipt.state, detail: receipt.detail ?? null }));
  await sql`
    insert into notification_receipts (provider_id, state, detail)
    select provider_id, state, detail
    from jsonb_to_recordset(${sql.json(records as unknown as postgres.JSONValue)}) as r(provider_id text, state text, detail text)
    on conflict (provider_id) do nothing`;
  const owners = await sql<{ notification_id: string }[]>`
    select distinct notification_id from notification_parts where provider_id = any(${receipts.map((receipt) => receipt.providerId)}::text[])`;
  await settleReceipts(
    sql,
    owners.map((row) => row.notification_id),
  );
}

/**
 * Settles sent messages that still wait although every receipt may be in: the safety net for a
 * settle that lost a race or a crash between recording and settling. Returns how many it looked at.
 */
export async function settleWaitingMessages(sql: Sql, options: { olderThanSeconds: number; limit: number }): Promise<number> {
  const waiting = await sql<{ id: string }[]>`
    select id from notifications where status = 'sent' and sent_at <= now() - make_interval(secs => ${options.olderThanSeconds})
    order by sent_at limit ${options.limit}`;
  await settleReceipts(
    sql,
    waiting.map((row) => row.id),
  );
  return waiting.length;
}

/**
 * A sent message is delivered once every part has a 'delivered' receipt, and failed as soon as one
 * part failed (then its fallback is queued, in the same transaction). Rows are locked in id order,
 * so settles racing from receipts and from outcomes wait for each other instead of deadlocking.
 */
async function settleReceipts(sql: Sql, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await retryOnDeadlock(() =>
    inTransaction(sql, async (tx) => {
      const settled = await tx<{ id: string; status: string }[]>`
        with locked as (
          select id, provider_ids from notifications
          where id = any(${ids as string[]}::bigint[]) and status = 'sent'
          order by id
          for update
        ), counts as (
          select l.id, cardinality(l.provider_ids) as parts,
                 count(*) filter (where rc.state = 'delivered') as delivered, count(*) filter (where rc.state = 'failed') as failed,
                 max(rc.received_at) as last_at, max(rc.detail) filter (where rc.state = 'failed') as detail
          from locked l join notification_parts p on p.notification_id = l.id join notification_receipts rc on rc.provider_id = p.provider_id
          group by l.id, l.provider_ids
        )
        update notifications n
        set status = case when r.failed > 0 then 'failed' else 'delivered' end,
            delivered_at = case when r.failed > 0 then null else r.last_at end,
            last_error = case when r.failed > 0 then r.detail else n.last_error end
        from counts r
        where n.id = r.id and (r.failed > 0 or r.delivered = r.parts)
        returning n.id, n.status`;
      await queueFallbacks(
        tx,
        settled.filter((row) => row.status === 'failed').map((row) => row.id),
      );
    }),
  );
}

/** Runs `work` again when Postgres chose it as a deadlock's victim (SQLSTATE 40P01) or a serialization failure. */
async function retryOnDeadlock<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= attempts || (code !== '40P01' && code !== '40001')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
    }
  }
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
    {
      id: string;
      customer_id: string;
      case_id: string | null;
      channel: string;
      template: string;
      locale: string;
      subject: string;
      body: string;
      status: string;
      created_at: Date;
      sent_at: Date | null;
    }[]
  >`
    select id, customer_id, case_id, channel, template, locale, subject, body, status, created_at, sent_at
    from notifications
    where customer_id = ${customerId} ${options.channel ? sql`and channel = ${options.channel}` : sql``}
    order by created_at desc, id desc
    limit ${options.limit}`;
  return (await opened(sql, rows)).map((row) => ({
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
  const rows = await sql<{ message_key: string; customer_id: string; channel: string; status: string; subject: string; body: string; created_at: Date; sent_at: Date | null }[]>`
    select left(idempotency_key, length(idempotency_key) - length(channel) - 1) as message_key,
           customer_id, channel, status, subject, body, created_at, sent_at
    from notifications
    where customer_id = ${input.customerId} and case_id = ${input.caseId}
    order by created_at desc, id desc
    limit ${input.limit}`;
  return (await opened(sql, rows)).map((row) => ({
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

/** Metrics (O4): what waits to go out, per channel and priority, and how long the oldest has waited since it was due. */
export async function outboxQueue(sql: Sql): Promise<{ channel: string; priority: number; depth: number; oldestSeconds: number }[]> {
  const rows = await sql<{ channel: string; priority: number; depth: string; oldest_seconds: number }[]>`
    select channel, priority, count(*) as depth, coalesce(extract(epoch from now() - min(not_before)), 0)::float8 as oldest_seconds
    from notifications
    where status in ('pending', 'sending') and not_before <= now()
    group by channel, priority`;
  return rows.map((row) => ({ channel: row.channel, priority: row.priority, depth: Number(row.depth), oldestSeconds: Math.max(0, row.oldest_seconds) }));
}

/**
 * Seconds from queued to delivered per channel (every delivered row), as Prometheus histogram
 * buckets: `buckets[i]` counts latencies up to `bounds[i]`, cumulative.
 */
export async function deliveryLatencyBuckets(sql: Sql, bounds: readonly number[]): Promise<{ channel: string; buckets: number[]; count: number; sumSeconds: number }[]> {
  // width_bucket gives how many bounds lie at or below the latency; bucket k holds (bounds[k-1], bounds[k]].
  const rows = await sql<{ channel: string; above: number; count: string; sum_seconds: number }[]>`
    select channel, width_bucket(latency, ${bounds as number[]}::float8[]) as above, count(*) as count, sum(latency)::float8 as sum_seconds
    from (select channel, extract(epoch from delivered_at - created_at)::float8 as latency
          from notifications where status = 'delivered' and delivered_at is not null) delivered
    group by channel, above`;
  const byChannel = new Map<string, { buckets: number[]; count: number; sumSeconds: number }>();
  for (const row of rows) {
    const entry = byChannel.get(row.channel) ?? { buckets: bounds.map(() => 0), count: 0, sumSeconds: 0 };
    const count = Number(row.count);
    // Bucket `index` counts latencies below bounds[index]; one exactly on a bound lands one bucket up.
    for (let index = row.above; index < bounds.length; index++) entry.buckets[index]! += count;
    entry.count += count;
    entry.sumSeconds += row.sum_seconds;
    byChannel.set(row.channel, entry);
  }
  return [...byChannel].map(([channel, entry]) => ({ channel, ...entry }));
}

export interface MessageDelivery {
  /** Customers the message was queued for. */
  recipients: number;
  /** Customers it reached: on an external channel when they have one, else in the inbox. */
  told: number;
  toldBy: number | null;
  notYetTold: number;
  /** Customers whose every channel failed or could not be sent. */
  unreachable: number;
  lastToldAt: string | null;
  byChannel: { channel: string; status: string; count: number }[];
}

/**
 * O4, N3: who a case's message (by template) reached and when. A customer counts as told when it
 * reached them on an external channel (SMS receipt, SMTP acceptance), or in the inbox when the
 * inbox is all they have; `toldBy` counts those told by `deadline`.
 */
export async function messageDelivery(sql: Sql, input: { caseId: string; templates: readonly string[]; deadline: string | null }): Promise<MessageDelivery> {
  const [summary] = await sql<{ recipients: number; told: number; told_by: number | null; unreachable: number; last_told_at: Date | null }[]>`
    with per_customer as (
      select customer_id,
             bool_or(channel <> 'inbox') as has_external,
             bool_and(channel = 'inbox' or status in ('failed', 'not-sent')) as external_all_failed,
             min(delivered_at) filter (where channel <> 'inbox') as external_at,
             min(delivered_at) filter (where channel = 'inbox') as inbox_at
      from notifications
      where case_id = ${input.caseId} and template = any(${input.templates as string[]}::text[]) and customer_id is not null
      group by customer_id
    ), told as (
      select customer_id, has_external and external_all_failed as unreachable,
             case when has_external then external_at else inbox_at end as told_at
      from per_customer
    )
    select count(*)::int as recipients,
           count(told_at)::int as told,
           case when ${input.deadline}::timestamptz is null then null else (count(*) filter (where told_at <= ${input.deadline}::timestamptz))::int end as told_by,
           (count(*) filter (where unreachable))::int as unreachable,
           max(told_at) as last_told_at
    from told`;
  const byChannel = await sql<{ channel: string; status: string; count: number }[]>`
    select channel, status, count(*)::int as count from notifications
    where case_id = ${input.caseId} and template = any(${input.templates as string[]}::text[]) and customer_id is not null
    group by channel, status order by channel, status`;
  return {
    recipients: summary!.recipients,
    told: summary!.told,
    toldBy: summary!.told_by,
    notYetTold: summary!.recipients - summary!.told,
    unreachable: summary!.unreachable,
    lastToldAt: summary!.last_told_at?.toISOString() ?? null,
    byChannel: [...byChannel],
  };
}
