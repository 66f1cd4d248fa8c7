import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCustomer } from '../support/database';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';

// Complaint promises that hold over HTTP, the way ops staff meet them (issue "Promise fidelity").
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ postgres: 55454, temporal: 17254, temporalUi: 18254 }, 'pledge-complaint-fidelity');
  await seedCustomer(stack.db.sql, { id: 'fid-1', locale: 'en' });
});

afterAll(() => stack?.stop());

const response = { problem: 'You were charged twice', steps: 'Billing refunds the second charge', expectedCompletionAt: '2030-01-01T10:00:00+08:00' };

async function openComplaint(body: Record<string, unknown> = {}) {
  const opened = await stack.call('POST', '/v1/complaints', {
    key: keys.agent,
    body: { customerId: 'fid-1', channel: 'phone', category: 'billing', summary: 'Charged twice', ...body },
  });
  expect(opened.status).toBe(201);
  return opened.body.caseId as string;
}

const act = (caseId: string, action: string, input: Record<string, unknown> = {}, key = keys.agent) => stack.call('POST', `/v1/cases/${caseId}/actions/${action}`, { key, body: { input } });

describe('C11, C12: the user keeps their windows', () => {
  it('C12: staff cannot close a resolved complaint inside the windows; the user confirms and it closes', async () => {
    const caseId = await openComplaint();
    expect((await act(caseId, 'acknowledge', { message: 'Checking', ...response })).status).toBe(200);
    expect((await act(caseId, 'resolve', { resolution: 'Refunded', ...response })).status).toBe(200);
    const close = await act(caseId, 'close', { reason: 'done' }, keys.supervisor);
    expect(close.status).toBe(409);
    expect(close.body.error.message).toContain('or earlier when the user confirms');
    const confirmed = await act(caseId, 'confirm', { comment: 'Thank you' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('closed');
    const events = await stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor });
    const confirmation = events.body.events.find((event: { type: string }) => event.type === 'complaint.confirmed');
    expect(confirmation.actor).toEqual({ id: 'fid-1', role: 'customer' });
  });

  it('C13: a response without the problem, the steps or the expected completion is refused, naming each field', async () => {
    const caseId = await openComplaint();
    const refused = await act(caseId, 'acknowledge', { message: 'Checking' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.fields.map((field: { field: string }) => field.field).sort()).toEqual(['input.expectedCompletionAt', 'input.problem', 'input.steps']);
  });
});

describe('C2: account security is always P1', () => {
  it('C2: an account-security complaint opened with a lower priority is refused with 422 naming the field', async () => {
    const refused = await stack.call('POST', '/v1/complaints', {
      key: keys.agent,
      body: { customerId: 'fid-1', channel: 'web', category: 'account-security', priority: 'P3', summary: 'Password changed' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.fields).toEqual([{ field: 'priority', message: 'an account-security complaint is always P1 (C2); leave it out or send P1' }]);
  });

  it('C2: reclassifying to account security makes it P1 and moves the first-response deadline to 1 hour', async () => {
    const caseId = await openComplaint({ category: 'billing' });
    const reclassified = await act(caseId, 'reclassify', { category: 'account-security', reason: 'The caller reports a stolen password' });
    expect(reclassified.status).toBe(200);
    expect(reclassified.body.priority).toBe('P1');
    const firstResponse = reclassified.body.deadlines.find((deadline: { name: string }) => deadline.name === 'firstResponse');
    expect(Date.parse(firstResponse.dueAt) - Date.parse(reclassified.body.openedAt)).toBe(60 * 60_000);
    const lowered = await act(caseId, 'reclassify', { priority: 'P3', reason: 'not urgent' });
    expect(lowered.status).toBe(422);
    expect(lowered.body.error.fields).toEqual([{ field: 'input.priority', message: 'an account-security complaint is always P1 (C2)' }]);
  });
});
