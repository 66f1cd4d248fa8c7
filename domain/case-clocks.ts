import { systemActor } from './actors';
import { event, type CaseContext } from './case-definition';
import type { DeadlineView } from './case-state';
import type { StepEvent } from './messages';
import { deadlineState, meetClock, pauseClock, rescheduleClock, resumeClock, startClock, type SlaClock } from './sla-clock';
import { addWorkingDays, addWorkingMs, workingMsBetween, type WorkingCalendar } from './working-calendar';

/** The rules every case's clocks share: how they start, are shown, met and laid on a new calendar. */

export function minutesClock(name: string, options: { policyVersion: string; startedAtMs: number; minutes: number; warnAtFraction: number }): SlaClock {
  return startClock({ name, policyVersion: options.policyVersion, startedAtMs: options.startedAtMs, durationMs: options.minutes * 60_000, warnAtFraction: options.warnAtFraction });
}

export function workingDaysClock(
  name: string,
  options: { policyVersion: string; startedAtMs: number; workingDays: number; warnAtFraction: number; calendar: WorkingCalendar; timeZone: string },
): SlaClock {
  const due = addWorkingDays(options.calendar, options.startedAtMs, options.workingDays, options.timeZone);
  const clock = startClock({
    name,
    policyVersion: options.policyVersion,
    startedAtMs: options.startedAtMs,
    durationMs: due.dueAtMs - options.startedAtMs,
    warnAtFraction: options.warnAtFraction,
    calendarVersion: due.calendarVersion,
    provisional: due.provisional,
  });
  return { ...clock, workingDays: options.workingDays };
}

/** What the timeline records when a clock starts: its promise, due time and the rules it came from. */
export function clockStartedData(clock: SlaClock): Record<string, unknown> {
  return {
    clock: clock.name,
    startedAt: new Date(clock.startedAtMs).toISOString(),
    dueAt: new Date(clock.dueAtMs).toISOString(),
    warnAt: new Date(clock.warnAtMs).toISOString(),
    policyVersion: clock.policyVersion,
    ...calendarFields(clock),
  };
}

export function clockStartedEvent(clock: SlaClock, ctx: CaseContext): StepEvent {
  return event('sla.started', systemActor, ctx, clockStartedData(clock));
}

export function clockViews(clocks: Record<string, SlaClock>): DeadlineView[] {
  return Object.values(clocks).map((clock) => ({
    name: clock.name,
    dueAt: new Date(clock.dueAtMs).toISOString(),
    state: deadlineState(clock),
    warnAt: new Date(clock.warnAtMs).toISOString(),
    metAt: isoOrNull(clock.metAtMs),
    breachedAt: isoOrNull(clock.breachedAtMs),
    pausedMinutes: Math.round(clock.pausedTotalMs / 60_000),
    policyVersion: clock.policyVersion,
    ...calendarFields(clock),
  }));
}

/** Meets the named clocks still open; an `sla.met` event for each (late when it had breached). */
export function meetClocks(clocks: Record<string, SlaClock>, names: readonly string[], ctx: CaseContext): StepEvent[] {
  return names.flatMap((name) => {
    const clock = clocks[name];
    if (!clock || !meetClock(clock, ctx.nowMs)) return [];
    return [event('sla.met', systemActor, ctx, { clock: name, dueAt: new Date(clock.dueAtMs).toISOString(), late: clock.breachedAtMs !== undefined })];
  });
}

/**
 * A newly loaded calendar: provisional working-day deadlines are laid again on it (keeping the
 * time spent paused), each move recorded as `sla.rescheduled`.
 */
export function rescheduleProvisionalClocks(clocks: Record<string, SlaClock>, calendar: WorkingCalendar, timeZone: string, warnAtFraction: number, ctx: CaseContext): StepEvent[] {
  return Object.values(clocks).flatMap((clock) => {
    if (clock.workingDays === undefined || !clock.provisional || clock.calendarVersion === calendar.version) return [];
    const due = addWorkingDays(calendar, clock.startedAtMs, clock.workingDays, timeZone);
    const previousDueAt = new Date(clock.dueAtMs).toISOString();
    if (!rescheduleClock(clock, due.dueAtMs + clock.pausedTotalMs, warnAtFraction)) return [];
    clock.calendarVersion = due.calendarVersion;
    clock.provisional = due.provisional;
    return [
      event('sla.rescheduled', systemActor, ctx, {
        clock: clock.name,
        previousDueAt,
        dueAt: new Date(clock.dueAtMs).toISOString(),
        calendarVersion: due.calendarVersion,
        provisional: due.provisional,
      }),
    ];
  });
}

function calendarFields(clock: SlaClock) {
  return clock.calendarVersion === undefined ? {} : { calendarVersion: clock.calendarVersion, provisional: clock.provisional ?? false };
}

export function isoOrNull(ms: number | undefined | null): string | null {
  return ms === undefined || ms === null ? null : new Date(ms).toISOString();
}

/**
 * C6/C7: pauses of a working-day clock stay on the calendar. Paused, it keeps the working time left
 * until its due (and warning) time; resumed, that time is laid on the calendar again from the
 * resume, so a due time never lands on a day off and a pause across a weekend or holiday does not
 * stretch the deadline by calendar days. Hour clocks keep elapsed-time pauses (C3–C5).
 */
export function pauseOnWorkingTime(clock: SlaClock, nowMs: number, calendar: WorkingCalendar, timeZone: string): boolean {
  if (!pauseClock(clock, nowMs)) return false;
  if (clock.workingDays !== undefined) {
    clock.workingMsLeft = workingMsBetween(calendar, nowMs, clock.dueAtMs, timeZone);
    if (clock.warnedAtMs === undefined) clock.warnWorkingMsLeft = workingMsBetween(calendar, nowMs, clock.warnAtMs, timeZone);
  }
  return true;
}

/** Resumes a clock paused by pauseOnWorkingTime; answers the time it spent paused. */
export function resumeOnWorkingTime(clock: SlaClock, nowMs: number, calendar: WorkingCalendar, timeZone: string): number {
  if (clock.state !== 'paused' || clock.pausedAtMs === undefined) return 0;
  if (clock.workingMsLeft === undefined) return resumeClock(clock, nowMs);
  const pausedMs = nowMs - clock.pausedAtMs;
  clock.pausedTotalMs += pausedMs;
  clock.dueAtMs = addWorkingMs(calendar, nowMs, clock.workingMsLeft, timeZone);
  if (clock.warnWorkingMsLeft !== undefined) clock.warnAtMs = addWorkingMs(calendar, nowMs, clock.warnWorkingMsLeft, timeZone);
  clock.workingMsLeft = undefined;
  clock.warnWorkingMsLeft = undefined;
  clock.pausedAtMs = undefined;
  clock.state = 'running';
  return pausedMs;
}
