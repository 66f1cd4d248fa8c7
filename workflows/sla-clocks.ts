import { condition } from '@temporalio/workflow';
import type { DeadlineView } from '../domain/case-state';
import { deadlineState, fireDueEvents, nextEventAcrossMs, type ClockEvent, type SlaClock } from '../domain/sla-clock';

/**
 * The SLA clocks of one case. A single durable timer runs at a time, for whichever clock needs
 * attention next; when an action moves a deadline the wait is simply recomputed.
 */
export class SlaClocks {
  private readonly clocks = new Map<string, SlaClock>();

  add(clock: SlaClock): void {
    this.clocks.set(clock.name, clock);
  }

  get(name: string): SlaClock | undefined {
    return this.clocks.get(name);
  }

  all(): SlaClock[] {
    return [...this.clocks.values()];
  }

  /**
   * Waits until `changed()` holds, a clock is due or `alsoWakeAtMs` passes; returns the warnings
   * and breaches now due.
   */
  async waitForChangeOrDue(changed: () => boolean, alsoWakeAtMs?: number): Promise<ClockEvent[]> {
    const clockAtMs = nextEventAcrossMs(this.clocks.values());
    const nextAtMs = clockAtMs === undefined ? alsoWakeAtMs : alsoWakeAtMs === undefined ? clockAtMs : Math.min(clockAtMs, alsoWakeAtMs);
    if (nextAtMs === undefined) {
      await condition(changed);
      return [];
    }
    const waitMs = nextAtMs - Date.now();
    if (waitMs > 0) await condition(changed, waitMs);
    return this.fireDue();
  }

  private fireDue(): ClockEvent[] {
    const now = Date.now();
    return [...this.clocks.values()].flatMap((clock) => fireDueEvents(clock, now));
  }

  /** What the timeline records when a clock starts: its promise, due time and the rules it came from. */
  startedEventData(name: string): Record<string, unknown> {
    const clock = this.clocks.get(name);
    if (!clock) throw new Error(`no clock ${name}`);
    return {
      clock: clock.name,
      startedAt: new Date(clock.startedAtMs).toISOString(),
      dueAt: new Date(clock.dueAtMs).toISOString(),
      warnAt: new Date(clock.warnAtMs).toISOString(),
      policyVersion: clock.policyVersion,
      ...(clock.calendarVersion === undefined ? {} : { calendarVersion: clock.calendarVersion, provisional: clock.provisional ?? false }),
    };
  }

  views(): DeadlineView[] {
    return [...this.clocks.values()].map((clock) => ({
      name: clock.name,
      dueAt: new Date(clock.dueAtMs).toISOString(),
      state: deadlineState(clock),
      warnAt: new Date(clock.warnAtMs).toISOString(),
      metAt: iso(clock.metAtMs),
      breachedAt: iso(clock.breachedAtMs),
      pausedMinutes: Math.round(clock.pausedTotalMs / 60_000),
      policyVersion: clock.policyVersion,
      ...(clock.calendarVersion === undefined ? {} : { calendarVersion: clock.calendarVersion, provisional: clock.provisional ?? false }),
    }));
  }
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
