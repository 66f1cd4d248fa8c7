import type { Actor } from './actors';
import type { CaseDetails } from './case-details';
import type { CaseType } from './case-types';
import type { DeadlineState } from './sla-clock';

/** What anyone may read about a case at any moment (C8): the answer of the `state` query. */
export interface DeadlineView {
  name: string;
  dueAt: string | null;
  state: DeadlineState;
  warnAt: string | null;
  metAt: string | null;
  breachedAt: string | null;
  pausedMinutes: number;
  policyVersion: string;
  /** Working-day deadlines: the calendar version used, and whether a year was missing from it. */
  calendarVersion?: string;
  provisional?: boolean;
}

export interface CaseState {
  caseId: string;
  workflowId: string;
  type: CaseType;
  status: string;
  priority: string | null;
  customerId: string | null;
  summary: string;
  openedAt: string;
  updatedAt: string;
  slaBreached: boolean;
  deadlines: DeadlineView[];
  nextStep: string | null;
  expectedCompletionAt: string | null;
  allowedActions: string[];
  /** One of the types' detail shapes; readers that do not narrow by `type` read its fields as unknown. */
  details: CaseDetails & Record<string, unknown>;
}

export interface CaseAction {
  action: string;
  input?: Record<string, unknown>;
  actor: Actor;
}

/** One entry of the append-only case trail (D1). */
export interface CaseEvent {
  type: string;
  actor: Actor;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** The earliest deadline still running: what the case is racing against now. */
export function nextPendingDeadline(deadlines: readonly DeadlineView[]): DeadlineView | undefined {
  return deadlines.filter((deadline) => deadline.state === 'pending' && deadline.dueAt !== null).sort((a, b) => (a.dueAt! < b.dueAt! ? -1 : 1))[0];
}

/** A one-line human summary, shown as the workflow memo in the Temporal UI. */
export function caseHeadline(state: CaseState): string {
  const parts = [state.caseId, state.type, state.status, state.priority, state.slaBreached ? 'SLA BREACHED' : null, state.summary];
  return parts.filter(Boolean).join(' · ');
}
