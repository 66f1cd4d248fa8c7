import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCustomer } from '../support/database';
import { eventually } from '../support/eventually';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';

// A compensation claim over HTTP, as staff take it for a user: claim → approval → ledger → the
// user's notification; a reversal restores the balance and a second one is refused (P2–P6).
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ postgres: 55460, temporal: 17260, temporalUi: 18260 }, 'pledge-claims-e2e');
  await seedCustomer(stack.db.sql, { id: 'claim-1', locale: 'en' });
  await seedCustomer(stack.db.sql, { id: 'claim-2', locale: 'en', region: 'claim-north', services: ['broadband'] });
});

afterAll(() => stack?.stop());

const act = (caseId: string, action: string, input: Record<string, unknown>, key = keys.supervisor) => stack.call('POST', `/v1/cases/${caseId}/actions/${action}`, { key, body: { input } });
const balance = async () => (await stack.call('GET', '/v1/customers/claim-1/ledger', { key: keys.auditor })).body.balances;

describe('compensation claims over HTTP', () => {
  it('P2, P4, P5, P6: claim, approve, pay once, tell the user; reverse restores the balance; a second reversal is refused', async () => {
    const body = { customerId: 'claim-1', eventAt: new Date(Date.now() - 86_400_000).toISOString(), reason: 'No service for a day', requestedRemedy: { kind: 'coupon', amount: 15_000 } };
    const [first, again] = await Promise.all([0, 1].map(() => stack.call('POST', '/v1/compensation-claims', { key: keys.agent, body, headers: { 'idempotency-key': 'claim-once' } })));
    expect([first!.status, again!.status]).toEqual([201, 201]);
    expect(again!.body.caseId).toBe(first!.body.caseId);
    const caseId: string = first!.body.caseId;
    expect(first!.body).toMatchObject({ type: 'compensation', status: 'awaiting-approval', details: { approval: { required: true }, amountDue: 15_000 } });

    expect((await act(caseId, 'approve', { note: 'ok' }, keys.agent)).status).toBe(403);
    const approved = await act(caseId, 'approve', { note: 'Verified the outage report' });
    expect(approved.status).toBe(200);
    const paid = await eventually(
      () => stack.call('GET', `/v1/cases/${caseId}`, { key: keys.auditor }),
      (answer) => answer.body.status === 'paid',
    );
    expect(paid.body.details.payments).toHaveLength(1);
    expect(await balance()).toEqual([{ kind: 'coupon', currency: 'CNY', amountCents: 15_000 }]);
    const told = await eventually(
      () => stack.db.sql`select template, body from notifications where case_id = ${caseId} and channel = 'inbox' order by id`,
      (rows) => rows.some((row) => row.template === 'claim.paid'),
    );
    expect(told.find((row) => row.template === 'claim.paid')!.body).toContain('¥150.00');

    expect((await act(caseId, 'reverse', { reason: 'Paid to the wrong account' })).status).toBe(200);
    await eventually(
      () => stack.call('GET', `/v1/cases/${caseId}`, { key: keys.auditor }),
      (answer) => answer.body.status === 'reversed',
    );
    expect(await balance()).toEqual([{ kind: 'coupon', currency: 'CNY', amountCents: 0 }]);
    const second = await act(caseId, 'reverse', { reason: 'again' });
    expect(second.status).toBe(409);
    const ledger = await stack.db.sql`select amount_cents, reverses_id is not null as reversal from ledger where customer_id = 'claim-1' order by id`;
    expect(ledger.map((row) => [Number(row.amount_cents), row.reversal])).toEqual([
      [15_000, false],
      [-15_000, true],
    ]);
  });

  it('P3: a claim outside the window is refused at once with the reason; an unknown incident is a 422', async () => {
    const late = await stack.call('POST', '/v1/compensation-claims', {
      key: keys.agent,
      body: { customerId: 'claim-1', eventAt: new Date(Date.now() - 40 * 86_400_000).toISOString(), reason: 'Old outage', requestedRemedy: { amount: 500 } },
    });
    expect(late.status).toBe(201);
    expect(late.body).toMatchObject({ status: 'closed', details: { eligible: false } });
    expect(late.body.details.refusedReason).toContain('30-day claim window ended');
    const unknown = await stack.call('POST', '/v1/compensation-claims', { key: keys.agent, body: { customerId: 'claim-1', incidentId: 'INC-2026-999999', reason: 'x', requestedRemedy: {} } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.fields).toEqual([{ field: 'incidentId', message: 'no incident INC-2026-999999' }]);
  });

  it('P3, C8, D1: a user told of an outage claims from its tracking page, once, as themselves, and follows the claim by its own code', async () => {
    const opened = await stack.call('POST', '/v1/incidents', {
      key: keys.agent,
      body: { title: 'Fibre cut', severity: 'SEV2', startedAt: new Date(Date.now() - 90 * 60_000).toISOString(), scope: { services: ['broadband'], regions: ['claim-north'] } },
    });
    const incidentId: string = opened.body.caseId;
    expect((await act(incidentId, 'publish-notice', {}, keys.agent)).status).toBe(200);
    const notice = await eventually(
      () => stack.db.sql`select body from notifications where case_id = ${incidentId} and customer_id = 'claim-2' and channel = 'inbox'`,
      (rows) => rows.length === 1,
    );
    const code = /\/track\/([a-z0-9]{20})/.exec(notice[0]!.body as string)![1]!;

    const page = await fetch(`${stack.baseUrl}/track/${code}`);
    expect(await page.text()).toContain('Claim compensation');

    const claimBody = { reason: 'Could not work from home for an hour' };
    const [first, again] = await Promise.all([0, 1].map(() => stack.call('POST', `/v1/track/${code}/claims`, { body: claimBody })));
    expect([first!.status, again!.status]).toEqual([201, 201]);
    const claimId: string = first!.body.claim.caseId;
    expect(claimId).toMatch(/^CLM-/);
    expect(again!.body.claim.caseId).toBe(claimId);
    expect(first!.body.trackingCode).toMatch(/^[a-z0-9]{20}$/);
    expect(first!.body.trackingCode).not.toBe(code);
    const followed = await stack.call('GET', `/v1/track/${first!.body.trackingCode}`);
    expect(followed.body).toMatchObject({ caseId: claimId, type: 'compensation' });

    const events = await stack.call('GET', `/v1/cases/${claimId}/events`, { key: keys.auditor });
    expect(events.body.events[0].actor).toEqual({ id: 'claim-2', role: 'customer' });
    const claim = await stack.call('GET', `/v1/cases/${claimId}`, { key: keys.auditor });
    expect(claim.body).toMatchObject({ customerId: 'claim-2', details: { incidentId } });

    const onClaim = await stack.call('POST', `/v1/track/${first!.body.trackingCode}/claims`, { body: claimBody });
    expect(onClaim.status).toBe(409);
    const missingReason = await stack.call('POST', `/v1/track/${code}/claims`, { body: { reason: '' } });
    expect(missingReason.status).toBe(422);
    expect((await stack.call('POST', '/v1/track/abcdefghjkmnpqrstvwx/claims', { body: claimBody })).status).toBe(404);
  });
});
