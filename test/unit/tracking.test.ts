import { describe, expect, it } from 'vitest';
import type { Actor } from '../../domain/actors';
import type { CaseState } from '../../domain/case-state';
import { complaintActions } from '../../domain/complaint';
import { complaintCase } from '../../domain/complaint-case';
import { incidentActions } from '../../domain/incident';
import { trackingCodeToken, trackingLinkLine, withTrackingLine } from '../../domain/notification-templates';
import { customerActionNames, normalizeTrackingCode, statusLabel, trackedCase, trackingUrl, userNextStep, type TrackedMessageRow } from '../../domain/tracking';
import { newTrackingCode } from '../../db/tracking-codes';
import type { CustomerContact } from '../../db/customers';
import { notificationRows } from '../../notifications/outbox';
import { accepted, act, actorOf, complaintInput, hours, openCase, shanghai, viewOf, type CaseAt } from '../support/case-rules';

const caseId = 'CMP-2026-000042';
const opened = shanghai('2026-11-17T10:00');
const agent: Actor = { id: 'alice (key 1a2b3c4d)', role: 'agent' };
const response = { problem: 'You were charged twice', steps: 'Billing refunds the second charge', expectedCompletionAt: '2026-11-20T10:00:00+08:00' };
const internalNote = 'INTERNAL: customer threatened to go to the press';

/** A complaint taken through its rules (no Temporal): assigned, noted internally, resolved by a named agent. */
function resolvedComplaint(): CaseState {
  let complaint: CaseAt<any> = openCase(complaintCase, complaintInput(caseId, opened), opened);
  const take = (action: string, input: Record<string, unknown>, actor = agent) => (complaint = accepted(act(complaintCase, complaint, action, input, actor, complaint.nowMs + hours(1))));
  take('assign', { assignee: 'Bob Zhang (billing team)' });
  take('note', { text: internalNote });
  take('acknowledge', { message: 'We are checking your bill', ...response });
  take('resolve', { resolution: 'The second charge was refunded', ...response }, actorOf('supervisor'));
  return viewOf(complaintCase, complaint);
}

const messages: TrackedMessageRow[] = [
  { messageKey: 'complaint-x:3', channel: 'inbox', status: 'sent', subject: 'Resolved', body: 'The result…', createdAt: '2026-11-17T14:00:00.000Z', sentAt: '2026-11-17T14:00:01.000Z' },
  { messageKey: 'complaint-x:3', channel: 'email', status: 'pending', subject: 'Resolved', body: 'The result…', createdAt: '2026-11-17T14:00:00.000Z', sentAt: null },
  { messageKey: 'complaint-x:1', channel: 'inbox', status: 'sent', subject: 'Received', body: 'We have received…', createdAt: '2026-11-17T02:00:00.000Z', sentAt: '2026-11-17T02:00:01.000Z' },
];

describe("C8: the user's view of their case (domain/tracking.ts)", () => {
  it('C8: shows status, next step, expected completion and deadlines (name, due, state)', () => {
    const state = resolvedComplaint();
    const view = trackedCase(state, { messages, actions: complaintActions, locale: 'en-US' });
    expect(view).toMatchObject({ caseId, type: 'complaint', status: 'resolved', nextStep: state.nextStep, expectedCompletionAt: state.expectedCompletionAt, locale: 'en', rating: null });
    expect(view.deadlines).toEqual(state.deadlines.map((deadline) => ({ name: deadline.name, dueAt: deadline.dueAt, state: deadline.state })));
    expect(Object.keys(view.deadlines[0]!).sort()).toEqual(['dueAt', 'name', 'state']);
  });

  it('C8: never shows internal notes, the assignee, staff names, actor ids or the details blob', () => {
    const state = resolvedComplaint();
    expect(JSON.stringify(state)).toContain('Bob Zhang');
    const view = trackedCase(state, { messages, actions: complaintActions, locale: 'zh-CN' });
    const shown = JSON.stringify(view);
    for (const secret of [internalNote, 'Bob Zhang', 'alice', '1a2b3c4d', 'supervisor/test', 'priorityReason', 'assignee', 'details', state.workflowId, 'customerId', 'cust-1']) {
      expect(shown, secret).not.toContain(secret);
    }
    expect(Object.keys(view).sort()).toEqual(['allowedActions', 'caseId', 'deadlines', 'expectedCompletionAt', 'locale', 'messages', 'nextStep', 'openedAt', 'rating', 'status', 'type', 'updatedAt']);
  });

  it("C8, C10–C12: allows only the case's allowed actions that a customer may take", () => {
    const state = resolvedComplaint();
    expect(state.allowedActions).toEqual(expect.arrayContaining(['assign', 'note', 'close', 'rate', 'dispute', 'reopen', 'confirm']));
    const view = trackedCase(state, { messages: [], actions: complaintActions, locale: 'en' });
    expect(view.allowedActions.sort()).toEqual(['confirm', 'dispute', 'rate', 'reopen']);
    expect(customerActionNames(complaintActions).sort()).toEqual(['confirm', 'customer-reply', 'dispute', 'rate', 'reopen', 'withdraw']);
    expect(customerActionNames(incidentActions)).toEqual([]);
    expect(trackedCase({ ...state, status: 'received', allowedActions: ['acknowledge', 'withdraw', 'note'] }, { messages: [], actions: complaintActions, locale: 'en' }).allowedActions).toEqual([
      'withdraw',
    ]);
    expect(trackedCase(state, { messages: [], actions: undefined, locale: 'en' }).allowedActions).toEqual([]);
  });

  it("C8: lists the customer's messages newest first, one per message with a delivery per channel", () => {
    const view = trackedCase(resolvedComplaint(), { messages, actions: complaintActions, locale: 'en' });
    expect(view.messages).toEqual([
      {
        subject: 'Resolved',
        body: 'The result…',
        queuedAt: '2026-11-17T14:00:00.000Z',
        deliveries: [
          { channel: 'email', status: 'pending', sentAt: null },
          { channel: 'inbox', status: 'sent', sentAt: '2026-11-17T14:00:01.000Z' },
        ],
      },
      { subject: 'Received', body: 'We have received…', queuedAt: '2026-11-17T02:00:00.000Z', deliveries: [{ channel: 'inbox', status: 'sent', sentAt: '2026-11-17T02:00:01.000Z' }] },
    ]);
  });

  it("C8, C10: shows the user's own rating once given", () => {
    const state = resolvedComplaint();
    const rated = { ...state, details: { ...state.details, rating: { rating: 4, comment: 'Quick' } } };
    expect(trackedCase(rated, { messages: [], actions: complaintActions, locale: 'en' }).rating).toEqual({ rating: 4, comment: 'Quick' });
  });

  it('C8: speaks the user’s language on the page, falling back to the state’s own words', () => {
    expect(statusLabel('complaint', 'awaiting-customer', 'zh-CN')).toBe('等待您补充信息');
    expect(statusLabel('complaint', 'something-new', 'en')).toBe('something-new');
    expect(userNextStep({ type: 'complaint', status: 'resolved', nextStep: 'staff words' }, 'en')).toMatch(/rate, dispute or reopen/);
    expect(userNextStep({ type: 'complaint', status: 'closed', nextStep: null }, 'en')).toBeNull();
    expect(userNextStep({ type: 'termination', status: 'x', nextStep: 'staff words' }, 'zh-CN')).toBe('staff words');
  });
});

describe('C8: tracking codes and links', () => {
  it('C8: codes are 20 characters of base32 (100 random bits), accepted in any case, anything else refused', () => {
    const codes = new Set(Array.from({ length: 1000 }, () => newTrackingCode()));
    expect(codes.size).toBe(1000);
    for (const code of codes) expect(normalizeTrackingCode(code)).toBe(code);
    const code = [...codes][0]!;
    expect(normalizeTrackingCode(` ${code.toUpperCase()} `)).toBe(code);
    for (const bad of ['', 'short', `${code}x`, `${code.slice(0, 19)}u`, `${code.slice(0, 19)}/`, '../../../../etc/passwd']) expect(normalizeTrackingCode(bad), bad).toBeUndefined();
  });

  it("C8: the link line is in the message's locale, under the public URL", () => {
    expect(trackingUrl('https://pledge.example/care/', 'abc')).toBe('https://pledge.example/care/track/abc');
    expect(trackingLinkLine('zh-CN', 'https://x/track/abc')).toBe('查询进度：https://x/track/abc');
    expect(trackingLinkLine('en-GB', 'https://x/track/abc')).toBe('Follow your case: https://x/track/abc');
    expect(withTrackingLine('Hello', `Follow your case: https://x/track/${trackingCodeToken}`, 'k7m2')).toBe('Hello\n\nFollow your case: https://x/track/k7m2');
  });

  it('C8: every outbox row of a message about a case gets the tracking line in its locale; one without a case gets none', () => {
    const customer = (id: string, locale: string): CustomerContact => ({
      id,
      locale,
      email: `${id}@example.test`,
      phone: null,
      channels: ['email', 'inbox'],
      consents: { email: { granted: true, recordedAt: '2026-01-01T00:00:00Z', source: 'test' } },
      quietHours: null,
      timeZone: 'Asia/Shanghai',
    });
    const rows = notificationRows(
      [
        { idempotencyKey: 'a', customer: customer('c-en', 'en'), caseId, templateId: 'complaint.closed', params: { caseId } },
        { idempotencyKey: 'b', customer: customer('c-zh', 'zh-CN'), caseId, templateId: 'complaint.closed', params: { caseId } },
        { idempotencyKey: 'c', customer: customer('c-none', 'en'), templateId: 'complaint.closed', params: { caseId } },
      ],
      { publicUrl: 'https://pledge.example' },
    );
    expect(rows.map((row) => [row.idempotencyKey, row.trackingLine])).toEqual([
      ['a:inbox', `Follow your case: https://pledge.example/track/${trackingCodeToken}`],
      ['a:email', `Follow your case: https://pledge.example/track/${trackingCodeToken}`],
      ['b:inbox', `查询进度：https://pledge.example/track/${trackingCodeToken}`],
      ['b:email', `查询进度：https://pledge.example/track/${trackingCodeToken}`],
      ['c:inbox', undefined],
      ['c:email', undefined],
    ]);
    expect(rows[0]!.body).not.toContain(trackingCodeToken);
  });
});
