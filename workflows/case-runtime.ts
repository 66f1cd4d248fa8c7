import { allHandlersFinished, ApplicationFailure, condition, currentUpdateInfo, log, patched, proxyActivities, setHandler, sleep, workflowInfo, type SignalDefinition } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { systemActor, type Actor } from '../domain/actors';
import { checkAction } from '../domain/case-actions';
import { event, joinSteps, noStep, type ActionRequest, type CaseContext, type CaseDefinition, type CaseStateBase, type EffectOutcome, type Step, type TypedAction } from '../domain/case-definition';
import type { CaseState } from '../domain/case-state';
import type { StepEvent } from '../domain/messages';
import { fireDueEvents, nextEventAcrossMs } from '../domain/sla-clock';
import { WakeWatch } from '../domain/wake-watch';
import type { WorkingCalendar } from '../domain/working-calendar';
import { CasePublisher } from './case-publisher';
import { Lock } from './lock';
import { actUpdate, allowedInputOrThrow, calendarUpdatedSignal, openedUpdate, stateQuery } from './protocol';

const { recordSteps } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  // A record must land even if Postgres is away for hours; after a day the step fails visibly.
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['DataError', 'TemplateError'] },
});

/** What a case run carries into its next run when it continues as new. */
export interface CarriedCase<State, Effect> {
  state: State;
  lastStep: number;
  /** Background effects not yet done, with the attempts already made. */
  pendingEffects: Array<{ effect: Effect; attempt: number }>;
}

export interface CaseEffects<Effect> {
  run(effect: Effect): Promise<unknown>;
  /** Background effects (fan-outs) run one at a time beside the case; the others run inside their transition. */
  inBackground(effect: Effect): boolean;
  /** How many times a failed background effect is tried before it is left failed (it is recorded each time). */
  maxAttempts: number;
}

export interface CaseRun<Input, State extends CaseStateBase, Effect, Signal, Action extends TypedAction> {
  definition: CaseDefinition<Input & { workflowId: string }, State, Effect, Signal, Action>;
  input: Input;
  carried?: CarriedCase<State, Effect>;
  effects?: CaseEffects<Effect>;
  /** Messages from outside that are not actions, each delivered to `onSignal` in arrival order. */
  signals?: SignalDefinition<[Signal]>[];
  /** Continue-as-new once a run's history is this long (or when the server suggests it). */
  maxHistoryEvents?: number;
  continueAsNew(carried: CarriedCase<State, Effect>): Promise<never>;
}

type InboxItem<Signal> = { kind: 'calendar'; calendar: WorkingCalendar } | { kind: 'signal'; signal: Signal };

const defaultMaxHistoryEvents = 8_000;

/**
 * Runtime rule (a Temporal patch, asked where it decides): a wake-up that fell due, or was moved,
 * after the loop last looked at it (a clock warned and its breach came due while the warning was
 * being recorded; an action or a calendar moved a deadline into the past) is acted on at once. Runs
 * recorded before it replay their 60-s back-off timers unchanged.
 */
export const dueWakeUpsAtOncePatch = 'case-runtime-due-wake-ups-at-once';

/**
 * The case runtime: what every case type shares. Handlers are registered before the first await;
 * transitions run one at a time (an action waits for the one before it, from validation to its
 * recorded result); each transition's events are recorded in one activity; one timer waits for the
 * next clock event or wake-up; search attributes follow the state; long-lived cases continue as new
 * carrying their state. The case type supplies only pure rules (domain/).
 */
export async function runCase<Input, State extends CaseStateBase, Effect = never, Signal = never, Action extends TypedAction = TypedAction>(
  run: CaseRun<Input, State, Effect, Signal, Action>,
): Promise<State> {
  const { definition: def } = run;
  const workflowId = workflowInfo().workflowId;
  const lock = new Lock();
  const publisher = new CasePublisher();
  const inbox: InboxItem<Signal>[] = [];
  const background: Array<{ effect: Effect; attempt: number }> = [...(run.carried?.pendingEffects ?? [])];
  let backgroundRunning = false;
  let revision = 0;
  let lastStep = run.carried?.lastStep ?? 0;
  let intakeRecorded = run.carried !== undefined;

  const context = (extra: Partial<CaseContext> = {}): CaseContext => ({ nowMs: Date.now(), step: lastStep + 1, ...extra });
  // Asked once, before the first command: a case that opened before a rule existed never gets it.
  const rules = run.carried ? undefined : Object.fromEntries((def.laterRules ?? []).map((rule) => [rule, patched(rule)]));
  const opening = run.carried ? undefined : def.open({ ...run.input, workflowId }, context({ rules }));
  let state: State = run.carried?.state ?? opening!.state;
  const view = (): CaseState => def.view(state, context());

  /** New requests meet the action's request schema (the validator); applying it, replays included, its input schema. */
  function check(request: ActionRequest, schema: 'request' | 'input') {
    const checked = checkAction(def.actions, { action: request.action, input: request.input, actorRole: request.actor.role }, view().status, schema);
    return allowedInputOrThrow(def.refine ? def.refine(state, request, checked, context()) : checked);
  }

  setHandler(stateQuery, view);
  setHandler(openedUpdate, async () => {
    await condition(() => intakeRecorded);
    return view();
  });
  setHandler(
    actUpdate,
    (request) =>
      lock.run(async () => {
        // Checked again now that it is this action's turn: an action before it may have changed the case.
        const input = check(request, 'input');
        const requestId = currentUpdateInfo()?.id;
        // The input was parsed by this action's own schema, so it is the action's typed input.
        const action = { action: request.action, input, actor: request.actor } as Action & { actor: Actor };
        await transition((draft, ctx) => def.decide(draft, action, ctx), { failUpdate: true, requestId });
        return view();
      }),
    { validator: (request) => void check(request, 'request') },
  );
  setHandler(calendarUpdatedSignal, (calendar) => void inbox.push({ kind: 'calendar', calendar }));
  for (const definition of run.signals ?? []) setHandler(definition, (signal) => void inbox.push({ kind: 'signal', signal }));

  /** One transition: the rule changes a private copy; the copy becomes the state once its events are recorded. */
  async function transition(rule: (draft: State, ctx: CaseContext) => Step<Effect>, options: { failUpdate?: boolean; requestId?: string } = {}): Promise<void> {
    const ctx = context(options.requestId ? { requestId: options.requestId } : {});
    const before = state;
    const draft = JSON.parse(JSON.stringify(state)) as State;
    const step = rule(draft, ctx);
    state = draft;
    revision++;
    try {
      if (step.events.length > 0) await record(step.events);
    } catch (error) {
      await recordFailure(step.events, error);
      if (!options.failUpdate) return;
      state = before;
      throw ApplicationFailure.create({ type: 'StepFailed', message: `the step could not be recorded: ${(error as Error).message}`, nonRetryable: true });
    }
    for (const effect of step.effects ?? []) {
      if (run.effects?.inBackground(effect)) background.push({ effect, attempt: 0 });
      else await runInlineEffect(effect);
    }
  }

  async function record(events: StepEvent[]): Promise<void> {
    const current = view();
    publisher.publish(current);
    await recordSteps({ workflowId, firstStep: lastStep + 1, state: current, events });
    lastStep += events.length;
  }

  /** A step that cannot be recorded (bad data, a template error) stops visibly instead of retrying forever. */
  async function recordFailure(events: StepEvent[], error: unknown): Promise<void> {
    const message = (error as Error).message;
    log.error('case step failed', { workflowId, caseId: state.caseId, events: events.map((entry) => entry.type), error: message });
    const ctx = context();
    const failed = event(
      'case.step-failed',
      systemActor,
      ctx,
      { events: events.map((entry) => entry.type), error: message.slice(0, 1000) },
      {
        staffNotifications: [
          {
            idempotencyKey: `${workflowId}:step-failed:${ctx.step}:${ctx.nowMs}`,
            role: 'supervisor',
            kind: 'case.step-failed',
            subject: `${state.caseId}: a step could not be recorded`,
            body: `Steps ${events.map((entry) => entry.type).join(', ')} of ${state.caseId} failed: ${message.slice(0, 1000)}`,
            occurredAt: new Date(ctx.nowMs).toISOString(),
            deliverAfter: new Date(ctx.nowMs).toISOString(),
          },
        ],
      },
    );
    try {
      await record([failed]);
    } catch (again) {
      log.error('case step failure could not be recorded either', { workflowId, error: (again as Error).message });
    }
  }

  async function runInlineEffect(effect: Effect): Promise<void> {
    const outcome = await attempt(effect, 1);
    if (def.onEffectDone) await transition((draft, ctx) => def.onEffectDone!(draft, effect, outcome, ctx));
  }

  async function attempt(effect: Effect, attemptNumber: number): Promise<EffectOutcome> {
    try {
      return { ok: true, result: await run.effects!.run(effect) };
    } catch (error) {
      // A child's or activity's failure wraps its cause: the innermost says what went wrong and whether retrying can help.
      let retryable = true;
      let innermost = error as Error & { cause?: unknown };
      for (let cause: unknown = error; cause instanceof Error; cause = (cause as { cause?: unknown }).cause) {
        if (cause instanceof ApplicationFailure && cause.nonRetryable) retryable = false;
        innermost = cause;
      }
      return { ok: false, message: innermost.message, retryable, attempt: attemptNumber };
    }
  }

  /** Background effects (fan-outs), one at a time; a failure is recorded and retried, never wedges the case. */
  async function runBackground(): Promise<void> {
    for (;;) {
      await condition(() => background.length > 0);
      const entry = background[0]!;
      backgroundRunning = true;
      entry.attempt++;
      const outcome = await attempt(entry.effect, entry.attempt);
      await lock.run(() => transition((draft, ctx) => def.onEffectDone?.(draft, entry.effect, outcome, ctx) ?? noStep));
      const again = !outcome.ok && outcome.retryable && entry.attempt < (run.effects?.maxAttempts ?? 1);
      if (again) await sleep(Math.min(60_000 * 2 ** (entry.attempt - 1), 30 * 60_000));
      else background.shift();
      backgroundRunning = false;
    }
  }

  const wakeWatch = new WakeWatch();

  /** Warnings and breaches due now. */
  function clocksDue(draft: State, ctx: CaseContext): Step<Effect> {
    const clockSteps = Object.values(draft.clocks)
      .flatMap((clock) => fireDueEvents(clock, ctx.nowMs))
      .map((clockEvent) => def.onClock(draft, clockEvent, ctx));
    wakeWatch.lookedAt('clocks', ctx.nowMs, nextEventAcrossMs(Object.values(draft.clocks)));
    return joinSteps(...clockSteps);
  }

  /** The type's own wake-ups due now (auto-publish, reminders, the end of a window). */
  function wakeDue(draft: State, ctx: CaseContext): Step<Effect> {
    const wakeAt = def.nextWakeAtMs?.(draft);
    const step = def.onWake && wakeAt !== undefined && ctx.nowMs >= wakeAt ? def.onWake(draft, ctx) : noStep;
    wakeWatch.lookedAt('wake', ctx.nowMs, def.nextWakeAtMs?.(draft));
    return step;
  }

  /** When the clocks and the type's own wake-ups next fall due. */
  const nextWakeUps = () => ({ clocks: nextEventAcrossMs(Object.values(state.clocks)), wake: def.nextWakeAtMs?.(state) });

  const nextWakeAtMs = (): number | undefined => {
    const times = Object.values(nextWakeUps()).filter((time): time is number => time !== undefined);
    return times.length > 0 ? Math.min(...times) : undefined;
  };

  const backgroundIdle = () => background.length === 0 && !backgroundRunning;
  const historyIsLong = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= (run.maxHistoryEvents ?? defaultMaxHistoryEvents);

  void runBackground();
  if (opening) {
    await lock.run(async () => {
      publisher.publish(view());
      await record(opening.events);
      for (const effect of opening.effects ?? []) {
        if (run.effects?.inBackground(effect)) background.push({ effect, attempt: 0 });
        else await runInlineEffect(effect);
      }
    });
    intakeRecorded = true;
  }

  for (;;) {
    // Clocks first: a deadline that passed before anything else happened is recorded as missed;
    // then what arrived (calendars, alerts), so a due wake-up acts on the latest facts.
    await lock.run(() => transition(clocksDue));
    while (inbox.length > 0) {
      const item = inbox.shift()!;
      await lock.run(() => transition((draft, ctx) => (item.kind === 'calendar' ? (def.onCalendar?.(draft, item.calendar, ctx) ?? noStep) : (def.onSignal?.(draft, item.signal, ctx) ?? noStep))));
    }
    await lock.run(() => transition(wakeDue));
    if (def.isClosed(state)) break;
    if (historyIsLong() && backgroundIdle()) {
      await condition(allHandlersFinished);
      if (inbox.length === 0 && backgroundIdle() && !def.isClosed(state)) {
        await run.continueAsNew({ state, lastStep, pendingEffects: [] });
      }
      continue;
    }
    const seenRevision = revision;
    const wakeAt = nextWakeAtMs();
    const woken = () => revision !== seenRevision || inbox.length > 0;
    if (wakeAt === undefined) await condition(woken);
    else if (wakeAt > Date.now()) await condition(woken, wakeAt - Date.now());
    else if (wakeWatch.dueUnseen(Date.now(), nextWakeUps()) && wakeWatch.againAtOnce(Date.now()) && patched(dueWakeUpsAtOncePatch)) continue;
    else {
      // A wake-up the type looked at and did not act on: never spin; look again in a minute or on the next change.
      log.warn('case wake-up due but not acted on', { workflowId, wakeAt: new Date(wakeAt).toISOString() });
      await condition(woken, 60_000);
    }
  }
  await condition(() => backgroundIdle() && allHandlersFinished());
  return state;
}
