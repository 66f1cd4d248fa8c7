import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseState } from '../../domain/case-state';
import { defaultComplaintSlaPolicy } from '../../domain/sla-policy';
import { openedUpdate } from '../../workflows/protocol';
import { ComplaintHarness, minutes } from '../support/complaint-harness';
import { eventually } from '../support/eventually';

// Issue 15 (B4): a wake-up that falls due while the case runtime is busy recording an earlier step
// is acted on at once, not after the runtime's 60-s back-off for wake-ups a type leaves alone.
const harness = new ComplaintHarness(55491, 'case-runtime-wake-ups');

beforeAll(() => harness.start());
afterAll(() => harness.stop());

const deadline = (state: CaseState, name: string) => state.deadlines.find((entry) => entry.name === name)!;

/** Recording a warning takes `seconds` of real time (a slow database), so the breach after it falls due meanwhile. */
async function slowWarnings(seconds: number): Promise<() => Promise<void>> {
  const { sql } = harness.db;
  await sql.unsafe(`
    create or replace function pledge_test_slow_warning() returns trigger language plpgsql as $$
    begin
      if new.type = 'sla.warned' then perform pg_sleep(${seconds}); end if;
      return new;
    end $$;
    drop trigger if exists pledge_test_slow_warning on case_events;
    create trigger pledge_test_slow_warning before insert on case_events for each row execute function pledge_test_slow_warning();`);
  return async () => void (await sql.unsafe('drop trigger if exists pledge_test_slow_warning on case_events'));
}

describe('wake-ups that fall due while a step is being recorded', () => {
  it('C9: a breach that falls due while its warning is still being recorded is recorded at its due time, not a minute late', async () => {
    // P1 first response in 1 minute, warned at 95 %: the breach is due 3 s after the warning,
    // whose recording takes 3.5 s. Before the fix the runtime saw a due wake-up it had not looked
    // at, took it for one the type had left alone and waited 60 s.
    const policy = {
      ...defaultComplaintSlaPolicy,
      version: 'complaint-sla/test-close-warning',
      firstResponseMinutes: { ...defaultComplaintSlaPolicy.firstResponseMinutes, P1: 1 },
      warnAtFraction: 0.95,
    };
    const restore = await slowWarnings(3.5);
    try {
      const handle = await harness.open({ priority: 'P1', policy });
      const opened = await handle.executeUpdate(openedUpdate);
      const firstResponse = deadline(opened, 'firstResponse');
      const dueAtMs = Date.parse(firstResponse.dueAt!);
      expect(dueAtMs - Date.parse(firstResponse.warnAt!)).toBe(3_000);

      await harness.sleepUntil(Date.parse(firstResponse.warnAt!) + 10);
      await harness.eventsOnceRecorded(opened.caseId, 'sla.warned');
      // Past any back-off the old runtime would have taken (the server skips the time).
      await harness.env.sleep(minutes(2));
      const events = await eventually(
        () => harness.events(opened.caseId),
        (recorded) => recorded.some((event) => event.type === 'sla.breached'),
      );

      const warned = events.find((event) => event.type === 'sla.warned')!;
      const breached = events.find((event) => event.type === 'sla.breached')!;
      // The warning was acted on before the breach was due, so the breach fell due during its recording.
      expect(warned.occurredAt.getTime()).toBeLessThan(dueAtMs);
      expect(Date.parse(String(breached.data.dueAt))).toBe(dueAtMs);
      const lateMs = breached.occurredAt.getTime() - dueAtMs;
      console.log(`breach recorded ${lateMs} ms after its due time (the warning took 3.5 s to record)`);
      expect(lateMs).toBeGreaterThanOrEqual(0);
      expect(lateMs).toBeLessThan(2_500);
      expect(deadline(await harness.state(handle), 'firstResponse').state).toBe('breached');
    } finally {
      await restore();
    }
  });
});
