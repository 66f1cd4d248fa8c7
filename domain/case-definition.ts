import type { Actor } from './actors';
import type { ActionCheck, ActionTable } from './case-actions';
import type { CaseState } from './case-state';
import type { CaseType } from './case-types';
import type { StepEvent } from './messages';
import type { ClockEvent, SlaClock } from './sla-clock';
import type { WorkingCalendar } from './working-calendar';

/**
 * A case type for the case runtime: plain data and pure functions. The runtime (workflows/
 * case-runtime.ts) hands every function a private copy of the state (a draft) to change and
 * records what it returns; nothing here awaits, reads a clock or touches I/O, so each rule is
 * unit-tested without Temporal and a replay computes the same answers.
 */
export interface CaseDefinition<Input, State extends CaseStateBase, Effect = never, Signal = never, Action extends TypedAction = TypedAction> {
  type: CaseType;
  actions: ActionTable<string>;
  /**
   * Rules added after cases of this type were already running, by id. The runtime asks Temporal
   * (`patched`) once when a case opens: a new case gets every rule, a case that opened before a
   * rule existed keeps the behaviour it started with for its whole life. Rules read `ruleIsOn`.
   */
  laterRules?: readonly string[];
  /** The case as it opens: first state plus the intake events (recorded together, in one activity). */
  open(input: Input, ctx: CaseContext): { state: State } & Step<Effect>;
  /** Refusals the status table cannot express (time windows, earlier decisions); checked in the validator too. */
  refine?(state: State, request: ActionRequest, checked: ActionCheck, ctx: CaseContext): ActionCheck;
  /** One action, already validated against the live state: its input is what the action's schema parsed. */
  decide(draft: State, action: Action & { actor: Actor }, ctx: CaseContext): Step<Effect>;
  /** A clock warned or breached. */
  onClock(draft: State, event: ClockEvent, ctx: CaseContext): Step<Effect>;
  /** Something of the type's own fell due (auto-publish, reminders, the end of a window). */
  onWake?(draft: State, ctx: CaseContext): Step<Effect>;
  /** When the type wants `onWake` next, besides the clocks. */
  nextWakeAtMs?(state: State): number | undefined;
  /** An operator loaded calendar data. */
  onCalendar?(draft: State, calendar: WorkingCalendar, ctx: CaseContext): Step<Effect>;
  /** A message from outside that is not an action (alerts for an incident). */
  onSignal?(draft: State, signal: Signal, ctx: CaseContext): Step<Effect>;
  /** What an effect answered (an affected count, a fan-out's totals) or why it failed. */
  onEffectDone?(draft: State, effect: Effect, outcome: EffectOutcome, ctx: CaseContext): Step<Effect>;
  /** Where the case is; the `state` query, the read model and the search attributes. */
  view(state: State, ctx: CaseContext): CaseState;
  isClosed(state: State): boolean;
}

/** What every case state holds, so the runtime can find the clocks and the pinned calendar. */
export interface CaseStateBase {
  /** The later rules this case opened with (absent in cases opened before any existed). */
  rules?: Record<string, boolean>;
  caseId: string;
  workflowId: string;
  clocks: Record<string, SlaClock>;
  calendar: WorkingCalendar;
  timeZone: string;
  updatedAtMs: number;
}

export interface CaseContext {
  /** At opening: which later rules this case gets (see CaseDefinition.laterRules). */
  rules?: Record<string, boolean>;
  nowMs: number;
  /** The step number the transition's first event will take (stable keys for its messages). */
  step: number;
  /** The update id of the action being decided (the API's Idempotency-Key when given). */
  requestId?: string;
}

export interface ActionRequest {
  action: string;
  input?: unknown;
  actor: Actor;
}

/** An action name with its parsed input; each case type narrows it to the union of its own (ActionUnion). */
export interface TypedAction {
  action: string;
  input: unknown;
}

/** What a transition asks the runtime to do: events to record (with their messages), then effects. */
export interface Step<Effect = never> {
  events: StepEvent[];
  effects?: Effect[];
}

export type EffectOutcome = { ok: true; result: unknown } | { ok: false; message: string; retryable: boolean; attempt: number };

export const noStep: Step<never> = { events: [] };

/** Joins the steps of several rules, in order. */
export function joinSteps<Effect>(...steps: Array<Step<Effect> | undefined>): Step<Effect> {
  const events = steps.flatMap((step) => step?.events ?? []);
  const effects = steps.flatMap((step) => step?.effects ?? []);
  return effects.length > 0 ? { events, effects } : { events };
}

/** An event of the trail, stamped at the context's time. */
export function event(type: string, actor: Actor, ctx: CaseContext, data: Record<string, unknown> = {}, messages: Pick<StepEvent, 'notifications' | 'staffNotifications'> = {}): StepEvent {
  return { type, actor, occurredAt: new Date(ctx.nowMs).toISOString(), data, ...messages };
}

/** Whether a case follows a rule added after cases of its type were already running. */
export function ruleIsOn(state: Pick<CaseStateBase, 'rules'>, rule: string): boolean {
  return state.rules?.[rule] === true;
}
