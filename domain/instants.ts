import { z } from 'zod';

/** Clock skew tolerated on a time sent from elsewhere that lies slightly in our future. */
export const clockSkewToleranceMs = 5 * 60_000;
const dayMs = 24 * 3600_000;

/**
 * An ISO 8601 instant that has already happened, at most `maxAgeDays` ago: when a user complained
 * or an outage began. Anything else would start clocks in the future or already long breached.
 */
export function pastInstant(maxAgeDays: number) {
  return z.iso.datetime({ offset: true }).refine(
    (value) => {
      const atMs = Date.parse(value);
      const nowMs = Date.now();
      return atMs <= nowMs + clockSkewToleranceMs && atMs >= nowMs - maxAgeDays * dayMs;
    },
    { message: `must not lie in the future nor more than ${maxAgeDays} days ago` },
  );
}

/**
 * An ISO 8601 instant dated 1970 or later, where no window applies (when an alert started, when a
 * response expects completion). Earlier years are refused: nothing Pledge handles happened before
 * Unix time began, and dates before the year 100 do not survive a round trip through Postgres into
 * JavaScript. /openapi.json declares exactly this as a pattern (zod's ISO pattern from 1970 on).
 */
export function instantSince1970() {
  return z.iso
    .datetime({ offset: true })
    .refine((value) => !/^\d{4}-/.test(value) || Number(value.slice(0, 4)) >= 1970, { message: 'must not lie before 1970' })
    .meta({ format: 'date-time', pattern: since1970Pattern });
}

const since1970Year = '(?:19[7-9][0-9]|[2-9][0-9]{3})';
const since1970LeapYear = '(?:19(?:7[26]|8[048]|9[26])|[2-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[3579][26])00)';
const since1970Pattern =
  `^(?:${since1970LeapYear}-02-29|${since1970Year}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8])))` +
  'T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$';
