import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { caseHeadline, nextPendingDeadline, type CaseState, type DeadlineView } from '../domain/case-state';
import { caseSearchAttributes } from './search-attributes';

/**
 * What the Temporal UI shows of a case: search attributes (the UI's and the API's filters), the memo
 * headline and the "current details" panel. Each is upserted only when it changed, so a case's
 * history does not grow with repeats. D5: `CustomerId` is not upserted here: the API sets it once,
 * at start, to the customer's keyed pseudonym (api/open-case.ts), which a workflow cannot compute;
 * leaving it out changes no command, so running cases replay (test/replay).
 */
export class CasePublisher {
  private published = { searchAttributes: '', memo: '', details: '' };

  publish(state: CaseState): void {
    const nextDeadline = nextPendingDeadline(state.deadlines);
    const searchAttributes = [
      { key: caseSearchAttributes.caseType, value: state.type },
      { key: caseSearchAttributes.caseStatus, value: state.status },
      { key: caseSearchAttributes.casePriority, value: state.priority },
      { key: caseSearchAttributes.slaBreached, value: state.slaBreached },
      { key: caseSearchAttributes.nextDeadlineAt, value: nextDeadline?.dueAt ? new Date(nextDeadline.dueAt) : null },
    ];
    const searchAttributesKey = JSON.stringify(searchAttributes.map(({ key, value }) => [key.name, value]));
    if (searchAttributesKey !== this.published.searchAttributes) {
      upsertSearchAttributes(searchAttributes);
      this.published.searchAttributes = searchAttributesKey;
    }
    const memo = caseHeadline(state);
    if (memo !== this.published.memo) {
      upsertMemo({ summary: memo });
      this.published.memo = memo;
    }
    const details = caseDetailsMarkdown(state, nextDeadline);
    if (details !== this.published.details) {
      setCurrentDetails(details);
      this.published.details = details;
    }
  }
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
