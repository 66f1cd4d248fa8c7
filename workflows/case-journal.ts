import { proxyActivities, setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { Actor } from '../domain/actors';
import { caseHeadline, nextPendingDeadline, type CaseState, type DeadlineView } from '../domain/case-state';
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
  setCurrentDetails(caseDetailsMarkdown(state, nextDeadline));
}

/** The "current details" panel of the Temporal UI: where the case stands and what it races against. */
function caseDetailsMarkdown(state: CaseState, nextDeadline: DeadlineView | undefined): string {
  const lines = [
    `**${state.caseId}** · ${state.type} · **${state.status}**${state.priority ? ` · ${state.priority}` : ''}${state.slaBreached ? ' · **SLA breached**' : ''}`,
    state.nextStep ? `Next: ${state.nextStep}` : 'Closed',
    nextDeadline ? `Next deadline: ${nextDeadline.name} due ${nextDeadline.dueAt}` : null,
    ...state.deadlines.map((deadline) => `- ${deadline.name}: ${deadline.state}${deadline.dueAt ? ` (due ${deadline.dueAt})` : ''}${deadline.provisional ? ' — provisional' : ''}`),
  ];
  return lines.filter((line): line is string => line !== null).join('\n');
}
