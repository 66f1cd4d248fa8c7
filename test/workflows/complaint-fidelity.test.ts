import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkingCalendar } from '../../domain/working-calendar';
import { ComplaintHarness, days, minutes, shippedCalendar } from '../support/complaint-harness';
import { eventually } from '../support/eventually';

// The later complaint rules at their real lengths on the time-skipping server (issue "Promise
// fidelity"): working-day pauses laid on the calendar, and nothing waiting silently.
const harness = new ComplaintHarness(55438, 'complaint-fidelity');
const shanghai = (local: string) => Date.parse(`${local}+08:00`);

/** The shipped years plus an operator-loaded 2027 with a day off on Monday 11 January (test data). */
const calendarWith2027: WorkingCalendar = {
  version: 'chinese-days (test) + operator 2027 (test)',
  years: { ...shippedCalendar.years, '2027': { holidays: ['2027-01-11'], workdays: [], source: 'operator (test)' } },
};

beforeAll(() => harness.start());
afterAll(() => harness.stop());

/** Actions land a few milliseconds after the instant the server's clock was moved to. */
function expectWithinASecond(actual: string | null, expectedMs: number): void {
  expect(Math.abs(Date.parse(actual!) - expectedMs)).toBeLessThan(1_000);
}

const deadline = async (handle: Parameters<ComplaintHarness['deadline']>[0], name: string) => harness.deadline(handle, name);

describe('C6, C7: pauses on working-day clocks stay on the calendar', () => {
  it('C6, C7: a pause from Friday 17:00 to Monday 10:00 (a day off) keeps the working time left; the deadline breaches on time', async () => {
    // Received Wed 6 Jan 09:00. Preliminary (3 working days: Thu 7, Fri 8, Tue 12) due at the end of Tue 12;
    // result (5: … Wed 13, Thu 14) due at the end of Thu 14.
    await harness.sleepUntil(shanghai('2027-01-06T09:00'));
    const handle = await harness.open({ calendar: calendarWith2027 });
    expect((await deadline(handle, 'preliminary')).dueAt).toBe(new Date(shanghai('2027-01-13T00:00')).toISOString());
    await harness.sleepUntil(shanghai('2027-01-08T17:00'));
    await harness.act(handle, 'request-info', { question: 'Which invoice?' });
    await harness.sleepUntil(shanghai('2027-01-11T10:00'));
    await harness.act(handle, 'customer-reply', { message: 'INV-7' }, 'agent');
    // 31 h of working time were left at Friday 17:00 (Fri 17–24, Tue 12); from Monday 10:00, a day off: Tue 12, then 7 h of Wed 13.
    expectWithinASecond((await deadline(handle, 'preliminary')).dueAt, shanghai('2027-01-13T07:00'));
    // 79 h were left of the result clock: Tue, Wed, Thu, then 7 h of Fri 15.
    expectWithinASecond((await deadline(handle, 'result')).dueAt, shanghai('2027-01-15T07:00'));

    await harness.sleepUntil(shanghai('2027-01-13T06:59'));
    expect((await deadline(handle, 'preliminary')).state).toBe('pending');
    await harness.sleepUntil(shanghai('2027-01-13T07:01'));
    const breached = await eventually(
      () => deadline(handle, 'preliminary'),
      (current) => current.state === 'breached',
    );
    expectWithinASecond(breached.breachedAt, shanghai('2027-01-13T07:00'));
  });
});

describe('C14: nothing waits silently', () => {
  it('C14: a user asked for information is reminded after 3 days and the case closes with a notice after 14', async () => {
    const handle = await harness.open();
    const { caseId } = await harness.state(handle);
    await harness.act(handle, 'request-info', { question: 'Which card was charged?' });
    const askedAt = await harness.now();
    await harness.env.sleep(days(3) - minutes(1));
    expect(await harness.eventTypes(caseId)).not.toContain('complaint.info-reminder');
    await harness.env.sleep(minutes(2));
    await harness.eventsOnceRecorded(caseId, 'complaint.info-reminder');
    const reminder = await eventually(
      () => harness.db.sql`select template from notifications where case_id = ${caseId} and template = 'complaint.info-reminder'`,
      (rows) => rows.length > 0,
    );
    expect(reminder[0]!.template).toBe('complaint.info-reminder');
    await harness.sleepUntil(askedAt + days(14) + minutes(1));
    const outcome = await handle.result();
    expect(outcome).toMatchObject({ status: 'closed', outcome: 'unanswered' });
    const closedNotice = await eventually(
      () => harness.db.sql`select template from notifications where case_id = ${caseId} and template = 'complaint.closed-unanswered'`,
      (rows) => rows.length > 0,
    );
    expect(closedNotice).not.toHaveLength(0);
  });

  it('C14: a dispute is arbitrated within 5 working days: warned, then breached and escalated; a referral reminds staff every 7 days', async () => {
    const handle = await harness.open();
    const { caseId } = await harness.state(handle);
    await harness.act(handle, 'acknowledge', { message: 'Checking' });
    await harness.act(handle, 'resolve', { resolution: 'Refunded' });
    await harness.act(handle, 'dispute', { reason: 'Not refunded' });
    const arbitration = await deadline(handle, 'arbitration');
    expect(arbitration.state).toBe('pending');
    await harness.sleepUntil(Date.parse(arbitration.dueAt!) + minutes(1));
    await eventually(
      () => deadline(handle, 'arbitration'),
      (current) => current.state === 'breached',
    );
    const escalations = await eventually(
      () => harness.db.sql`select role, kind from staff_notifications where case_id = ${caseId} and kind in ('sla.warned', 'sla.breached') order by occurred_at`,
      (rows) => rows.length === 2,
    );
    expect(escalations.map((row) => `${row.kind}:${row.role}`)).toEqual(['sla.warned:agent', 'sla.breached:supervisor']);

    await harness.act(handle, 'arbitrate', { decision: 'uphold', reasons: 'The refund left on time' }, 'supervisor');
    await harness.act(handle, 'refer-third-party', { body: 'Internet Society of China', reference: 'ISC-1' });
    await harness.env.sleep(days(7) + minutes(1));
    const reminders = await eventually(
      () => harness.db.sql`select role from staff_notifications where case_id = ${caseId} and kind = 'complaint.referral-reminder'`,
      (rows) => rows.length === 1,
    );
    expect(reminders.map((row) => row.role)).toEqual(['agent']);
  });
});
