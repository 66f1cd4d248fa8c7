import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWorkingDay } from '../../domain/working-calendar';
import { caseSearchAttributes } from '../../workflows/search-attributes';
import { calendarUpdatedSignal } from '../../workflows/protocol';
import { ComplaintHarness, days, hours, minutes, shippedCalendar } from '../support/complaint-harness';

// The complaint SLA clocks on the real time-skipping server, at their real lengths. Tests that
// move to a fixed date run in date order: the server's clock only goes forward.
const harness = new ComplaintHarness(55435, 'complaint-clocks');
const shanghai = (local: string) => Date.parse(`${local}+08:00`);

/** The next 22:00 in Shanghai on a working day whose next day is a working day too. */
async function nextWorkingEveningBeforeWorkingDay(): Promise<DateTime> {
  let evening = DateTime.fromMillis(await harness.now(), { zone: 'Asia/Shanghai' })
    .plus({ days: 1 })
    .set({ hour: 22, minute: 0, second: 0, millisecond: 0 });
  while (!isWorkingDay(shippedCalendar, evening).working || !isWorkingDay(shippedCalendar, evening.plus({ days: 1 })).working) evening = evening.plus({ days: 1 });
  return evening;
}

/** Minutes on working days between two instants, counted one by one (independent of the arithmetic under test). */
function workingMinutes(fromMs: number, toMs: number): number {
  let count = 0;
  for (let at = fromMs; at + 60_000 <= toMs + 1_000; at += 60_000) {
    if (isWorkingDay(shippedCalendar, DateTime.fromMillis(at, { zone: 'Asia/Shanghai' }).startOf('day')).working) count++;
  }
  return count;
}

beforeAll(() => harness.start());
afterAll(() => harness.stop());

describe('quiet hours (C9)', () => {
  it('C9: a P1 warning raised in quiet hours (22:48) is delivered at once, never after its breach; the event keeps its exact time', async () => {
    // 22:00 in Shanghai on a working day followed by one: a P1 warns at 22:48, inside quiet hours (22:00–08:00).
    const evening = await nextWorkingEveningBeforeWorkingDay();
    await harness.sleepUntil(evening.toMillis());
    const handle = await harness.open({ priority: 'P1' });
    const openedAt = Date.parse((await harness.state(handle)).openedAt);
    await harness.env.sleep(minutes(49));
    const caseId = (await harness.state(handle)).caseId;
    const warned = (await harness.eventsOnceRecorded(caseId, 'sla.warned')).find((event) => event.type === 'sla.warned')!;
    expect(Date.parse(String(warned.data.at))).toBe(openedAt + minutes(48));
    const [agentNote] = await harness.db.sql`select deliver_after from staff_notifications where case_id = ${caseId} and kind = 'sla.warned'`;
    expect(agentNote!.deliver_after.getTime()).toBe(openedAt + minutes(48));
  });

  it('C9: a warning in quiet hours that can still arrive before its breach waits for the next working hour', async () => {
    // A P3 received at 11:00 warns at 06:12 the next (working) day, 80 % of 24 h, and breaches at 11:00: held to 08:00.
    const evening = await nextWorkingEveningBeforeWorkingDay();
    await harness.sleepUntil(evening.set({ hour: 11 }).toMillis());
    const handle = await harness.open({ priority: 'P3' });
    const openedAt = Date.parse((await harness.state(handle)).openedAt);
    await harness.env.sleep(hours(19) + minutes(13));
    const caseId = (await harness.state(handle)).caseId;
    await harness.eventsOnceRecorded(caseId, 'sla.warned');
    const [agentNote] = await harness.db.sql`select deliver_after from staff_notifications where case_id = ${caseId} and kind = 'sla.warned'`;
    const nextMorning = DateTime.fromMillis(openedAt, { zone: 'Asia/Shanghai' }).plus({ days: 1 }).set({ hour: 8, minute: 0, second: 0, millisecond: 0 });
    expect(agentNote!.deliver_after.getTime()).toBe(nextMorning.toMillis());
  });
});

describe('first response (C3, C4)', () => {
  it('C4: a P3 first response met one minute before 24 h stays met', async () => {
    const handle = await harness.open({ priority: 'P3' });
    await harness.env.sleep(hours(24) - minutes(1));
    expect((await harness.deadline(handle, 'firstResponse')).state).toBe('pending');
    await harness.act(handle, 'acknowledge', { message: 'We are on it' });
    await harness.env.sleep(days(1));
    expect(await harness.deadline(handle, 'firstResponse')).toMatchObject({ state: 'met' });
    expect((await harness.state(handle)).slaBreached).toBe(false);
  });

  it('C4: a P3 first response breaches one minute after 24 h, and not at 23 h 59 min', async () => {
    const handle = await harness.open({ priority: 'P3' });
    const opened = await harness.state(handle);
    await harness.env.sleep(hours(24) - minutes(1));
    expect((await harness.state(handle)).slaBreached).toBe(false);
    await harness.env.sleep(minutes(2));
    const firstResponse = await harness.deadline(handle, 'firstResponse');
    expect(firstResponse.state).toBe('breached');
    expect(Date.parse(firstResponse.breachedAt!) - Date.parse(opened.openedAt)).toBe(hours(24));
  });

  it('C3: a P1 first response is met at 59 min and breached at 61 min', async () => {
    const kept = await harness.open({ priority: 'P1' });
    const broken = await harness.open({ priority: 'P1' });
    await harness.env.sleep(minutes(59));
    await harness.act(kept, 'acknowledge', { message: 'Securing your account now' });
    await harness.env.sleep(minutes(2));
    expect((await harness.deadline(kept, 'firstResponse')).state).toBe('met');
    expect((await harness.deadline(broken, 'firstResponse')).state).toBe('breached');
  });
});

describe('full response for major issues (C5)', () => {
  it('C5: a major complaint owes a full response in 48 h: met at 47 h 59 min, breached at 48 h 01 min', async () => {
    const kept = await harness.open({ major: true });
    const broken = await harness.open({ major: true });
    await harness.act(kept, 'acknowledge', { message: 'Looking into it' });
    await harness.act(broken, 'acknowledge', { message: 'Looking into it' });
    await harness.env.sleep(hours(48) - minutes(1));
    await harness.act(kept, 'report-preliminary', { finding: 'A routing fault in your district' });
    await harness.env.sleep(minutes(2));
    expect((await harness.deadline(kept, 'fullResponse')).state).toBe('met');
    expect((await harness.deadline(broken, 'fullResponse')).state).toBe('breached');
  });
});

describe('working-day clocks (C6, C7)', () => {
  it('C6, C7: the preliminary and result clocks are met one minute before their due time and breached one minute after', async () => {
    const kept = await harness.open();
    const broken = await harness.open();
    const preliminary = await harness.deadline(kept, 'preliminary');
    expect(preliminary.calendarVersion).toBe(shippedCalendar.version);
    await harness.sleepUntil(Date.parse(preliminary.dueAt!) - minutes(1));
    await harness.act(kept, 'report-preliminary', { finding: 'The second charge is a billing error' });
    await harness.env.sleep(minutes(2));
    expect((await harness.deadline(kept, 'preliminary')).state).toBe('met');
    expect((await harness.deadline(broken, 'preliminary')).state).toBe('breached');

    const result = await harness.deadline(kept, 'result');
    await harness.sleepUntil(Date.parse(result.dueAt!) - minutes(1));
    await harness.act(kept, 'resolve', { resolution: 'Refunded' });
    await harness.env.sleep(minutes(2));
    expect((await harness.deadline(kept, 'result')).state).toBe('met');
    expect((await harness.deadline(broken, 'result')).state).toBe('breached');
  });

  it('C6, C7: around National Day 2026 the 3- and 5-working-day deadlines fall where the State Council calendar puts them', async () => {
    // 2026 notice: off Thu 1 – Wed 7 Oct; Sat 10 Oct is an adjusted working day (调休).
    // From Wed 30 Sep: 8 Oct, 9 Oct, 10 Oct (Sat) → preliminary due at the end of 10 Oct;
    // then 12 Oct, 13 Oct → result due at the end of Tue 13 Oct.
    const handle = await harness.open({ receivedAt: '2026-09-30T10:00:00+08:00' });
    expect(Date.parse((await harness.deadline(handle, 'preliminary')).dueAt!)).toBe(shanghai('2026-10-11T00:00:00'));
    expect(Date.parse((await harness.deadline(handle, 'result')).dueAt!)).toBe(shanghai('2026-10-14T00:00:00'));
  });
});

describe('pausing while waiting on the user', () => {
  it('C6, C7: a 2-day wait for the user moves the working-day deadlines by the working time paused, and the timeline says why', async () => {
    const handle = await harness.open();
    const before = await harness.state(handle);
    await harness.env.sleep(hours(1));
    const paused = await harness.act(handle, 'request-info', { question: 'Which invoice number?' });
    expect(paused.status).toBe('awaiting-customer');
    expect(paused.deadlines.find((deadline) => deadline.name === 'result')!.state).toBe('paused');
    await harness.env.sleep(days(2));
    const resumed = await harness.act(handle, 'customer-reply', { message: 'INV-2026-1187' });
    expect(resumed.status).toBe('received');
    for (const name of ['preliminary', 'result']) {
      const now = resumed.deadlines.find((deadline) => deadline.name === name)!;
      expect(now.pausedMinutes).toBe(2 * 24 * 60);
      expect(now.state).toBe('pending');
    }
    const events = await harness.events(before.caseId);
    const pausedAt = events.find((event) => event.type === 'sla.paused')!;
    const resumedAt = events.find((event) => event.type === 'sla.resumed')!;
    expect(pausedAt.data.reason).toBe('waiting for information from the user');
    expect(resumedAt.data.pausedMinutes).toBe(2 * 24 * 60);
    // The server's clock also moved by the few milliseconds between the two updates.
    const pausedMs = Number(resumedAt.data.pausedMs);
    expect(pausedMs).toBeGreaterThanOrEqual(days(2));
    expect(pausedMs).toBeLessThan(days(2) + 5_000);
    // Days off inside the pause do not count: the deadline moves by the working time paused, minute for minute.
    const pausedFrom = Date.parse(pausedAt.occurredAt.toISOString());
    for (const name of ['preliminary', 'result']) {
      const was = before.deadlines.find((deadline) => deadline.name === name)!;
      const now = resumed.deadlines.find((deadline) => deadline.name === name)!;
      expect(workingMinutes(Date.parse(was.dueAt!), Date.parse(now.dueAt!))).toBe(workingMinutes(pausedFrom, pausedFrom + pausedMs));
    }
  });
});

describe('escalation (C9)', () => {
  it('C9: a breach notifies the supervisor, raises the priority and sets SlaBreached', async () => {
    const handle = await harness.open({ priority: 'P2' });
    await harness.env.sleep(hours(24) + minutes(1));
    const state = await harness.state(handle);
    expect(state.priority).toBe('P1');
    expect(state.slaBreached).toBe(true);
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(caseSearchAttributes.slaBreached)).toBe(true);
    expect(description.typedSearchAttributes.get(caseSearchAttributes.casePriority)).toBe('P1');
    const breach = (await harness.eventsOnceRecorded(state.caseId, 'sla.breached')).find((event) => event.type === 'sla.breached')!;
    expect(breach.data).toMatchObject({ clock: 'firstResponse', priorityRaisedFrom: 'P2' });
    const [supervisor] = await harness.db.sql`select role, kind, occurred_at, deliver_after from staff_notifications where case_id = ${state.caseId} and kind = 'sla.breached'`;
    expect(supervisor).toMatchObject({ role: 'supervisor' });
    expect(supervisor!.deliver_after.getTime()).toBe(supervisor!.occurred_at.getTime());
  });
});

describe('a calendar year that is not published yet', () => {
  it('C6, C7: a complaint opened on 30 Dec gets provisional deadlines on weekends alone, recomputed — timer moved — when the year is loaded', async () => {
    const years = { ...shippedCalendar.years };
    delete years['2027']; // what every published package lacks today
    const calendar = { version: 'shipped-without-2027', years };
    await harness.sleepUntil(shanghai('2026-12-30T10:00:00'));
    const handle = await harness.open({ calendar });
    // Weekends alone: 31 Dec (Thu), 1 Jan (Fri, counted as a working day), 4 Jan (Mon) → end of 4 Jan.
    const provisional = await harness.deadline(handle, 'preliminary');
    expect(provisional).toMatchObject({ provisional: true, calendarVersion: 'shipped-without-2027' });
    expect(Date.parse(provisional.dueAt!)).toBe(shanghai('2027-01-05T00:00:00'));
    expect(Date.parse((await harness.deadline(handle, 'result')).dueAt!)).toBe(shanghai('2027-01-07T00:00:00'));

    // The operator loads 2027 with 1 Jan as New Year's Day.
    const loaded = { version: 'with-2027', years: { ...years, '2027': { holidays: ['2027-01-01'], workdays: [], source: 'operator' } } };
    await handle.signal(calendarUpdatedSignal, loaded);
    await harness.env.sleep(minutes(1));
    const moved = await harness.deadline(handle, 'preliminary');
    expect(moved).toMatchObject({ provisional: false, calendarVersion: 'with-2027' });
    expect(Date.parse(moved.dueAt!)).toBe(shanghai('2027-01-06T00:00:00'));
    expect(Date.parse((await harness.deadline(handle, 'result')).dueAt!)).toBe(shanghai('2027-01-08T00:00:00'));
    expect((await harness.eventsOnceRecorded((await harness.state(handle)).caseId, 'sla.rescheduled')).map((event) => event.type)).toContain('sla.rescheduled');

    // The durable timer moved with it: nothing at the old due time, a breach at the new one.
    await harness.sleepUntil(shanghai('2027-01-05T00:01:00'));
    expect((await harness.deadline(handle, 'preliminary')).state).toBe('pending');
    await harness.sleepUntil(shanghai('2027-01-06T00:01:00'));
    expect((await harness.deadline(handle, 'preliminary')).state).toBe('breached');
  });
});
