import type { Actor, ActorRole } from '../../domain/actors';
import { checkAction, type ActionCheck } from '../../domain/case-actions';
import { joinSteps, type CaseContext, type CaseDefinition, type CaseStateBase, type EffectOutcome, type Step } from '../../domain/case-definition';
import type { ComplaintInput } from '../../domain/complaint-case';
import type { CaseState } from '../../domain/case-state';
import { caseWorkflowId } from '../../domain/case-types';
import type { StepEvent } from '../../domain/messages';
import { fireDueEvents, nextEventAcrossMs } from '../../domain/sla-clock';
import type { WorkingCalendar } from '../../domain/working-calendar';
import { testCalendar } from './incidents';
import { complaintInput as baseComplaintInput } from './case-inputs';

/**
 * The case runtime (workflows/case-runtime.ts) without Temporal: the same calls into a case
 * definition, in the same order, on a JSON copy of the state, with the same step numbering. Each
 * call takes the case as the previous call left it and returns the next one; nothing is shared.
 *
 * What the runtime does by itself is explicit here: effects are returned, not run (answer them with
 * `effectDone`), and time passes only through `advance` (an action at a later `nowMs` does not fire
 * the clocks in between first; call `advance` for that, as the runtime's timer would have).
 */

export { days, hours, minutes } from './durations';
/** An instant given in Shanghai local time: `shanghai('2026-11-17T10:00')`. */
export const shanghai = (local: string) => Date.parse(`${local}+08:00`);
export const iso = (ms: number) => new Date(ms).toISOString();

export const actorOf = (role: ActorRole): Actor => ({ id: `${role}/test`, role });

type AnyDefinition<State extends CaseStateBase, Effect, Signal> = CaseDefinition<never, State, Effect, Signal>;

/** The case between two calls: its state, the last step recorded and the time of the last call. */
export interface CaseAt<State> {
  state: State;
  lastStep: number;
  nowMs: number;
}

/** One transition done: the new case plus what the transition asked to record and to run. */
export interface Stepped<State, Effect> extends CaseAt<State> {
  ok: true;
  events: StepEvent[];
  effects: Effect[];
}

export type Refusal = Extract<ActionCheck, { ok: false }>;

/**
 * `def.open` as the runtime calls it at the start of a case: the workflow id added, step 1. The
 * runtime hands a new case every later rule (`patched()` is true) and a case from an old history
 * none; pass `rules` (e.g. `allRules(def)`) for the first, leave it out for the second.
 */
export function openCase<Input extends { caseId: string; workflowId: string }, State extends CaseStateBase, Effect, Signal>(
  def: CaseDefinition<Input, State, Effect, Signal>,
  input: Omit<Input, 'workflowId'>,
  nowMs: number,
  options: { rules?: Record<string, boolean> } = {},
): Stepped<State, Effect> {
  const workflowId = caseWorkflowId(def.type, input.caseId);
  const opened = def.open({ ...input, workflowId } as Input, { nowMs, step: 1, ...(options.rules ? { rules: options.rules } : {}) });
  return { ok: true, state: opened.state, lastStep: opened.events.length, nowMs, events: opened.events, effects: opened.effects ?? [] };
}

/** The later rules of a case type as a new case gets them: every one on (or those named, on; the rest off). */
export function allRules(def: { laterRules?: readonly string[] }, only?: readonly string[]): Record<string, boolean> {
  return Object.fromEntries((def.laterRules ?? []).map((rule) => [rule, only ? only.includes(rule) : true]));
}

/**
 * An action as the `act` update takes it: checked against the action table from the current status,
 * refined by the type, then decided on a copy of the state. A refusal is returned, not thrown.
 */
export function act<State extends CaseStateBase, Effect, Signal>(
  def: AnyDefinition<State, Effect, Signal>,
  current: CaseAt<State>,
  action: string,
  input: unknown,
  actor: Actor,
  nowMs: number,
  options: { requestId?: string } = {},
): Stepped<State, Effect> | Refusal {
  assertForward(current, nowMs);
  const request = { action, input, actor };
  const validateCtx: CaseContext = { nowMs, step: current.lastStep + 1 };
  const status = def.view(current.state, validateCtx).status;
  const checked = checkAction(def.actions, { action, input, actorRole: actor.role }, status);
  const refined = def.refine ? def.refine(current.state, request, checked, validateCtx) : checked;
  if (!refined.ok) return refined;
  return transition(current, nowMs, (draft, ctx) => def.decide(draft, { action, input: refined.input, actor }, ctx), options.requestId);
}

/**
 * Time passes up to `toMs` as the runtime's single timer lets it: at each instant a clock or the
 * type's own wake-up falls due, the due clock events go to `onClock`, then `onWake` runs if due.
 * A wake-up the type does not act on is looked at again a minute later (as the runtime does).
 * Returns every event and effect of the way, in order.
 */
export function advance<State extends CaseStateBase, Effect, Signal>(def: AnyDefinition<State, Effect, Signal>, current: CaseAt<State>, toMs: number): Stepped<State, Effect> {
  assertForward(current, toMs);
  let at: CaseAt<State> = current;
  const events: StepEvent[] = [];
  const effects: Effect[] = [];
  let lastPassMs: number | undefined;
  for (let passes = 0; !def.isClosed(at.state); passes++) {
    if (passes > 10_000) throw new Error('advance: the case keeps waking without end');
    const dueMs = nextDueAtMs(def, at.state);
    if (dueMs === undefined) break;
    let passMs = Math.max(dueMs, at.nowMs);
    if (lastPassMs !== undefined && passMs <= lastPassMs) passMs = lastPassMs + 60_000;
    if (passMs > toMs) break;
    at = pass(def, at, passMs, events, effects);
    lastPassMs = passMs;
  }
  if (!def.isClosed(at.state) && at.nowMs < toMs) at = pass(def, at, toMs, events, effects);
  return { ok: true, state: at.state, lastStep: at.lastStep, nowMs: toMs, events, effects };
}

/** An effect's answer (or failure), as the runtime hands it back after running the effect. */
export function effectDone<State extends CaseStateBase, Effect, Signal>(
  def: AnyDefinition<State, Effect, Signal>,
  current: CaseAt<State>,
  effect: Effect,
  outcome: EffectOutcome,
  nowMs: number,
): Stepped<State, Effect> {
  assertForward(current, nowMs);
  if (!def.onEffectDone) throw new Error(`${def.type} has no effects to answer`);
  return transition(current, nowMs, (draft, ctx) => def.onEffectDone!(draft, effect, outcome, ctx));
}

/** A signal from outside (an alert batch for an incident). */
export function signal<State extends CaseStateBase, Effect, Signal>(def: AnyDefinition<State, Effect, Signal>, current: CaseAt<State>, message: Signal, nowMs: number): Stepped<State, Effect> {
  assertForward(current, nowMs);
  if (!def.onSignal) throw new Error(`${def.type} takes no signals`);
  return transition(current, nowMs, (draft, ctx) => def.onSignal!(draft, message, ctx));
}

/** An operator loaded calendar data. */
export function calendarLoaded<State extends CaseStateBase, Effect, Signal>(
  def: AnyDefinition<State, Effect, Signal>,
  current: CaseAt<State>,
  calendar: WorkingCalendar,
  nowMs: number,
): Stepped<State, Effect> {
  assertForward(current, nowMs);
  return transition(current, nowMs, (draft, ctx) => def.onCalendar?.(draft, calendar, ctx) ?? { events: [] });
}

/** The `state` query's answer. */
export function viewOf<State extends CaseStateBase, Effect, Signal>(def: AnyDefinition<State, Effect, Signal>, current: CaseAt<State>): CaseState {
  return def.view(current.state, { nowMs: current.nowMs, step: current.lastStep + 1 });
}

/** The accepted result of an action, or a failure naming the refusal. */
export function accepted<State, Effect>(result: Stepped<State, Effect> | Refusal): Stepped<State, Effect> {
  if (!result.ok) throw new Error(`refused (${result.kind}): ${result.message}${result.fields ? ` ${JSON.stringify(result.fields)}` : ''}`);
  return result;
}

/** The refusal of an action, or a failure if it was accepted. */
export function refused<State, Effect>(result: Stepped<State, Effect> | Refusal): Refusal {
  if (result.ok) throw new Error(`accepted, with events ${result.events.map((entry) => entry.type).join(', ')}`);
  return result;
}

export const typesOf = (result: { events: StepEvent[] }) => result.events.map((entry) => entry.type);

/** The only event of `type` in a result (fails when there is none or several). */
export function only(result: { events: StepEvent[] }, type: string): StepEvent {
  const found = result.events.filter((entry) => entry.type === type);
  if (found.length !== 1) throw new Error(`expected one ${type}, got ${found.length} among ${typesOf(result).join(', ')}`);
  return found[0]!;
}

/** A complaint as the API opens it, with the calendar pinned for its year. */
export function complaintInput(caseId: string, receivedAtMs: number, overrides: Partial<ComplaintInput> = {}): ComplaintInput {
  return baseComplaintInput(caseId, { calendar: testCalendar(receivedAtMs), ...overrides });
}

export { incidentInput, testCalendar, testTimeZone } from './incidents';

function nextDueAtMs<State extends CaseStateBase>(def: AnyDefinition<State, unknown, unknown>, state: State): number | undefined {
  const times = [nextEventAcrossMs(Object.values(state.clocks)), def.nextWakeAtMs?.(state)].filter((time): time is number => time !== undefined);
  return times.length > 0 ? Math.min(...times) : undefined;
}

/** One turn of the runtime's loop at `nowMs`: due clock events first, then the due wake-up. */
function pass<State extends CaseStateBase, Effect, Signal>(def: AnyDefinition<State, Effect, Signal>, current: CaseAt<State>, nowMs: number, events: StepEvent[], effects: Effect[]): CaseAt<State> {
  const clocked = transition(current, nowMs, (draft, ctx) =>
    joinSteps(
      ...Object.values(draft.clocks)
        .flatMap((clock) => fireDueEvents(clock, ctx.nowMs))
        .map((clockEvent) => def.onClock(draft, clockEvent, ctx)),
    ),
  );
  const woken = transition(clocked, nowMs, (draft, ctx) => {
    const wakeAt = def.nextWakeAtMs?.(draft);
    return def.onWake && wakeAt !== undefined && ctx.nowMs >= wakeAt ? def.onWake(draft, ctx) : { events: [] };
  });
  events.push(...clocked.events, ...woken.events);
  effects.push(...clocked.effects, ...woken.effects);
  return woken;
}

/** The runtime's transition: the rule changes a JSON copy, which becomes the state; steps count its events. */
function transition<State, Effect>(current: CaseAt<State>, nowMs: number, rule: (draft: State, ctx: CaseContext) => Step<Effect>, requestId?: string): Stepped<State, Effect> {
  const ctx: CaseContext = { nowMs, step: current.lastStep + 1, ...(requestId ? { requestId } : {}) };
  const draft = JSON.parse(JSON.stringify(current.state)) as State;
  const step = rule(draft, ctx);
  return { ok: true, state: draft, lastStep: current.lastStep + step.events.length, nowMs, events: step.events, effects: step.effects ?? [] };
}

function assertForward(current: CaseAt<unknown>, nowMs: number): void {
  if (nowMs < current.nowMs) throw new Error(`time runs forward: ${iso(nowMs)} is before ${iso(current.nowMs)}`);
}
