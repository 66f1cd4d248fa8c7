import { describe, expect, it } from 'vitest';
import { shippedCalendarYears } from '../../config/calendar';
import { addWorkingDays } from '../../domain/working-calendar';

const calendar = { version: 'test', years: shippedCalendarYears() };
const tz = 'Asia/Shanghai';
const shanghai = (local: string) => Date.parse(`${local}+08:00`);

describe('mainland-China working days', () => {
  // The State Council's 2026 holiday notice: National Day off Thu 1 Oct – Wed 7 Oct;
  // Sun 20 Sep and Sat 10 Oct are adjusted working days (调休).
  it('C6: 3 working days from Wed 30 Sep 2026 end on Sat 10 Oct (the 调休 day) after the holiday', () => {
    const due = addWorkingDays(calendar, shanghai('2026-09-30T10:00:00'), 3, tz);
    // 8 Oct (Thu) = 1, 9 Oct (Fri) = 2, 10 Oct (Sat, adjusted working day) = 3
    expect(new Date(due.dueAtMs).toISOString()).toBe(new Date(shanghai('2026-10-11T00:00:00')).toISOString());
    expect(due.provisional).toBe(false);
  });

  it('C7: 5 working days from Wed 30 Sep 2026 end on Tue 13 Oct', () => {
    const due = addWorkingDays(calendar, shanghai('2026-09-30T10:00:00'), 5, tz);
    // …10 Oct = 3, 11 Oct is Sunday, 12 Oct (Mon) = 4, 13 Oct (Tue) = 5
    expect(due.dueAtMs).toBe(shanghai('2026-10-14T00:00:00'));
  });

  it('skips plain weekends and counts from the day after receipt', () => {
    // Fri 20 Nov 2026: Mon 23, Tue 24, Wed 25
    expect(addWorkingDays(calendar, shanghai('2026-11-20T23:30:00'), 3, tz).dueAtMs).toBe(shanghai('2026-11-26T00:00:00'));
  });

  it('marks a deadline reaching an uncovered year as provisional and counts weekends alone there', () => {
    const due = addWorkingDays(calendar, shanghai('2026-12-30T09:00:00'), 3, tz);
    // 31 Dec (Thu) = 1, 1 Jan 2027 (Fri, not in the data: counted as working) = 2, 4 Jan (Mon) = 3
    expect(due.provisional).toBe(true);
    expect(due.missingYears).toEqual([2027]);
    expect(due.dueAtMs).toBe(shanghai('2027-01-05T00:00:00'));
  });
});
