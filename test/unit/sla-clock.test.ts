import { describe, expect, it } from 'vitest';
import { deadlineState, fireDueEvents, meetClock, nextEventAcrossMs, pauseClock, resumeClock, startClock } from '../../domain/sla-clock';

const hour = 3600_000;
const start = Date.UTC(2026, 10, 23, 1, 0);
const clock = (durationMs = 24 * hour) => startClock({ name: 'firstResponse', policyVersion: 'v1', startedAtMs: start, durationMs, warnAtFraction: 0.8 });

describe('SLA clock arithmetic', () => {
  it('C4: is due exactly 24 h after it starts and warns at 80 % (C9)', () => {
    const c = clock();
    expect(c.dueAtMs - start).toBe(24 * hour);
    expect(c.warnAtMs - start).toBe(19 * hour + 12 * 60_000);
    expect(nextEventAcrossMs([c])).toBe(c.warnAtMs);
  });

  it('C4: does not breach one minute before the due time, breaches at it', () => {
    const c = clock();
    expect(fireDueEvents(c, c.dueAtMs - 60_000).map((event) => event.kind)).toEqual(['warned']);
    expect(deadlineState(c)).toBe('pending');
    expect(nextEventAcrossMs([c])).toBe(c.dueAtMs);
    expect(fireDueEvents(c, c.dueAtMs)).toEqual([{ clock: 'firstResponse', kind: 'breached', atMs: c.dueAtMs }]);
    expect(deadlineState(c)).toBe('breached');
    expect(fireDueEvents(c, c.dueAtMs + hour)).toEqual([]);
  });

  it('fires a missed warning and the breach together when both are past', () => {
    const c = clock(hour);
    expect(fireDueEvents(c, start + 2 * hour).map((event) => event.kind)).toEqual(['warned', 'breached']);
  });

  it('a met clock fires nothing more; meeting it twice changes nothing', () => {
    const c = clock();
    expect(meetClock(c, start + hour)).toBe(true);
    expect(meetClock(c, start + 2 * hour)).toBe(false);
    expect(deadlineState(c)).toBe('met');
    expect(nextEventAcrossMs([c])).toBeUndefined();
    expect(fireDueEvents(c, start + 48 * hour)).toEqual([]);
  });

  it('meeting a breached clock records it as kept late and keeps the breach', () => {
    const c = clock(hour);
    fireDueEvents(c, start + 2 * hour);
    meetClock(c, start + 3 * hour);
    expect(c.metAtMs).toBe(start + 3 * hour);
    expect(deadlineState(c)).toBe('breached');
  });

  it('paused time does not count: a 2-day pause moves due and warning times by exactly 2 days', () => {
    const c = clock();
    const { dueAtMs, warnAtMs } = c;
    expect(pauseClock(c, start + hour)).toBe(true);
    expect(deadlineState(c)).toBe('paused');
    expect(nextEventAcrossMs([c])).toBeUndefined();
    expect(fireDueEvents(c, start + 30 * hour)).toEqual([]);
    expect(resumeClock(c, start + 49 * hour)).toBe(48 * hour);
    expect(c.dueAtMs).toBe(dueAtMs + 48 * hour);
    expect(c.warnAtMs).toBe(warnAtMs + 48 * hour);
    expect(c.pausedTotalMs).toBe(48 * hour);
  });
});
