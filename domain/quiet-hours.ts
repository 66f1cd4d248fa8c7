import { DateTime } from 'luxon';
import { isWorkingDay, type WorkingCalendar } from './working-calendar';

/**
 * C9: when a staff warning raised at `atMs` is delivered. Inside quiet hours, or on a day off, it
 * waits for the next working hour (the quiet window's end on the next working day); the event it
 * reports is still recorded at its exact time.
 */
export function staffDeliveryAtMs(atMs: number, quietHours: { from: string; to: string } | null, timeZone: string, calendar: WorkingCalendar): number {
  if (!quietHours) return atMs;
  const [fromHour, fromMinute] = quietHours.from.split(':').map(Number) as [number, number];
  const [toHour, toMinute] = quietHours.to.split(':').map(Number) as [number, number];
  const local = DateTime.fromMillis(atMs, { zone: timeZone });
  const minuteOfDay = local.hour * 60 + local.minute;
  const quietFrom = fromHour * 60 + fromMinute;
  const quietTo = toHour * 60 + toMinute;
  const wrapsMidnight = quietFrom > quietTo;
  const inQuiet = wrapsMidnight ? minuteOfDay >= quietFrom || minuteOfDay < quietTo : minuteOfDay >= quietFrom && minuteOfDay < quietTo;
  if (!inQuiet && isWorkingDay(calendar, local).working) return atMs;

  // The next quiet-window end on a working day, starting with today's if it is still ahead.
  let day = local.startOf('day');
  if (minuteOfDay >= quietTo) day = day.plus({ days: 1 });
  for (let attempts = 0; attempts < 60 && !isWorkingDay(calendar, day).working; attempts++) day = day.plus({ days: 1 });
  return day.set({ hour: toHour, minute: toMinute }).toMillis();
}
