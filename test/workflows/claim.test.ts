import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseWorkflowId } from '../../domain/case-types';
import { defaultCompensationPolicy } from '../../domain/compensation-policy';
import type { WorkingCalendar } from '../../domain/working-calendar';
import type { ClaimInput } from '../../workflows/compensation';
import { stateQuery } from '../../workflows/protocol';
import { shippedCalendar } from '../support/case-inputs';
import { seedCustomer, type TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { startTimeSkippingBed, type TimeSkippingBed } from '../support/time-skipping-bed';

// Compensation claims on the time-skipping server with real Postgres: payment exactly once, and the
// decision clock at its real length across a day off (P3–P5).
const taskQueue = 'claims';
const shanghai = (local: string) => Date.parse(`${local}+08:00`);
const minute = 60_000;
let bed: TimeSkippingBed;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let sequence = 0;

/** The shipped years plus an operator-loaded 2027 with a day off on Monday 11 January (test data). */
const calendarWith2027: WorkingCalendar = { version: 'test + 2027', years: { ...shippedCalendar.years, '2027': { holidays: ['2027-01-11'], workdays: [], source: 'operator (test)' } } };

beforeAll(async () => {
  bed = await startTimeSkippingBed({ postgresPort: 55459, taskQueue });
  ({ env, db } = bed);
  await seedCustomer(db.sql, { id: 'claimant', locale: 'en' });
}, 180_000);
afterAll(() => bed?.stop());

function claimInput(overrides: Partial<ClaimInput>): ClaimInput {
  return {
    caseId: `CLM-2026-${String(500 + ++sequence).padStart(6, '0')}`,
    customerId: 'claimant',
    incidentId: null,
    eventAt: null,
    reason: 'The line was down for a day',
    requestedRemedy: { kind: 'service-credit', amount: 2_000 },
    evidence: '',
    facts: { plan: 'home-300m', incidentStartedAt: null, incidentEndedAt: null, alreadyPaidCents: 0 },
    openedBy: { id: 'agent/test', role: 'agent' },
    policy: defaultCompensationPolicy,
    timeZone: 'Asia/Shanghai',
    calendar: shippedCalendar,
    ...overrides,
  };
}

const start = (input: ClaimInput) => env.client.workflow.start('compensation', { taskQueue, workflowId: caseWorkflowId('compensation', input.caseId), args: [input] });

describe('claims (P3–P5)', () => {
  it('P4, P5: a claim below the threshold is paid at once: one ledger row under its key, and the user is told', async () => {
    const input = claimInput({ eventAt: new Date((await env.currentTimeMs()) - 3_600_000).toISOString() });
    const handle = await start(input);
    const paid = await eventually(
      () => handle.query(stateQuery),
      (state) => state.status === 'paid',
    );
    expect(paid.details).toMatchObject({ amountDue: 2_000, approval: { decision: 'automatic' } });
    const ledger = await db.sql`select idempotency_key, amount_cents, kind, policy_version from ledger where case_id = ${input.caseId}`;
    expect(ledger).toEqual([{ idempotency_key: `compensation-${input.caseId}:payment:1`, amount_cents: '2000', kind: 'service-credit', policy_version: defaultCompensationPolicy.version }]);
    const told = await eventually(
      () => db.sql`select template from notifications where case_id = ${input.caseId} and channel = 'inbox'`,
      (rows) => rows.length === 1,
    );
    expect(told[0]!.template).toBe('claim.paid');
  });

  it('P3: on the server clock, a claim 29 days 23 hours after the failure is accepted; 30 days and 1 minute after, refused with the reason', async () => {
    const now = await env.currentTimeMs();
    const accepted = await start(claimInput({ eventAt: new Date(now - (29 * 24 + 23) * 3_600_000).toISOString() }));
    expect(
      (
        await eventually(
          () => accepted.query(stateQuery),
          (state) => state.status !== 'refused',
        )
      ).details,
    ).toMatchObject({ eligible: true });
    const lateInput = claimInput({ eventAt: new Date(now - 30 * 24 * 3_600_000 - minute).toISOString() });
    expect(await (await start(lateInput)).result()).toMatchObject({ status: 'closed', paidAmount: 0 });
    const refusal = await db.sql`select data from case_events where case_id = ${lateInput.caseId} and type = 'claim.refused'`;
    expect(String(refusal[0]!.data.reason)).toContain('the 30-day claim window ended');
  });

  it('P3, P4: above the threshold the decision is due in 5 working days across a day off: warned, then escalated to supervisors', async () => {
    await env.sleep(Math.max(0, shanghai('2027-01-06T10:00') - (await env.currentTimeMs())));
    const input = claimInput({ requestedRemedy: { kind: 'coupon', amount: 20_000 }, eventAt: new Date(shanghai('2027-01-05T10:00')).toISOString(), calendar: calendarWith2027 });
    const handle = await start(input);
    const waiting = await eventually(
      () => handle.query(stateQuery),
      (state) => state.status === 'awaiting-approval',
    );
    // Thu 7, Fri 8, (Sat, Sun, Mon 11 off), Tue 12, Wed 13, Thu 14: due at the end of Thursday 14 January.
    const decision = waiting.deadlines.find((deadline) => deadline.name === 'decision')!;
    expect(decision.dueAt).toBe(new Date(shanghai('2027-01-15T00:00')).toISOString());
    await env.sleep(shanghai('2027-01-15T00:00') - minute - (await env.currentTimeMs()));
    expect((await handle.query(stateQuery)).slaBreached).toBe(false);
    await env.sleep(2 * minute);
    await eventually(
      () => handle.query(stateQuery),
      (state) => state.slaBreached,
    );
    const escalations = await eventually(
      () => db.sql`select kind, role from staff_notifications where case_id = ${input.caseId} order by occurred_at`,
      (rows) => rows.length === 2,
    );
    expect(escalations.map((row) => `${row.kind}:${row.role}`)).toEqual(['sla.warned:agent', 'sla.breached:supervisor']);
  });
});
