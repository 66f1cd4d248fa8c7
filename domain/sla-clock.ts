/**
 * An SLA clock: a promise with a due time, a warning point and pauses (time spent waiting on the
 * user does not count). Pure arithmetic over epoch milliseconds so workflows, the API and tests
 * share one definition; the workflow supplies `now` from its deterministic clock.
 */
export type ClockState = 'running' | 'paused' | 'met' | 'breached' | 'cancelled';

export interface SlaClock {
  name: string;
  policyVersion: string;
  startedAtMs: number;
  durationMs: number;
  dueAtMs: number;
  warnAtMs: number;
  state: ClockState;
  pausedAtMs?: number;
  pausedTotalMs: number;
  warnedAtMs?: number;
  breachedAtMs?: number;
  metAtMs?: number;
  /** Working-day clocks: the calendar the due time came from, and whether it had every year needed. */
  calendarVersion?: string;
  provisional?: boolean;
  /** Working-day clocks: their length, so a newly loaded calendar can lay them again. */
  workingDays?: number;
  /** C6/C7 (later rule): while paused, the working time left until the due and the warning times. */
  workingMsLeft?: number;
  warnWorkingMsLeft?: number;
}

export type ClockEventKind = 'warned' | 'breached';

export interface ClockEvent {
  clock: string;
  kind: ClockEventKind;
  atMs: number;
}

export function startClock(options: {
  name: string;
  policyVersion: string;
  startedAtMs: number;
  durationMs: number;
  warnAtFraction: number;
  calendarVersion?: string;
  provisional?: boolean;
}): SlaClock {
  return {
    ...(options.calendarVersion === undefined ? {} : { calendarVersion: options.calendarVersion, provisional: options.provisional ?? false }),
    name: options.name,
    policyVersion: options.policyVersion,
    startedAtMs: options.startedAtMs,
    durationMs: options.durationMs,
    dueAtMs: options.startedAtMs + options.durationMs,
    warnAtMs: options.startedAtMs + Math.round(options.durationMs * options.warnAtFraction),
    state: 'running',
    pausedTotalMs: 0,
  };
}

/** When this clock next needs attention, or undefined when it has nothing left to say. */
export function nextEventAtMs(clock: SlaClock): number | undefined {
  if (clock.state !== 'running') return undefined;
  return clock.warnedAtMs === undefined ? clock.warnAtMs : clock.dueAtMs;
}

export function nextEventAcrossMs(clocks: Iterable<SlaClock>): number | undefined {
  let earliest: number | undefined;
  for (const clock of clocks) {
    const at = nextEventAtMs(clock);
    if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
  }
  return earliest;
}

/** Fires every warning and breach that is due at `nowMs`; a breach at exactly the due time. */
export function fireDueEvents(clock: SlaClock, nowMs: number): ClockEvent[] {
  const events: ClockEvent[] = [];
  if (clock.state !== 'running') return events;
  if (clock.warnedAtMs === undefined && nowMs >= clock.warnAtMs) {
    clock.warnedAtMs = clock.warnAtMs;
    events.push({ clock: clock.name, kind: 'warned', atMs: clock.warnAtMs });
  }
  if (nowMs >= clock.dueAtMs) {
    clock.state = 'breached';
    clock.breachedAtMs = clock.dueAtMs;
    events.push({ clock: clock.name, kind: 'breached', atMs: clock.dueAtMs });
  }
  return events;
}

/** The promise was kept (or, after a breach, kept late: the breach stays on record). */
export function meetClock(clock: SlaClock, nowMs: number): boolean {
  if (clock.metAtMs !== undefined) return false;
  if (clock.state === 'paused') resumeClock(clock, nowMs);
  clock.metAtMs = nowMs;
  if (clock.state === 'running') clock.state = 'met';
  return true;
}

export function pauseClock(clock: SlaClock, nowMs: number): boolean {
  if (clock.state !== 'running') return false;
  clock.state = 'paused';
  clock.pausedAtMs = nowMs;
  return true;
}

/** Moves the due and warning times by exactly the time spent paused. */
export function resumeClock(clock: SlaClock, nowMs: number): number {
  if (clock.state !== 'paused' || clock.pausedAtMs === undefined) return 0;
  const pausedMs = nowMs - clock.pausedAtMs;
  clock.pausedTotalMs += pausedMs;
  clock.dueAtMs += pausedMs;
  clock.warnAtMs += pausedMs;
  clock.pausedAtMs = undefined;
  clock.state = 'running';
  return pausedMs;
}

/** The promise no longer applies (the user withdrew, the case closed early). */
export function cancelClock(clock: SlaClock): boolean {
  if (clock.state !== 'running' && clock.state !== 'paused') return false;
  clock.state = 'cancelled';
  clock.pausedAtMs = undefined;
  return true;
}

/**
 * Moves a running or paused clock to a new due time (e.g. a calendar year was loaded), keeping the
 * time already spent paused; returns false for a clock that is already met or breached.
 */
export function rescheduleClock(clock: SlaClock, dueAtMs: number, warnAtFraction: number): boolean {
  if (clock.state !== 'running' && clock.state !== 'paused') return false;
  const durationMs = dueAtMs - clock.pausedTotalMs - clock.startedAtMs;
  clock.durationMs = durationMs;
  clock.dueAtMs = dueAtMs;
  clock.warnAtMs = clock.startedAtMs + clock.pausedTotalMs + Math.round(durationMs * warnAtFraction);
  return true;
}

export type DeadlineState = 'pending' | 'paused' | 'met' | 'breached' | 'cancelled';

export function deadlineState(clock: SlaClock): DeadlineState {
  if (clock.state === 'running') return 'pending';
  return clock.state;
}
