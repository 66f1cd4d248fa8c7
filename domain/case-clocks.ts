import { systemActor } from './actors';
import { event, type CaseContext } from './case-definition';
import type { DeadlineView } from './case-state';
import type { StepEvent } from './messages';
import { deadlineState, meetClock, rescheduleClock, startClock, type SlaClock } from './sla-clock';
import { addWorkingDays, type WorkingCalendar } from './working-calendar';

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
