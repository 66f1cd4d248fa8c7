import { describe, expect, it } from 'vitest';
import { isKnownPostgresSocketRace } from '../../observability/known-driver-faults';

describe('the one driver fault the worker and the API survive', () => {
  it("matches postgres.js's null-socket write after a lost connection, and nothing else", () => {
    const race = new TypeError("Cannot read properties of null (reading 'write')");
    race.stack = `${race.message}\n    at nextWrite (/app/node_modules/postgres/src/connection.js:255:12)`;
    expect(isKnownPostgresSocketRace(race)).toBe(true);
    const elsewhere = new TypeError("Cannot read properties of null (reading 'write')");
    elsewhere.stack = `${elsewhere.message}\n    at ours (/app/notifications/dispatcher.ts:10:1)`;
    expect(isKnownPostgresSocketRace(elsewhere)).toBe(false);
    expect(isKnownPostgresSocketRace(new Error("Cannot read properties of null (reading 'write') postgres/src/connection.js"))).toBe(false);
  });
});
