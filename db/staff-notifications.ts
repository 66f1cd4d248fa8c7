import type postgres from 'postgres';
import type { StaffNotificationRequest } from '../domain/messages';
import type { Sql } from './sql';

// What staff are told about cases (table `staff_notifications`, C9): warnings, breaches, escalations.

/** Queues a case's staff messages in one statement; a key already queued is skipped. Returns the rows added. */
export async function insertStaffNotifications(sql: Sql, caseId: string, messages: readonly StaffNotificationRequest[]): Promise<number> {
  if (messages.length === 0) return 0;
  const rows = messages.map((message) => ({
    idempotency_key: message.idempotencyKey,
    role: message.role,
    kind: message.kind,
    subject: message.subject,
    body: message.body,
    occurred_at: message.occurredAt,
    deliver_after: message.deliverAfter,
  }));
  const inserted = await sql`
    insert into staff_notifications (idempotency_key, role, case_id, kind, subject, body, occurred_at, deliver_after)
    select idempotency_key, role, ${caseId}, kind, subject, body, occurred_at, deliver_after
    from jsonb_to_recordset(${sql.json(rows as unknown as postgres.JSONValue)}) as r(
      idempotency_key text, role text, kind text, subject text, body text, occurred_at timestamptz, deliver_after timestamptz)
    on conflict (idempotency_key) do nothing
    returning id`;
  return inserted.length;
}

export interface StaffNotification {
  id: number;
  role: string;
  caseId: string;
  kind: string;
  subject: string;
  body: string;
  occurredAt: string;
  deliverAfter: string;
}

/** A role's messages, newest first; those still held by quiet hours only when asked. */
export async function listStaffNotifications(sql: Sql, options: { role: string; includeScheduled: boolean; limit: number }): Promise<StaffNotification[]> {
  const rows = await sql<{ id: string; role: string; case_id: string; kind: string; subject: string; body: string; occurred_at: Date; deliver_after: Date }[]>`
    select id, role, case_id, kind, subject, body, occurred_at, deliver_after from staff_notifications
    where role = ${options.role} ${options.includeScheduled ? sql`` : sql`and deliver_after <= now()`}
    order by deliver_after desc, id desc
    limit ${options.limit}`;
  return rows.map((row) => ({
    id: Number(row.id),
    role: row.role,
    caseId: row.case_id,
    kind: row.kind,
    subject: row.subject,
    body: row.body,
    occurredAt: row.occurred_at.toISOString(),
    deliverAfter: row.deliver_after.toISOString(),
  }));
}
