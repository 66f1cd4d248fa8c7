import { publicUrl } from '../config';
import { deliveryPlan, notBeforeMs, priorityClasses, priorityClassOf } from '../domain/channels';
import { legallyRequiredNoticeLine } from '../domain/consent';
import { findCustomerContact, type CustomerContact } from '../db/customers';
import { insertNotifications, type NotificationChannel, type NotificationRow } from '../db/notifications';
import type { Sql } from '../db/sql';
import type { NotificationRequest } from '../domain/messages';
import { renderNotification, trackingCodeToken, trackingLinkLine, type TemplateId } from '../domain/notification-templates';
import { trackingUrl } from '../domain/tracking';

// The outbox: a step's messages are rendered and queued in the transaction that records the step;
// the dispatcher delivers them after commit.

export interface EnqueueResult {
  /** Rows this call added; a retry of an already queued request adds 0. */
  queued: number;
  skipped?: 'unknown-customer';
}

/**
 * Renders the message in the customer's locale and queues it on the inbox and the customer's
 * channel of choice (see notificationRows). Inside a
 * transaction the rows and the wake-up both take effect only on commit.
 */
export async function enqueueNotification(sql: Sql, request: NotificationRequest): Promise<EnqueueResult> {
  const customer = await findCustomerContact(sql, request.customerId);
  if (!customer) return { queued: 0, skipped: 'unknown-customer' };
  const { customerId: _customerId, ...rest } = request;
  return enqueueNotificationBatch(sql, [{ ...rest, customer }]);
}

export interface BatchNotificationRequest {
  /** Stable across retries; the channel is appended, as for single requests. */
  idempotencyKey: string;
  customer: CustomerContact;
  caseId?: string;
  templateId: TemplateId;
  params: Record<string, string>;
}

/**
 * The outbox rows of these requests: each message rendered once per template, locale and params;
 * one row for the in-app inbox and one for the customer's first usable external channel (their
 * preference, consent and address: domain/channels.ts), carrying the rest as fallbacks; keyed
 * `<idempotencyKey>:<channel>`. A non-urgent message waits out the customer's quiet hours on
 * external channels. Pure apart from rendering and the clock, so a caller can also learn the keys
 * of what it queued. C8: a message about a case also gets its tracking line in its locale
 * ("查询进度：<url>" / "Follow your case: <url>", the URL under PLEDGE_PUBLIC_URL);
 * insertNotifications puts the (case, customer)'s code into it.
 */
export function notificationRows(requests: readonly BatchNotificationRequest[], options: { publicUrl?: string; nowMs?: number } = {}): NotificationRow[] {
  const linkTo = trackingUrl(options.publicUrl ?? publicUrl(), trackingCodeToken);
  const nowMs = options.nowMs ?? Date.now();
  const rendered = new Map<string, ReturnType<typeof renderNotification>>();
  return requests.flatMap((request) => {
    const cacheKey = JSON.stringify([request.templateId, request.customer.locale, request.params]);
    let message = rendered.get(cacheKey);
    if (!message) rendered.set(cacheKey, (message = renderNotification(request.templateId, request.customer.locale, request.params)));
    const priorityClass = priorityClassOf(request.templateId);
    // D4: outage and termination notices are legally required: sent without consent, and they say so.
    const plan = deliveryPlan(request.customer, { legallyRequired: priorityClass === 'urgent' });
    const notBefore = notBeforeMs(nowMs, priorityClass, request.customer);
    const recipients: { channel: NotificationChannel; recipient: string | null; notBefore?: string; fallbacks?: string[] }[] = [{ channel: 'inbox', recipient: null }];
    if (plan.first) {
      recipients.push({ ...plan.first, fallbacks: plan.fallbacks, ...(notBefore > nowMs ? { notBefore: new Date(notBefore).toISOString() } : {}) });
    }
    return recipients.map((recipient) => ({
      idempotencyKey: `${request.idempotencyKey}:${recipient.channel}`,
      customerId: request.customer.id,
      caseId: request.caseId ?? null,
      locale: message.locale,
      template: request.templateId,
      subject: message.subject,
      body: plan.withoutConsent ? `${message.body}\n\n${legallyRequiredNoticeLine(message.locale)}` : message.body,
      priority: priorityClasses[priorityClass].priority,
      ...recipient,
      ...(request.caseId ? { trackingLine: trackingLinkLine(message.locale, linkTo) } : {}),
    }));
  });
}

/**
 * Queues messages for customers whose contact the caller already holds (a fan-out pages through
 * them): the whole batch in one INSERT … SELECT with one wake-up.
 */
export async function enqueueNotificationBatch(sql: Sql, requests: readonly BatchNotificationRequest[]): Promise<EnqueueResult> {
  return { queued: await insertNotifications(sql, notificationRows(requests)) };
}
