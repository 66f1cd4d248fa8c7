import { describe, expect, it } from 'vitest';
import { assessClaim, claimActions } from '../../domain/claim';
import { claimCase, type ClaimInput, type ClaimState } from '../../domain/claim-case';
import { defaultCompensationPolicy, remedyFor } from '../../domain/compensation-policy';
import { act, accepted, actorOf, effectDone, openCase, refused, typesOf, viewOf } from '../support/case-rules';
import { testCalendar } from '../support/incidents';

const day = 24 * 3600_000;
const minute = 60_000;
const endedAtMs = Date.parse('2026-11-02T10:00:00+08:00');
const incidentFacts = { plan: 'home-300m', incidentStartedAt: new Date(endedAtMs - 5 * 3600_000).toISOString(), incidentEndedAt: new Date(endedAtMs).toISOString(), alreadyPaidCents: 0 };
const incidentClaim = { incidentId: 'INC-2026-000042', requestedRemedy: { kind: 'service-credit' as const } };
const policy = defaultCompensationPolicy;
const supervisor = actorOf('supervisor');

function claimInput(overrides: Partial<ClaimInput> = {}, atMs = endedAtMs + day): ClaimInput {
  return {
    caseId: 'CLM-2026-000001',
    customerId: 'cust-1',
    incidentId: 'INC-2026-000042',
    eventAt: null,
    reason: 'No internet all morning',
    requestedRemedy: { kind: 'service-credit' },
    evidence: '',
    facts: incidentFacts,
    openedBy: actorOf('agent'),
    policy,
    timeZone: 'Asia/Shanghai',
    calendar: testCalendar(atMs),
    ...overrides,
  };
}

describe('claim assessment (P1–P4)', () => {
  it('P3: a claim 29 days 23 hours after the outage ended is inside the window; 30 days and 1 minute is not', () => {
    expect(assessClaim(incidentClaim, incidentFacts, policy, endedAtMs + 29 * day + 23 * 60 * minute)).toMatchObject({ eligible: true });
    const late = assessClaim(incidentClaim, incidentFacts, policy, endedAtMs + 30 * day + minute);
    expect(late).toMatchObject({ eligible: false, reason: `the 30-day claim window ended at ${new Date(endedAtMs + 30 * day).toISOString()}` });
  });

  it('P1, P5: an outage claim pays what the policy allows for its length and plan, less what was already paid; nothing when paid in full', () => {
    const entitled = remedyFor(policy, 300, 'home-300m')!.amountCents;
    expect(assessClaim(incidentClaim, incidentFacts, policy, endedAtMs + day)).toMatchObject({ eligible: true, amount: entitled, entitledCents: entitled, alreadyPaidCents: 0 });
    expect(assessClaim(incidentClaim, { ...incidentFacts, alreadyPaidCents: 500 }, policy, endedAtMs + day)).toMatchObject({ eligible: true, amount: entitled - 500 });
    expect(assessClaim(incidentClaim, { ...incidentFacts, alreadyPaidCents: entitled }, policy, endedAtMs + day)).toMatchObject({ eligible: false });
    expect(assessClaim({ ...incidentClaim, requestedRemedy: { kind: 'service-credit', amount: 100 } }, incidentFacts, policy, endedAtMs + day)).toMatchObject({ amount: 100 });
  });

  it('P4: at or below the approval threshold a claim is paid at once; above it a supervisor must approve', () => {
    const other = (amount: number) =>
      assessClaim({ eventAt: new Date(endedAtMs).toISOString(), requestedRemedy: { kind: 'coupon', amount } }, { ...incidentFacts, incidentEndedAt: null }, policy, endedAtMs + day);
    expect(other(10_000)).toMatchObject({ eligible: true, approvalRequired: false });
    expect(other(10_001)).toMatchObject({ eligible: true, approvalRequired: true });
  });

  it('P1: claims are capped per customer and period: a claim pays at most what the cap leaves, nothing once it is reached', () => {
    const claim = { eventAt: new Date(endedAtMs).toISOString(), requestedRemedy: { kind: 'coupon' as const, amount: 20_000 } };
    const facts = (paid: number) => ({ ...incidentFacts, incidentEndedAt: null, paidInCapPeriodCents: paid });
    expect(assessClaim(claim, facts(40_000), policy, endedAtMs + day)).toMatchObject({ eligible: true, amount: 10_000 });
    expect(assessClaim(claim, facts(50_000), policy, endedAtMs + day)).toMatchObject({ eligible: false, reason: 'the cap of 50000 cents per 30 days is reached for this customer' });
    expect(assessClaim({ ...claim, requestedRemedy: { kind: 'points', amount: 20_000 } }, facts(50_000), policy, endedAtMs + day)).toMatchObject({ eligible: true, amount: 20_000 });
  });

  it('P3: a claim for an outage that has not ended is refused: its remedy comes on recovery', () => {
    expect(assessClaim(incidentClaim, { ...incidentFacts, incidentEndedAt: null }, policy, endedAtMs)).toMatchObject({ eligible: false });
  });
});

describe('the claim case (P2–P6)', () => {
  const open = (overrides: Partial<ClaimInput> = {}, atMs = endedAtMs + day) => openCase(claimCase, claimInput(overrides, atMs), atMs);
  const paidWith = (state: { state: ClaimState; lastStep: number; nowMs: number }, entryId: number) =>
    effectDone(claimCase, state, { kind: 'pay' } as never, { ok: true, result: { entryId, paid: true } }, state.nowMs + minute);

  it('P4, P5: below the threshold the claim is approved and paid at once, under one ledger key, and the user is told the amount', () => {
    const opened = open();
    expect(typesOf(opened)).toEqual(['claim.received', 'claim.approved']);
    expect(opened.effects).toEqual([expect.objectContaining({ kind: 'pay', idempotencyKey: 'compensation-CLM-2026-000001:payment:1', remedy: 'service-credit', policyVersion: policy.version })]);
    const paid = effectDone(claimCase, opened, opened.effects[0]!, { ok: true, result: { entryId: 7, paid: true } }, opened.nowMs + minute);
    expect(paid.state.status).toBe('paid');
    expect(paid.events[0]!.notifications![0]!).toMatchObject({ templateId: 'claim.paid' });
  });

  it('P3: outside the window the claim is refused at intake with the reason, in writing', () => {
    const late = open({}, endedAtMs + 31 * day);
    expect(typesOf(late)).toEqual(['claim.received', 'claim.refused']);
    expect(late.state.status).toBe('closed');
    expect(late.events[1]!.notifications![0]!.params.reason).toContain('claim window ended');
  });

  it('P4: above the threshold a supervisor decides within 5 working days; an agent may not approve', () => {
    const opened = open({ incidentId: null, eventAt: new Date(endedAtMs).toISOString(), requestedRemedy: { kind: 'coupon', amount: 20_000 } });
    expect(opened.state.status).toBe('awaiting-approval');
    expect(opened.state.clocks.decision!.workingDays).toBe(5);
    expect(refused(act(claimCase, opened, 'approve', {}, actorOf('agent'), opened.nowMs + minute))).toMatchObject({ kind: 'forbidden' });
    const approved = accepted(act(claimCase, opened, 'approve', { amount: 15_000 }, supervisor, opened.nowMs + minute));
    expect(approved.effects).toEqual([expect.objectContaining({ kind: 'pay', amount: 15_000 })]);
    expect(approved.state.clocks.decision!.state).toBe('met');
  });

  it('P6: a payment is undone by a reversal entry, repaid corrected, and never reversed twice', () => {
    const paid = paidWith(open(), 7);
    const reversing = accepted(act(claimCase, paid, 'reverse', { reason: 'Wrong plan used' }, supervisor, paid.nowMs + minute));
    expect(reversing.effects).toEqual([{ kind: 'reverse', entryId: 7, idempotencyKey: 'compensation-CLM-2026-000001:reversal:7', caseId: 'CLM-2026-000001', reason: 'Wrong plan used' }]);
    const reversed = effectDone(claimCase, reversing, reversing.effects[0]!, { ok: true, result: { reversalId: 8 } }, reversing.nowMs + minute);
    expect(reversed.state.status).toBe('reversed');
    expect(refused(act(claimCase, reversed, 'reverse', { reason: 'again' }, supervisor, reversed.nowMs + minute))).toMatchObject({ kind: 'refused' });
    const repaying = accepted(act(claimCase, reversed, 'repay', { amount: 300, reason: 'Correct plan' }, supervisor, reversed.nowMs + minute));
    expect(repaying.effects).toEqual([expect.objectContaining({ kind: 'pay', amount: 300, idempotencyKey: 'compensation-CLM-2026-000001:payment:2' })]);
    expect(viewOf(claimCase, reversed).details).toMatchObject({ payments: [{ entryId: 7, reversedBy: 8, reason: 'Wrong plan used' }] });
  });

  it('covers every action of the table', () => {
    expect(Object.keys(claimActions).sort()).toEqual(['approve', 'close', 'note', 'reject', 'repay', 'reverse', 'withdraw']);
  });
});
