import { staffRoutes } from '../config';
import { insertNotifications, type NotificationRow } from '../db/notifications';
import type { Sql } from '../db/sql';
import { insertStaffNotifications } from '../db/staff-notifications';
import type { StaffNotificationRequest } from '../domain/messages';
import { staffRecipients, type StaffRoutes } from '../domain/staff-routes';

// C9: staff are paged, not only listed: each warning, breach or escalation stays in the role's
// inbox (GET /v1/staff/notifications) and goes out through the outbox to every address and webhook
// configured for the role (PLEDGE_STAFF_ROUTES), once quiet hours allow.

export function staffPageRows(caseId: string, messages: readonly StaffNotificationRequest[], routes: StaffRoutes): NotificationRow[] {
  return messages.flatMap((message) =>
    staffRecipients(routes, message.role).map(({ channel, recipient }) => ({
      idempotencyKey: channel === 'webhook' ? `${message.idempotencyKey}:webhook` : `${message.idempotencyKey}:email:${recipient}`,
      customerId: null,
      staffRole: message.role,
      caseId,
      channel,
      locale: 'en',
      template: message.kind,
      subject: message.subject,
      body: message.body,
      recipient,
      priority: 0,
      notBefore: message.deliverAfter,
    })),
  );
}

/** Queues a case's staff messages in its role inboxes and as pages; a key already queued is skipped. */
export async function queueStaffMessages(sql: Sql, caseId: string, messages: readonly StaffNotificationRequest[], routes: StaffRoutes = staffRoutes()): Promise<void> {
  if (messages.length === 0) return;
  await insertStaffNotifications(sql, caseId, messages);
  await insertNotifications(sql, staffPageRows(caseId, messages, routes));
}
