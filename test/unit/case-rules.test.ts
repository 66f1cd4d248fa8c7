import { describe, expect, it } from 'vitest';
import { allowedActions, checkAction } from '../../domain/case-actions';
import { caseTypeOfCaseId, caseWorkflowId, formatCaseId } from '../../domain/case-types';
import { classifyComplaintPriority, complaintActions } from '../../domain/complaint';
import { raisePriority } from '../../domain/priority';

describe('case numbers and workflow ids', () => {
  it('C1: formats a case number and finds its type again', () => {
    const caseId = formatCaseId('complaint', 2026, 42);
    expect(caseId).toBe('CMP-2026-000042');
    expect(caseTypeOfCaseId(caseId)).toBe('complaint');
    expect(caseWorkflowId('complaint', caseId)).toBe('complaint-CMP-2026-000042');
    expect(caseTypeOfCaseId(formatCaseId('incident', 2026, 7))).toBe('incident');
  });

  it('rejects numbers that name no case type', () => {
    expect(caseTypeOfCaseId('XYZ-2026-000001')).toBeUndefined();
    expect(caseTypeOfCaseId('CMP-26-1')).toBeUndefined();
    expect(caseTypeOfCaseId('complaint-CMP-2026-000001')).toBeUndefined();
  });
});

describe('complaint priority', () => {
  it('C2: account security is P1 by default, others P3, and staff can override', () => {
    expect(classifyComplaintPriority('account-security').priority).toBe('P1');
    expect(classifyComplaintPriority('billing').priority).toBe('P3');
    expect(classifyComplaintPriority('account-security', 'P2')).toEqual({ priority: 'P2', reason: 'set by staff at intake' });
  });

  it('C9: a breach raises the priority one step, never past P1', () => {
    expect(raisePriority('P4')).toBe('P3');
    expect(raisePriority('P2')).toBe('P1');
    expect(raisePriority('P1')).toBe('P1');
  });
});

describe('action checks shared by the API and the workflow validator', () => {
  const agent = 'agent' as const;

  it('accepts an allowed action with valid input', () => {
    const response = { problem: 'Double charge', steps: 'Refund', expectedCompletionAt: '2026-12-01T10:00:00+08:00' };
    expect(checkAction(complaintActions, { action: 'acknowledge', input: { message: ' hi ', ...response }, actorRole: agent }, 'received')).toEqual({
      ok: true,
      input: { message: 'hi', ...response },
    });
    // C13: required of new requests, optional where a recorded action is applied again (replay).
    expect(checkAction(complaintActions, { action: 'acknowledge', input: { message: ' hi ' }, actorRole: agent }, 'received', 'input')).toEqual({ ok: true, input: { message: 'hi' } });
  });

  it('names the unknown action, the forbidden role, the bad field and the refusing state', () => {
    expect(checkAction(complaintActions, { action: 'teleport', actorRole: agent })).toMatchObject({ ok: false, kind: 'unknown-action' });
    expect(checkAction(complaintActions, { action: 'acknowledge', input: { message: 'x' }, actorRole: 'auditor' })).toMatchObject({ ok: false, kind: 'forbidden' });
    expect(checkAction(complaintActions, { action: 'acknowledge', input: {}, actorRole: agent })).toMatchObject({
      ok: false,
      kind: 'invalid-input',
      fields: [{ field: 'input.message' }, { field: 'input.problem' }, { field: 'input.steps' }, { field: 'input.expectedCompletionAt' }],
    });
    expect(checkAction(complaintActions, { action: 'close', actorRole: agent }, 'received')).toMatchObject({
      ok: false,
      kind: 'refused',
      message: 'cannot close a case that is received; allowed when resolved or referred',
    });
  });

  it('does not mistake inherited object keys for actions', () => {
    expect(checkAction(complaintActions, { action: 'toString', actorRole: agent })).toMatchObject({ ok: false, kind: 'unknown-action' });
  });

  it('lists the actions a status allows', () => {
    expect(allowedActions(complaintActions, 'received')).toEqual(['acknowledge', 'assign', 'note', 'request-info', 'report-preliminary', 'resolve', 'withdraw', 'reclassify']);
    expect(allowedActions(complaintActions, 'awaiting-customer')).toEqual(['assign', 'note', 'customer-reply', 'withdraw', 'reclassify']);
    expect(allowedActions(complaintActions, 'closed')).toEqual([]);
  });
});
