import type { Actor } from './actors';
import type { CaseState } from './case-state';
import type { TemplateId } from './notification-templates';

/**
 * The message contracts between workflows and activities: what a case step asks to be told to a
 * customer or to staff. Declared here, in the pure domain, so workflows import no activity module.
 */
export interface NotificationRequest {
  /** Stable across retries, e.g. `${workflowId}:${step}`; one request queues each channel at most once. */
  idempotencyKey: string;
  customerId: string;
  caseId?: string;
  templateId: TemplateId;
  params: Record<string, string>;
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

/** One entry of a case's append-only trail (D1), with the messages it promises. */
export interface StepEvent {
  type: string;
  actor: Actor;
  occurredAt: string;
  data: Record<string, unknown>;
  notifications?: NotificationRequest[];
  staffNotifications?: StaffNotificationRequest[];
}

/**
 * One transition of a case, recorded in one transaction: its events numbered `firstStep`,
 * `firstStep + 1`, …, the read model moved to `state`, the messages queued. (workflowId, step)
 * makes a retried record a no-op.
 */
export interface RecordStepsInput {
  workflowId: string;
  firstStep: number;
  state: CaseState;
  events: StepEvent[];
}

/** Incident fan-outs: which message goes to every affected user. */
export type FanoutKind = 'outage-notice' | 'update' | 'recovery' | 'correction';

export interface IncidentMessage {
  title: string;
  startedAt: string;
  /** The notice or update text (outage-notice, update); a correction's optional words from staff. */
  message?: string;
  /** Recovery only. */
  endedAt?: string;
  outageMinutes?: number;
}
