import { proxyActivities, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { Actor } from '../domain/actors';
import { caseHeadline, nextPendingDeadline, type CaseState } from '../domain/case-state';
import type { StaffNotificationRequest } from '../activities/case-records';
import type { NotificationRequest } from '../activities/outbox';
import { caseSearchAttributes } from './search-attributes';

const { recordStep } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  // No maximumAttempts: a record must eventually land, however long Postgres is away.
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * Records every state change of a case: an append-only event and the read-model row (one
 * idempotent activity keyed by workflow id and step), and the search attributes and memo that
 * the Temporal UI shows.
 */
export class CaseJournal {
  private step: number;

  constructor(
    private readonly view: () => CaseState,
    startStep = 0,
  ) {
    this.step = startStep;
  }

  get lastStep(): number {
    return this.step;
  }

  async record(
    type: string,
    actor: Actor,
    data: Record<string, unknown> = {},
    notifications: NotificationRequest[] = [],
    staffNotifications: StaffNotificationRequest[] = [],
  ): Promise<void> {
    const state = this.view();
    const step = ++this.step;
    publishCaseState(state);
    await recordStep({
      workflowId: state.workflowId,
      step,
      state,
      event: { type, actor, occurredAt: new Date().toISOString(), data },
      notifications,
      staffNotifications,
    });
  }
}

export function publishCaseState(state: CaseState): void {
  const nextDeadline = nextPendingDeadline(state.deadlines);
  upsertSearchAttributes([
    { key: caseSearchAttributes.caseType, value: state.type },
    { key: caseSearchAttributes.caseStatus, value: state.status },
    { key: caseSearchAttributes.casePriority, value: state.priority },
    { key: caseSearchAttributes.customerId, value: state.customerId },
    { key: caseSearchAttributes.slaBreached, value: state.slaBreached },
    { key: caseSearchAttributes.nextDeadlineAt, value: nextDeadline?.dueAt ? new Date(nextDeadline.dueAt) : null },
  ]);
  upsertMemo({ summary: caseHeadline(state) });
}
