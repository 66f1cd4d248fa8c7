import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { putCustomer } from '../support/customers';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';

// C8 over HTTP against the real stack: a user follows their complaint with the code from its messages.
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ postgres: 55458, temporal: 17258, temporalUi: 18258 }, 'pledge-e2e-tracking');
});

afterAll(() => stack?.stop());

const call: RunningStack['call'] = (...args) => stack.call(...args);
const response = { problem: 'You were charged twice for November', steps: 'Billing refunds the second charge', expectedCompletionAt: '2030-01-01T10:00:00+08:00' };
const internalNote = 'INTERNAL: goodwill credit approved by Zhao Min';
const staffName = 'alice-the-agent';
const assignee = 'Bob Secret (billing team)';
const trackingLink = /Follow your case: http:\/\/127\.0\.0\.1:3000\/track\/([0-9a-z]{20})$/;
const madeUp = 'abcdefghjkmnpqrstvwx';

async function openComplaint(customerId: string, key: string): Promise<string> {
  await putCustomer(call, customerId);
  const opened = await call('POST', '/v1/complaints', {
    key: keys.agent,
    body: { customerId, channel: 'web', category: 'billing', summary: 'Charged twice' },
    headers: { 'idempotency-key': key, 'x-actor-name': staffName },
  });
  expect(opened.status).toBe(201);
  return opened.body.caseId;
}

/** The code in the customer's messages about the case, once they were sent. */
async function codeFromMessages(customerId: string, caseId: string, count: number): Promise<string> {
  const told = await eventually(
    () => call('GET', `/v1/customers/${customerId}/notifications`, { key: keys.agent }),
    (result) => result.body.notifications.filter((n: { caseId: string }) => n.caseId === caseId).length >= count,
  );
  const codes = new Set(told.body.notifications.filter((n: { caseId: string }) => n.caseId === caseId).map((n: { body: string }) => trackingLink.exec(n.body)?.[1]));
  expect([...codes]).toHaveLength(1);
  const [code] = codes as Set<string>;
  expect(code).toMatch(/^[0-9a-z]{20}$/);
  return code!;
}

const track = (code: string) => call('GET', `/v1/track/${code}`);
const act = (code: string, action: string, input: unknown, headers?: Record<string, string>) =>
  call('POST', `/v1/track/${code}/actions/${action}`, { body: { input }, ...(headers ? { headers } : {}) });
const page = async (path: string, init?: RequestInit) => {
  const answer = await fetch(stack.baseUrl + path, { redirect: 'manual', ...init });
  return { status: answer.status, headers: answer.headers, text: await answer.text() };
};

function expectNothingInternal(shown: string) {
  for (const secret of [internalNote, 'Zhao Min', staffName, assignee, 'key ', 'priorityReason', '"details"', '"assignee"']) expect(shown, secret).not.toContain(secret);
}

describe('C8: a user follows their own complaint over HTTP', () => {
  it('C8, C10, D1: the link in every message shows status and messages, allows a rating recorded as the customer’s, and never shows internal notes', async () => {
    const caseId = await openComplaint('cust-track', 'track-1');
    expect((await call('POST', `/v1/cases/${caseId}/actions/assign`, { key: keys.agent, body: { input: { assignee } }, headers: { 'x-actor-name': staffName } })).status).toBe(200);
    expect((await call('POST', `/v1/cases/${caseId}/actions/note`, { key: keys.agent, body: { input: { text: internalNote } }, headers: { 'x-actor-name': staffName } })).status).toBe(200);
    const code = await codeFromMessages('cust-track', caseId, 2);

    // No staff key needed; the user sees where the case stands and what they were told.
    const received = await track(code);
    expect(received.status).toBe(200);
    expect(received.headers.get('cache-control')).toBe('no-store');
    expect(received.body).toMatchObject({ caseId, type: 'complaint', status: 'received', nextStep: expect.any(String), locale: 'en', allowedActions: ['withdraw'], rating: null });
    expect(received.body.deadlines.map((deadline: { name: string }) => deadline.name)).toEqual(['firstResponse', 'preliminary', 'result']);
    expect(received.body.messages[0]).toMatchObject({ subject: `We have received your complaint (case ${caseId})`, body: expect.stringMatching(trackingLink) });
    expect(received.body.messages[0].deliveries.map((delivery: { channel: string }) => delivery.channel)).toEqual(['email', 'inbox']);
    expectNothingInternal(JSON.stringify(received.body));

    // Staff answer and resolve; the same code follows the case, and the user may now rate.
    for (const [action, input] of [
      ['acknowledge', { message: 'We are checking your bill', ...response }],
      ['resolve', { resolution: 'The second charge was refunded', ...response }],
    ] as const) {
      expect((await call('POST', `/v1/cases/${caseId}/actions/${action}`, { key: keys.agent, body: { input }, headers: { 'x-actor-name': staffName } })).status).toBe(200);
    }
    expect(await codeFromMessages('cust-track', caseId, 6)).toBe(code);
    const resolved = await eventually(
      () => track(code),
      (result) => result.body.messages.length === 3 && result.body.messages.every((m: { deliveries: { status: string }[] }) => m.deliveries.every((d) => d.status === 'delivered')),
    );
    expect(resolved.body).toMatchObject({ status: 'resolved', expectedCompletionAt: expect.any(String) });
    expect(resolved.body.allowedActions.sort()).toEqual(['confirm', 'dispute', 'rate', 'reopen']);
    expect(resolved.body.messages.map((m: { subject: string }) => m.subject)).toEqual([
      `Your complaint has been resolved (case ${caseId})`,
      `Your complaint is being handled (case ${caseId})`,
      `We have received your complaint (case ${caseId})`,
    ]);
    expectNothingInternal(JSON.stringify(resolved.body));

    // The page: the same view, server-rendered, with a rating form.
    const html = await page(`/track/${code}`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(html.text).toContain(caseId);
    expect(html.text).toContain('Resolved');
    expect(html.text).toContain(`Your complaint has been resolved (case ${caseId})`);
    expect(html.text).toContain(`<form method="post" action="${code}/actions/rate?lang=en">`);
    expect(html.text).toMatch(/<input type="radio" name="rating" value="5"/);
    expectNothingInternal(html.text);
    expect((await page(`/track/${code}?lang=zh-CN`)).text).toContain('已有处理结果');

    // The user rates: checked like a staff action, recorded as the customer's; a retry with the key repeats nothing.
    expect((await act(code, 'rate', { rating: 9 })).status).toBe(422);
    const rated = await act(code, 'rate', { rating: 5, comment: 'Quick <b>and</b> kind' }, { 'idempotency-key': 'rate-once' });
    expect(rated.status).toBe(200);
    expect(rated.body).toMatchObject({ caseId, status: 'resolved', rating: { rating: 5, comment: 'Quick <b>and</b> kind' } });
    expect((await act(code, 'rate', { rating: 5, comment: 'Quick <b>and</b> kind' }, { 'idempotency-key': 'rate-once' })).status).toBe(200);
    expect((await act(code, 'rate', { rating: 1 }, { 'idempotency-key': 'rate-once' })).status).toBe(422);
    const events = await call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor });
    const ratings = events.body.events.filter((event: { type: string }) => event.type === 'complaint.rated');
    expect(ratings).toHaveLength(1);
    expect(ratings[0]).toMatchObject({ actor: { id: 'cust-track', role: 'customer' }, data: { rating: 5 } });
    // Escaped on the page, not markup.
    const ratedPage = await page(`/track/${code}`);
    expect(ratedPage.text).toContain('Quick &lt;b&gt;and&lt;/b&gt; kind');
    expect(ratedPage.text).not.toContain('<b>and</b>');

    // Actions that are not the user's: 403, whoever holds the code.
    for (const action of ['close', 'note', 'arbitrate', 'no-such-action']) expect((await act(code, action, { text: 'x' })).status, action).toBe(403);

    // The page's form (no JavaScript): the user confirms the result, back to the page, the case closes.
    const confirmed = await page(`/track/${code}/actions/confirm?lang=en`, { method: 'POST', body: new URLSearchParams({ comment: 'All good' }) });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get('location')).toBe(`../../${code}?done=confirm&lang=en`);
    const closed = await eventually(
      () => track(code),
      (result) => result.body.status === 'closed',
    );
    expect(closed.body.allowedActions).toEqual([]);
    const confirmedEvent = (await call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor })).body.events.find((event: { type: string }) => event.type === 'complaint.confirmed');
    expect(confirmedEvent.actor).toEqual({ id: 'cust-track', role: 'customer' });

    // A refused form shows the page again, with the reason, its links still under /track/.
    const refusedForm = await page(`/track/${code}/actions/rate?lang=en`, { method: 'POST', body: new URLSearchParams({ rating: '4' }) });
    expect(refusedForm.status).toBe(409);
    expect(refusedForm.text).toContain('role="alert"');
    expect(refusedForm.text).toContain('<base href="../../" />');
    expect(refusedForm.text).toContain('Closed');
  });

  it("C8: another case's code shows only that case; a made-up code, a malformed one and a revoked one are the same 404", async () => {
    const mine = await openComplaint('cust-track-a', 'track-a');
    const theirs = await openComplaint('cust-track-b', 'track-b');
    const myCode = await codeFromMessages('cust-track-a', mine, 1);
    const theirCode = await codeFromMessages('cust-track-b', theirs, 1);
    expect(myCode).not.toBe(theirCode);
    expect((await track(theirCode)).body.caseId).toBe(theirs);
    expect(JSON.stringify((await track(theirCode)).body)).not.toContain(mine);
    expect((await track(myCode)).body.caseId).toBe(mine);

    const unknown = await track(madeUp);
    expect(unknown.status).toBe(404);
    expect((await track('not-a-code')).status).toBe(404);
    expect((await track(`${myCode}x`)).status).toBe(404);
    expect((await act(madeUp, 'rate', { rating: 5 })).status).toBe(404);
    expect((await page(`/track/${madeUp}`)).status).toBe(404);

    // Revoking needs a staff key that may act.
    expect((await call('DELETE', `/v1/track/${theirCode}`)).status).toBe(401);
    expect((await call('DELETE', `/v1/track/${theirCode}`, { key: keys.auditor })).status).toBe(403);
    expect((await call('DELETE', `/v1/track/${madeUp}`, { key: keys.agent })).status).toBe(404);
    const revoked = await call('DELETE', `/v1/track/${theirCode}`, { key: keys.supervisor });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ code: theirCode, caseId: theirs, customerId: 'cust-track-b', revokedAt: expect.any(String) });

    const gone = await track(theirCode);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual(unknown.body);
    expect((await act(theirCode, 'withdraw', {})).status).toBe(404);
    const gonePage = await page(`/track/${theirCode}`);
    expect(gonePage.status).toBe(404);
    expect(gonePage.text).not.toContain(theirs);
    expect((await track(myCode)).status).toBe(200);

    // The next message of that case carries a new code.
    expect((await call('POST', `/v1/cases/${theirs}/actions/acknowledge`, { key: keys.agent, body: { input: { message: 'Looking into it', ...response } } })).status).toBe(200);
    const told = await eventually(
      () => call('GET', '/v1/customers/cust-track-b/notifications', { key: keys.agent }),
      (result) => result.body.notifications.some((n: { template: string }) => n.template === 'complaint.acknowledged'),
    );
    const fresh = trackingLink.exec(told.body.notifications.find((n: { template: string }) => n.template === 'complaint.acknowledged').body)?.[1];
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(theirCode);
    expect((await track(fresh!)).body).toMatchObject({ caseId: theirs, status: 'acknowledged' });
  });

  it('C8: the tracking routes are in the OpenAPI document, the public ones without a staff key', async () => {
    const document = (await call('GET', '/openapi.json')).body;
    expect(document.paths['/v1/track/{code}'].get.security).toEqual([]);
    expect(document.paths['/v1/track/{code}'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/TrackedCase' });
    expect(document.paths['/v1/track/{code}'].delete.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/v1/track/{code}/actions/'))).toEqual(
      expect.arrayContaining(['/v1/track/{code}/actions/rate', '/v1/track/{code}/actions/customer-reply', '/v1/track/{code}/actions/confirm']),
    );
    expect(document.components.schemas.TrackedCase.properties).not.toHaveProperty('details');
  });
});
