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
