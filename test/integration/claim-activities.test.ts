import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { createClaimActivities, type PayRemedyInput } from '../../activities/claims';
import { upsertOutage } from '../../db/incident-outages';
import { findLedgerEntry } from '../../db/ledger';
import { seedCustomer, startTestDatabase, type TestDatabase } from '../support/database';

// The claim case's activities against real Postgres: payments and reversals through the ledger,
// each exactly once by key (P5, P6), and the facts claim intake assesses (P3–P5).
let db: TestDatabase;
let activities: ReturnType<typeof createActivities>;
const logLines: string[] = [];

beforeAll(async () => {
  db = await startTestDatabase(55475);
  activities = createActivities({ sql: db.sql, log: (line) => logLines.push(line) });
  await seedCustomer(db.sql, { id: 'cust-claim' });
  await seedCustomer(db.sql, { id: 'cust-other' });
});

afterAll(() => db?.stop());

const payment = (key: string, overrides: Partial<PayRemedyInput> = {}): PayRemedyInput => ({
  idempotencyKey: key,
  customerId: 'cust-claim',
  caseId: 'CLM-2026-000100',
  kind: 'service-credit',
  amountCents: 2150,
  currency: 'CNY',
  policyVersion: 'compensation/2026.1',
  ...overrides,
});

async function failureOf(work: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

const rowsWithKey = async (key: string) => (await db.sql`select count(*)::int as n from ledger where idempotency_key = ${key}`)[0]!.n as number;

describe('payRemedy (P5)', () => {
  it('P5: paying twice with one key writes one row and answers the same entry id, paid only the first time', async () => {
    const first = await activities.payRemedy(payment('claim-CLM-2026-000100:pay'));
    const second = await activities.payRemedy(payment('claim-CLM-2026-000100:pay'));
    expect(first.paid).toBe(true);
    expect(second).toEqual({ entryId: first.entryId, paid: false });
    expect(await rowsWithKey('claim-CLM-2026-000100:pay')).toBe(1);
    expect(await findLedgerEntry(db.sql, first.entryId)).toMatchObject({
      customerId: 'cust-claim',
      caseId: 'CLM-2026-000100',
      kind: 'service-credit',
      amountCents: 2150,
      policyVersion: 'compensation/2026.1',
    });
  });

  it('P5: an attempt that fails after the row was written is retried and answers the same entry', async () => {
    // The first attempt's statement commits, then its answer is lost (a dropped connection).
    let lost = false;
    const flaky = Object.assign((strings: TemplateStringsArray, ...values: never[]) => {
      const query = db.sql(strings, ...values);
      if (lost || !strings[0]!.includes('insert into ledger')) return query;
      lost = true;
      return (query as unknown as Promise<unknown>).then(() => {
        throw new Error('connection lost after commit');
      });
    }, db.sql);
    const claimActivities = createClaimActivities(flaky as never);
    await expect(claimActivities.payRemedy(payment('claim-CLM-2026-000101:pay'))).rejects.toThrow('connection lost after commit');
    expect(await rowsWithKey('claim-CLM-2026-000101:pay')).toBe(1);
    const retried = await claimActivities.payRemedy(payment('claim-CLM-2026-000101:pay'));
    expect(retried.paid).toBe(false);
    const [row] = await db.sql`select id from ledger where idempotency_key = 'claim-CLM-2026-000101:pay'`;
    expect(retried.entryId).toBe(Number(row!.id));
    expect(await rowsWithKey('claim-CLM-2026-000101:pay')).toBe(1);
  });

  it('P5: the key reused for another amount fails for good with LedgerRefused (key-conflict) and pays nothing', async () => {
    await activities.payRemedy(payment('claim-CLM-2026-000102:pay'));
    const failure = await failureOf(activities.payRemedy(payment('claim-CLM-2026-000102:pay', { amountCents: 1 })));
    expect(failure).toMatchObject({ type: 'LedgerRefused', nonRetryable: true, details: [{ code: 'key-conflict' }] });
    expect(await rowsWithKey('claim-CLM-2026-000102:pay')).toBe(1);
  });
});

describe('reverseRemedy (P6)', () => {
  it('P6: a reversal brings the balance back to 0; a second one under another key fails for good with LedgerRefused already-reversed', async () => {
    await seedCustomer(db.sql, { id: 'cust-reversed' });
    const { entryId } = await activities.payRemedy(payment('claim-CLM-2026-000110:pay', { customerId: 'cust-reversed', kind: 'coupon', amountCents: 3000, caseId: 'CLM-2026-000110' }));
    const { reversalId } = await activities.reverseRemedy({ entryId, idempotencyKey: 'claim-CLM-2026-000110:reverse:1', caseId: 'CLM-2026-000110', reason: 'coupon sent to the wrong customer' });
    expect(await findLedgerEntry(db.sql, reversalId)).toMatchObject({ reversesId: entryId, amountCents: -3000, kind: 'coupon', reason: 'coupon sent to the wrong customer' });
    const [balance] = await db.sql`select sum(amount_cents)::int as total from ledger where customer_id = 'cust-reversed'`;
    expect(balance!.total).toBe(0);

    const failure = await failureOf(activities.reverseRemedy({ entryId, idempotencyKey: 'claim-CLM-2026-000110:reverse:2', caseId: 'CLM-2026-000110', reason: 'again' }));
    expect(failure).toMatchObject({ type: 'LedgerRefused', nonRetryable: true, details: [{ code: 'already-reversed', entryId }] });
    expect(failure.message).toContain('already reversed');
  });

  it('P6: the same reversal retried with its own key answers the same reversal', async () => {
    const { entryId } = await activities.payRemedy(payment('claim-CLM-2026-000111:pay', { caseId: 'CLM-2026-000111' }));
    const request = { entryId, idempotencyKey: 'claim-CLM-2026-000111:reverse', caseId: 'CLM-2026-000111', reason: 'paid twice' };
    const first = await activities.reverseRemedy(request);
    expect(await activities.reverseRemedy(request)).toEqual(first);
    expect(await rowsWithKey('claim-CLM-2026-000111:reverse')).toBe(1);
  });

  it('P6: reversing a reversal, or an unknown entry, fails for good with LedgerRefused', async () => {
    const { entryId } = await activities.payRemedy(payment('claim-CLM-2026-000112:pay', { caseId: 'CLM-2026-000112' }));
    const { reversalId } = await activities.reverseRemedy({ entryId, idempotencyKey: 'claim-CLM-2026-000112:reverse', caseId: 'CLM-2026-000112', reason: 'wrong tier' });
    expect(await failureOf(activities.reverseRemedy({ entryId: reversalId, idempotencyKey: 'claim-CLM-2026-000112:reverse-2', caseId: 'CLM-2026-000112', reason: 'undo' }))).toMatchObject({
      type: 'LedgerRefused',
      nonRetryable: true,
      details: [{ code: 'is-a-reversal', entryId: reversalId }],
    });
    expect(await failureOf(activities.reverseRemedy({ entryId: 123_456_789, idempotencyKey: 'claim-CLM-2026-000112:reverse-3', caseId: 'CLM-2026-000112', reason: 'undo' }))).toMatchObject({
      type: 'LedgerRefused',
      details: [{ code: 'not-found' }],
    });
  });
});

describe('claimFacts (P3–P5)', () => {
  const incident = 'INC-2026-000400';

  beforeAll(async () => {
    await seedCustomer(db.sql, { id: 'cust-facts' });
    await upsertOutage(db.sql, {
      caseId: incident,
      title: 'Fibre cut',
      severity: 'major',
      services: ['broadband'],
      regions: ['shanghai'],
      startedAt: '2026-11-02T01:00:00.000Z',
      endedAt: '2026-11-02T07:30:00.000Z',
    });
    await upsertOutage(db.sql, {
      caseId: 'INC-2026-000401',
      title: 'Still down',
      severity: 'minor',
      services: ['broadband'],
      regions: ['beijing'],
      startedAt: '2026-11-03T01:00:00.000Z',
      endedAt: null,
    });
    await db.sql`
      insert into cases (case_id, workflow_id, type, status, customer_id, summary, opened_at, updated_at, last_step, state)
      values (${incident}, ${'incident-' + incident}, 'incident', 'resolved', null, 'Fibre cut', '2026-11-02T01:05:00Z', '2026-11-02T07:31:00Z', 9, '{}')`;
    // The automatic remedy for the incident (kept), a coupon for it that was reversed (by a claim),
    // points for it (not money), another customer's remedy and this customer's payment for another case.
    await activities.payRemedy(payment(`incident-${incident}:remedy:cust-facts`, { customerId: 'cust-facts', caseId: incident, amountCents: 1290 }));
    const coupon = await activities.payRemedy(payment(`incident-${incident}:coupon:cust-facts`, { customerId: 'cust-facts', caseId: incident, kind: 'coupon', amountCents: 500 }));
    await activities.reverseRemedy({ entryId: coupon.entryId, idempotencyKey: 'claim-CLM-2026-000120:reverse', caseId: 'CLM-2026-000120', reason: 'not eligible' });
    await activities.payRemedy(payment(`incident-${incident}:points:cust-facts`, { customerId: 'cust-facts', caseId: incident, kind: 'points', amountCents: 100, currency: 'PTS' }));
    await activities.payRemedy(payment(`incident-${incident}:remedy:cust-other`, { customerId: 'cust-other', caseId: incident, amountCents: 9999 }));
    await activities.payRemedy(payment('claim-CLM-2026-000121:pay', { customerId: 'cust-facts', caseId: 'CLM-2026-000121', amountCents: 777 }));
  });

  it("P3, P5: the customer's plan, the incident's outage interval and status, and what was already paid for it net of reversals", async () => {
    expect(await activities.claimFacts({ customerId: 'cust-facts', incidentCaseId: incident })).toEqual({
      plan: 'home-300m',
      incidentStartedAt: '2026-11-02T01:00:00.000Z',
      incidentEndedAt: '2026-11-02T07:30:00.000Z',
      incidentStatus: 'resolved',
      alreadyPaidCents: 1290,
      paidInCapPeriodCents: 0,
    });
  });

  it('P5: a claim already paid for the same incident counts as paid, so a second claim pays at most the rest', async () => {
    await db.sql`
      insert into cases (case_id, workflow_id, type, status, customer_id, summary, opened_at, updated_at, last_step, state)
      values ('CLM-2026-000130', 'compensation-CLM-2026-000130', 'compensation', 'paid', 'cust-facts', 'Claim', now(), now(), 4,
              ${db.sql.json({ details: { incidentId: incident } })})`;
    await activities.payRemedy(payment('compensation-CLM-2026-000130:payment:1', { customerId: 'cust-facts', caseId: 'CLM-2026-000130', amountCents: 310 }));
    expect((await activities.claimFacts({ customerId: 'cust-facts', incidentCaseId: incident })).alreadyPaidCents).toBe(1290 + 310);
  });

  it("P1: what claims paid the customer within the cap period counts against the cap (not outage remedies, not other customers')", async () => {
    expect((await activities.claimFacts({ customerId: 'cust-facts', incidentCaseId: null, capPeriodDays: 30 })).paidInCapPeriodCents).toBe(310);
  });

  it('P3: an outage still running has no end; an unknown incident has no interval; a claim without an incident has neither', async () => {
    expect(await activities.claimFacts({ customerId: 'cust-facts', incidentCaseId: 'INC-2026-000401' })).toEqual({
      plan: 'home-300m',
      incidentStartedAt: '2026-11-03T01:00:00.000Z',
      incidentEndedAt: null,
      incidentStatus: null,
      alreadyPaidCents: 0,
      paidInCapPeriodCents: 0,
    });
    const nothing = { plan: 'home-300m', incidentStartedAt: null, incidentEndedAt: null, incidentStatus: null, alreadyPaidCents: 0, paidInCapPeriodCents: 0 };
    expect(await activities.claimFacts({ customerId: 'cust-facts', incidentCaseId: 'INC-2026-999999' })).toEqual(nothing);
    expect(await activities.claimFacts({ customerId: 'cust-facts', incidentCaseId: null })).toEqual(nothing);
  });

  it('fails for good on an unknown customer', async () => {
    expect(await failureOf(activities.claimFacts({ customerId: 'cust-nobody', incidentCaseId: incident }))).toMatchObject({ type: 'UnknownCustomer', nonRetryable: true });
  });
});
