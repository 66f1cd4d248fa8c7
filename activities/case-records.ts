import type postgres from 'postgres';
import { nextPendingDeadline, type CaseEvent, type CaseState } from '../domain/case-state';
import { enqueueNotification, type NotificationRequest } from './outbox';

export interface RecordStepInput {
  workflowId: string;
  /** Numbered by the workflow; (workflowId, step) makes a retried record a no-op. */
  step: number;
  state: CaseState;
  event: CaseEvent;
  /** Messages to the customer that this step promises, queued in the same transaction. */
  notifications: NotificationRequest[];
  /** Messages to staff (C9 warnings and escalations). */
  staffNotifications?: StaffNotificationRequest[];
}

export interface StaffNotificationRequest {
  idempotencyKey: string;
  role: 'agent' | 'supervisor';
  kind: string;
  subject: string;
  body: string;
  occurredAt: string;
  /** Quiet hours: when the message may be delivered; the event itself keeps its exact time. */
  deliverAfter: string;
}

export function createCaseRecordActivities(sql: postgres.Sql) {
  return {
    /** D1: appends the event, moves the read model forward (never back) and queues the step's messages. */
    async recordStep(input: RecordStepInput): Promise<{ recorded: boolean }> {
      const { state, event } = input;
      return sql.begin(async (tx) => {
        const inserted = await tx`
          insert into case_events (workflow_id, step, case_id, type, actor_id, actor_role, occurred_at, data)
          values (${input.workflowId}, ${input.step}, ${state.caseId}, ${event.type}, ${event.actor.id},
                  ${event.actor.role}, ${event.occurredAt}, ${tx.json(event.data as postgres.JSONValue)})
          on conflict (workflow_id, step) do nothing
          returning id`;
        if (inserted.length === 0) return { recorded: false };
        await tx`
          insert into cases (case_id, workflow_id, type, status, priority, customer_id, summary, sla_breached,
                             next_deadline_at, opened_at, updated_at, last_step, state)
          values (${state.caseId}, ${input.workflowId}, ${state.type}, ${state.status}, ${state.priority},
                  ${state.customerId}, ${state.summary}, ${state.slaBreached},
                  ${nextPendingDeadline(state.deadlines)?.dueAt ?? null}, ${state.openedAt}, ${state.updatedAt},
                  ${input.step}, ${tx.json(state as unknown as postgres.JSONValue)})
          on conflict (case_id) do update set
            status = excluded.status, priority = excluded.priority, summary = excluded.summary,
            sla_breached = excluded.sla_breached, next_deadline_at = excluded.next_deadline_at,
            updated_at = excluded.updated_at, last_step = excluded.last_step, state = excluded.state
          where cases.last_step < excluded.last_step`;
        for (const notification of input.notifications) await enqueueNotification(tx, notification);
        for (const message of input.staffNotifications ?? []) {
          await tx`
            insert into staff_notifications (idempotency_key, role, case_id, kind, subject, body, occurred_at, deliver_after)
            values (${message.idempotencyKey}, ${message.role}, ${state.caseId}, ${message.kind}, ${message.subject},
                    ${message.body}, ${message.occurredAt}, ${message.deliverAfter})
            on conflict (idempotency_key) do nothing`;
        }
        return { recorded: true };
      });
    },
  };
}
