import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComplaintHarness, days, minutes } from '../support/complaint-harness';

// The whole life of a complaint after the result: rating, dispute, arbitration, referral,
// reopening, withdrawal and closure by itself, on the real time-skipping server.
const harness = new ComplaintHarness(55436, 'complaint-lifecycle');

beforeAll(() => harness.start());
afterAll(() => harness.stop());

async function resolvedComplaint() {
  const handle = await harness.open();
  await harness.act(handle, 'acknowledge', { message: 'We are checking your bill' });
  await harness.act(handle, 'report-preliminary', { finding: 'A duplicate charge on 3 Nov' });
  const resolved = await harness.act(handle, 'resolve', { resolution: 'The duplicate charge is refunded' });
  expect(resolved.status).toBe('resolved');
  return handle;
}

describe('after the result', () => {
  it('C8: the user sees status, next step, every deadline and the expected completion at each step', async () => {
    const handle = await harness.open();
    const opened = await harness.state(handle);
    expect(opened.nextStep).toMatch(/first response/);
    expect(opened.deadlines.map((deadline) => [deadline.name, deadline.state])).toEqual([
      ['firstResponse', 'pending'],
      ['preliminary', 'pending'],
      ['result', 'pending'],
    ]);
    expect(opened.expectedCompletionAt).toBe(opened.deadlines.find((deadline) => deadline.name === 'result')!.dueAt);
    const resolved = await harness.act(handle, 'resolve', { resolution: 'Refunded' });
    expect(resolved.deadlines.every((deadline) => deadline.state === 'met')).toBe(true);
    expect(resolved.expectedCompletionAt).toBe(resolved.details.disputeAndReopenUntil);
    expect(resolved.allowedActions).toEqual(expect.arrayContaining(['rate', 'dispute', 'reopen', 'confirm']));
    // C12: staff cannot cut the user's windows short.
    expect(resolved.allowedActions).not.toContain('close');
    expect(resolved.allowedActions).not.toContain('refer-third-party');
  });

  it('C10, C11: rate, dispute, supervisor arbitration upholds, referral to a third party, close', async () => {
    const handle = await resolvedComplaint();
    await harness.act(handle, 'rate', { rating: 2, comment: 'Too slow' });
    expect(await harness.refusal(handle, 'refer-third-party', { body: 'Internet Society of China', reference: 'ISC-1' })).toMatch(/follows platform arbitration/);
    expect((await harness.act(handle, 'dispute', { reason: 'I was charged a third time' })).status).toBe('disputed');
    expect(await harness.refusal(handle, 'arbitrate', { decision: 'uphold', reasons: 'Checked' }, 'agent')).toMatch(/agent role may not arbitrate/);
    const upheld = await harness.act(handle, 'arbitrate', { decision: 'uphold', reasons: 'The third charge is a different service' }, 'supervisor');
    expect(upheld.status).toBe('resolved');
    const referred = await harness.act(handle, 'refer-third-party', { body: 'Internet Society of China', reference: 'ISC-2026-0042' });
    expect(referred.status).toBe('referred');
    expect(referred.details.referral).toEqual({ body: 'Internet Society of China', reference: 'ISC-2026-0042' });
    await harness.act(handle, 'close', { reason: 'Third party closed the file' });
    expect(await handle.result()).toMatchObject({ status: 'closed', outcome: 'referred', rating: 2 });
    const caseId = (await harness.state(handle)).caseId;
    expect(await harness.eventTypes(caseId)).toEqual(expect.arrayContaining(['complaint.rated', 'complaint.disputed', 'complaint.arbitrated', 'complaint.referred', 'complaint.closed']));
    const told = await harness.db.sql`select template from notifications where case_id = ${caseId} and channel = 'inbox' order by id`;
    expect(told.map((row) => row.template)).toEqual([
      'complaint.received',
      'complaint.acknowledged',
      'complaint.preliminary',
      'complaint.resolved',
      'complaint.arbitrated',
      'complaint.referred',
      'complaint.closed',
    ]);
  });

  it('C11: arbitration that overturns the result reopens the investigation with a new result clock', async () => {
    const handle = await resolvedComplaint();
    await harness.act(handle, 'dispute', { reason: 'Not refunded' });
    const overturned = await harness.act(handle, 'arbitrate', { decision: 'overturn', reasons: 'Refund never left our bank' }, 'supervisor');
    expect(overturned.status).toBe('acknowledged');
    expect(overturned.deadlines.find((deadline) => deadline.name === 'result-1')).toMatchObject({ state: 'pending' });
  });

  it('C12: reopening inside the 7-day window starts a new result clock', async () => {
    const handle = await resolvedComplaint();
    await harness.env.sleep(days(7) - minutes(1));
    const reopened = await harness.act(handle, 'reopen', { reason: 'The charge is back' });
    expect(reopened.status).toBe('acknowledged');
    expect(reopened.details.reopenCount).toBe(1);
    expect(reopened.deadlines.find((deadline) => deadline.name === 'result-1')!.state).toBe('pending');
  });

  it('C12: a resolved complaint closes by itself when the window ends; reopening after that is refused', async () => {
    const handle = await resolvedComplaint();
    const { caseId } = await harness.state(handle);
    await harness.env.sleep(days(7) - minutes(1));
    expect((await harness.state(handle)).status).toBe('resolved');
    await harness.env.sleep(minutes(2));
    expect(await handle.result()).toMatchObject({ status: 'closed', outcome: 'resolved' });
    const closed = (await harness.events(caseId)).at(-1)!;
    expect(closed).toMatchObject({ type: 'complaint.closed', data: { reason: 'dispute and reopen windows ended' } });
    // A finished workflow takes no updates: the API answers 409 "closed" for it (see the e2e test).
    await expect(harness.act(handle, 'reopen', { reason: 'Too late?' })).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });

  it('C11: a dispute after the window is refused with the reason', async () => {
    // A longer reopen window keeps the case open after the dispute window closes.
    const handle = await harness.open({ policy: { ...(await import('../../domain/sla-policy')).defaultComplaintSlaPolicy, reopenWindowDays: 14 } });
    await harness.act(handle, 'resolve', { resolution: 'Refunded' });
    await harness.env.sleep(days(7) + minutes(1));
    expect(await harness.refusal(handle, 'dispute', { reason: 'Late' })).toMatch(/7-day dispute window ended/);
    expect((await harness.act(handle, 'reopen', { reason: 'Still wrong' })).status).toBe('acknowledged');
  });

  it('the user may withdraw: the clocks stop and the case closes', async () => {
    const handle = await harness.open();
    await harness.act(handle, 'withdraw', { reason: 'Solved it myself' });
    expect(await handle.result()).toMatchObject({ status: 'closed', outcome: 'withdrawn' });
    const state = await harness.state(handle);
    expect(state.deadlines.every((deadline) => deadline.state === 'cancelled')).toBe(true);
    expect(state.allowedActions).toEqual([]);
  });

  it('refuses what the state does not allow and input that is wrong, before history', async () => {
    const handle = await harness.open();
    expect(await harness.refusal(handle, 'close')).toMatch(/cannot close a case that is received/);
    expect(await harness.refusal(handle, 'rate', { rating: 9 })).toMatch(/invalid input/);
    expect(await harness.refusal(handle, 'customer-reply', { message: 'hi' })).toMatch(/allowed when awaiting-customer/);
    const history = await handle.fetchHistory();
    expect(JSON.stringify(history.events)).not.toContain('WorkflowExecutionUpdateAccepted');
  });
});
