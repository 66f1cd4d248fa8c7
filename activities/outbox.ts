import type postgres from 'postgres';
import { renderNotification, type TemplateId } from '../domain/notification-templates';

/** The Postgres NOTIFY channel that wakes the dispatcher as soon as a message is queued. */
export const outboxChannel = 'pledge_outbox';

export type NotificationChannel = 'inbox' | 'email';

export interface NotificationRequest {
  /** Stable across retries, e.g. `${workflowId}:${step}`; one request queues each channel at most once. */
  idempotencyKey: string;
  customerId: string;
  caseId?: string;
  templateId: TemplateId;
  params: Record<string, string>;
}

export interface EnqueueResult {
  /** Rows this call added; a retry of an already queued request adds 0. */
  queued: number;
  skipped?: 'unknown-customer';
}

/**
 * Renders the message in the customer's locale and queues it once per channel: always the
 * in-app inbox, and e-mail when the customer chose it and gave an address. Inside a
 * transaction the rows and the wake-up both take effect only on commit.
 */
export async function enqueueNotification(
  sql: postgres.Sql | postgres.TransactionSql,
  request: NotificationRequest,
): Promise<EnqueueResult> {
  const [customer] = await sql<BatchNotificationRequest['customer'][]>`
    select id, locale, email, channels from customers where id = ${request.customerId}
  `;
  if (!customer) return { queued: 0, skipped: 'unknown-customer' };
  const { customerId: _customerId, ...rest } = request;
  return enqueueNotificationBatch(sql, [{ ...rest, customer }]);
}

export interface BatchNotificationRequest {
  /** Stable across retries; the channel is appended, as for single requests. */
  idempotencyKey: string;
  customer: { id: string; locale: string; email: string | null; channels: string[] };
  caseId?: string;
  templateId: TemplateId;
  params: Record<string, string>;
}

/**
 * Queues messages for customers whose contact the caller already holds (a fan-out pages through
 * them): each rendered once per template, locale and params, the whole page in one INSERT … SELECT
 * with one wake-up. Not sql.notify(): postgres.js runs that on the pool, outside the transaction,
 * so the dispatcher would wake before the rows it is told about are committed.
 */
export async function enqueueNotificationBatch(
  sql: postgres.Sql | postgres.TransactionSql,
  requests: readonly BatchNotificationRequest[],
): Promise<EnqueueResult> {
  if (requests.length === 0) return { queued: 0 };
  const rendered = new Map<string, ReturnType<typeof renderNotification>>();
  const rows = requests.flatMap((request) => {
    const cacheKey = JSON.stringify([request.templateId, request.customer.locale, request.params]);
    let message = rendered.get(cacheKey);
    if (!message) rendered.set(cacheKey, (message = renderNotification(request.templateId, request.customer.locale, request.params)));
    const recipients: { channel: NotificationChannel; recipient: string | null }[] = [{ channel: 'inbox', recipient: null }];
    if (request.customer.channels.includes('email') && request.customer.email) recipients.push({ channel: 'email', recipient: request.customer.email });
    return recipients.map(({ channel, recipient }) => ({
      idempotency_key: `${request.idempotencyKey}:${channel}`,
      customer_id: request.customer.id,
      case_id: request.caseId ?? null,
      channel,
      locale: message.locale,
      template: request.templateId,
      subject: message.subject,
      body: message.body,
      recipient,
    }));
  });
  const inserted = await sql`
    insert into notifications (idempotency_key, customer_id, case_id, channel, locale, template, subject, body, recipient)
    select idempotency_key, customer_id, case_id, channel, locale, template, subject, body, recipient
    from jsonb_to_recordset(${sql.json(rows as unknown as postgres.JSONValue)}) as r(
      idempotency_key text, customer_id text, case_id text, channel text, locale text,
      template text, subject text, body text, recipient text)
    on conflict (idempotency_key) do nothing
    returning id`;
  if (inserted.length > 0) await sql`select pg_notify(${outboxChannel}, '')`;
  return { queued: inserted.length };
}
