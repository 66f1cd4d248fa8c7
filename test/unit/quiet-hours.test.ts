import { describe, expect, it } from 'vitest';
import { shippedCalendarYears } from '../../config/calendar';
import { staffDeliveryAtMs } from '../../domain/quiet-hours';

const calendar = { version: 'test', years: shippedCalendarYears() };
const quiet = { from: '22:00', to: '08:00' };
const shanghai = (local: string) => Date.parse(`${local}+08:00`);
const deliver = (local: string) => staffDeliveryAtMs(shanghai(local), quiet, 'Asia/Shanghai', calendar);

describe('staff quiet hours (C9)', () => {
  it('delivers at once during working hours on a working day', () => {
    expect(deliver('2026-11-24T14:00:00')).toBe(shanghai('2026-11-24T14:00:00'));
  });

  it('holds a late-evening warning until 08:00 the next working day', () => {
    expect(deliver('2026-11-24T22:30:00')).toBe(shanghai('2026-11-25T08:00:00'));
    expect(deliver('2026-11-25T06:59:00')).toBe(shanghai('2026-11-25T08:00:00'));
  });

  it('holds a Friday-night warning over the weekend', () => {
    expect(deliver('2026-11-27T23:00:00')).toBe(shanghai('2026-11-30T08:00:00'));
  });

  it('holds a warning raised during National Day until the first working day after it', () => {
    // Off 1–7 Oct 2026; Thu 8 Oct is the first working day after the holiday.
    expect(deliver('2026-10-03T12:00:00')).toBe(shanghai('2026-10-08T08:00:00'));
  });

  it('delivers at once when no quiet hours are set', () => {
    expect(staffDeliveryAtMs(shanghai('2026-11-28T03:00:00'), null, 'Asia/Shanghai', calendar)).toBe(shanghai('2026-11-28T03:00:00'));
  });
});
