import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCustomer } from '../support/database';
import { days, hours, minutes } from '../support/durations';
import { eventually } from '../support/eventually';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';

// Service changes and renewal notices over HTTP, with the real worker, outbox dispatcher and SMTP
// server: a planned change reaches exactly its affected users on their channels (N1–N3), a too-early
// one is refused naming the earliest time (N1), a renewal notice goes out and is recorded (N4).
let stack: RunningStack;
const affected = ['chg-e2e-1', 'chg-e2e-2', 'chg-e2e-3'];

beforeAll(async () => {
  stack = await startStack({ postgres: 55471, temporal: 17271, temporalUi: 18271 }, 'pledge-changes-e2e');
  for (const [index, id] of affected.entries()) {
    await seedCustomer(stack.db.sql, { id, locale: index === 0 ? 'en' : 'zh-CN', region: 'chg-e2e-east', services: ['broadband'], email: `${id}@example.com`, channels: ['email', 'inbox'] });
  }
  await seedCustomer(stack.db.sql, { id: 'chg-e2e-west', region: 'chg-e2e-west', services: ['broadband'], email: 'chg-e2e-west@example.com', channels: ['email', 'inbox'] });
  await seedCustomer(stack.db.sql, { id: 'chg-e2e-renewal', locale: 'en', email: 'renewal@example.com', channels: ['email', 'inbox'] });
});

afterAll(() => stack?.stop());

const iso = (ms: number) => new Date(ms).toISOString();

function change(effectiveAtMs: number, extra: Record<string, unknown> = {}) {
  return {
    changeType: 'maintenance',
    title: 'Core router upgrade in the east',
    whatChanges: 'New firmware on the core routers of the east region',
    impact: { services: ['broadband'], regions: ['chg-e2e-east'], downtime: { startsAt: iso(effectiveAtMs), endsAt: iso(effectiveAtMs + hours(2)) } },
    userAction: 'Nothing: your router reconnects by itself',
    contacts: 'Call 10000 or write to care@isp.example',
    appealChannel: 'https://isp.example/appeal',
    effectiveAt: iso(effectiveAtMs),
    ...extra,
  };
}

/** At least two seconds before the clock turns a minute, so a refusal's earliest time is still the earliest on the next request. */
async function awayFromMinuteTurn(): Promise<void> {
  const intoMinute = Date.now() % minutes(1);
  if (intoMinute > minutes(1) - 2000) await new Promise((resolve) => setTimeout(resolve, minutes(1) - intoMinute + 100));
}

describe('service changes over HTTP', () => {
  it('N1, N2, N3: a planned change is told to exactly its affected users, on their channels (inbox and the e-mail that reached the SMTP server), and recorded', async () => {
    const body = change(Date.now() + hours(49));
    const [first, again] = await Promise.all([0, 1].map(() => stack.call('POST', '/v1/service-changes', { key: keys.agent, body, headers: { 'idempotency-key': 'chg-e2e-once' } })));
    expect([first!.status, again!.status]).toEqual([201, 201]);
    expect(again!.body.caseId).toBe(first!.body.caseId);
    const caseId: string = first!.body.caseId;
    expect(caseId).toMatch(/^CHG-\d{4}-\d{6}$/);
    expect(first!.body).toMatchObject({ type: 'service-change', status: 'scheduled', details: { kind: 'change', effectiveAt: body.effectiveAt, emergency: false } });

    const told = await eventually(
      () =>
        stack.db.sql<{ customer_id: string; channel: string }[]>`select customer_id, channel from notifications where case_id = ${caseId} and template = 'change.notice' order by customer_id, channel`,
      (rows) => rows.length === 2 * affected.length,
    );
    expect(told.map((row) => `${row.customer_id}:${row.channel}`)).toEqual(affected.flatMap((id) => [`${id}:email`, `${id}:inbox`]));
    const mails = await eventually(
      async () => stack.mails.filter((mail) => mail.headers.get('subject')?.includes(caseId)),
      (found) => found.length === affected.length,
    );
    expect(mails.flatMap((mail) => mail.envelopeTo).sort()).toEqual(affected.map((id) => `${id}@example.com`));
    const english = mails.find((mail) => mail.envelopeTo.includes('chg-e2e-1@example.com'))!;
    expect(english.body).toContain('What you need to do: Nothing');
    expect(english.body).toContain('To appeal: https://isp.example/appeal');

    const state = await eventually(
      () => stack.call('GET', `/v1/cases/${caseId}`, { key: keys.auditor }),
      (answer) => answer.body.details.notice.customers !== null,
    );
    expect(state.body.details).toMatchObject({ notice: { customers: affected.length, short: false }, reminder: { dueAt: iso(Date.parse(body.effectiveAt) - hours(24)) } });
    const events = await stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor });
    expect(events.body.events.map((entry: { type: string }) => entry.type)).toEqual(expect.arrayContaining(['change.opened', 'sla.started', 'change.notified']));

    expect((await stack.call('POST', `/v1/cases/${caseId}/actions/cancel`, { key: keys.agent, body: { input: { reason: 'Moved to the spring window' } } })).status).toBe(200);
    await eventually(
      () => stack.db.sql`select 1 from notifications where case_id = ${caseId} and template = 'change.cancelled' and channel = 'inbox'`,
      (rows) => rows.length === affected.length,
    );
  });

  it('N1: an effectiveAt under 48 h away is a 422 naming effectiveAt and the earliest allowed time, which is then accepted', async () => {
    await awayFromMinuteTurn();
    const beforeMs = Date.now();
    const early = await stack.call('POST', '/v1/service-changes', { key: keys.agent, body: change(beforeMs + hours(47) + minutes(59)) });
    expect(early.status).toBe(422);
    expect(early.body.error.fields).toHaveLength(1);
    expect(early.body.error.fields[0].field).toBe('effectiveAt');
    const earliest = /the earliest allowed is (\S+?);/.exec(early.body.error.fields[0].message)?.[1];
    expect(earliest).toBe(iso(Math.ceil(beforeMs / minutes(1)) * minutes(1) + hours(48)));
    expect(early.body.error.message).toContain(earliest);
    const accepted = await stack.call('POST', '/v1/service-changes', { key: keys.agent, body: change(Date.parse(earliest!)) });
    expect(accepted.status).toBe(201);
    await stack.call('POST', `/v1/cases/${accepted.body.caseId}/actions/cancel`, { key: keys.agent, body: { input: { reason: 'test over' } } });
  });

  it('N1: an emergency is a supervisor’s, with a justification; it is recorded on the case', async () => {
    const body = change(Date.now() + hours(6), { emergency: { justification: 'An exploited firmware flaw' } });
    expect((await stack.call('POST', '/v1/service-changes', { key: keys.agent, body })).status).toBe(403);
    const unjustified = await stack.call('POST', '/v1/service-changes', { key: keys.supervisor, body: { ...body, emergency: {} } });
    expect(unjustified.status).toBe(422);
    expect(unjustified.body.error.fields.map((field: { field: string }) => field.field)).toEqual(['emergency.justification']);
    const opened = await stack.call('POST', '/v1/service-changes', { key: keys.supervisor, body });
    expect(opened.status).toBe(201);
    expect(opened.body.details).toMatchObject({ emergency: true, emergencies: [{ justification: 'An exploited firmware flaw', on: 'intake' }] });
    const events = await stack.call('GET', `/v1/cases/${opened.body.caseId}/events`, { key: keys.auditor });
    expect(events.body.events.filter((entry: { type: string }) => entry.type === 'change.emergency')).toHaveLength(1);
    await stack.call('POST', `/v1/cases/${opened.body.caseId}/actions/cancel`, { key: keys.supervisor, body: { input: { reason: 'test over' } } });
  });
});

describe('renewal notices over HTTP', () => {
  it('N4: a renewal due in 10 days sends its notice at once (the 30-day one is past), on the customer’s channels, recorded', async () => {
    const renewalDate = new Date(Date.now() + days(10)).toISOString().slice(0, 10);
    const body = {
      customerId: 'chg-e2e-renewal',
      service: 'Home broadband 500M',
      fees: '¥99.00 per month',
      term: '12 months',
      conditions: 'Renews automatically',
      contacts: 'Call 10000',
      renewalDate,
    };
    const opened = await stack.call('POST', '/v1/renewal-notices', { key: keys.agent, body });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ type: 'service-change', customerId: 'chg-e2e-renewal', details: { kind: 'renewal', renewalDate } });
    const caseId: string = opened.body.caseId;
    const rows = await eventually(
      () => stack.db.sql<{ channel: string; body: string }[]>`select channel, body from notifications where case_id = ${caseId} and template = 'renewal.notice' order by channel`,
      (found) => found.length === 2,
    );
    expect(rows.map((row) => row.channel)).toEqual(['email', 'inbox']);
    expect(rows[1]!.body).toContain('Fees: ¥99.00 per month');
    const mailed = await eventually(
      async () => stack.mails.filter((mail) => mail.envelopeTo.includes('renewal@example.com')),
      (found) => found.length === 1,
    );
    expect(mailed[0]!.headers.get('subject')).toContain('Renewal notice');
    const events = await stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor });
    expect(events.body.events.find((entry: { type: string }) => entry.type === 'renewal.sent').data).toMatchObject({ daysBefore: 30, late: true, covers: [30] });

    const both = await stack.call('POST', '/v1/renewal-notices', { key: keys.agent, body: { ...body, segment: { regions: ['chg-e2e-east'] } } });
    expect(both.status).toBe(422);
    expect(both.body.error.fields.map((field: { field: string }) => field.field)).toEqual(['customerId']);
  });
});
