import { describe, expect, it } from 'vitest';
import type { ActionTable } from '../../domain/case-actions';
import type { Actor, ActorRole } from '../../domain/actors';
import { classifyComplaintPriority, complaintActions, complaintStatuses, type ComplaintStatus } from '../../domain/complaint';
import { complaintCase, complaintOutcome, type ComplaintInput, type ComplaintState } from '../../domain/complaint-case';
import { defaultComplaintSlaPolicy } from '../../domain/sla-policy';
import {
  act,
  accepted,
  actorOf,
  advance,
  allRules,
  complaintInput,
  days,
  hours,
  iso,
  minutes,
  only,
  openCase,
  refused,
  shanghai,
  typesOf,
  viewOf,
  type CaseAt,
  type Stepped,
} from '../support/case-rules';

/** The table indexed by any action name, as the tests walk it. */
const actionTable: ActionTable<ComplaintStatus> = complaintActions;

const caseId = 'CMP-2026-000042';
const workflowId = `complaint-${caseId}`;
const agent = actorOf('agent');
const supervisor = actorOf('supervisor');
const customer = actorOf('customer');
const allRoles: ActorRole[] = ['agent', 'supervisor', 'alert-source', 'auditor', 'customer', 'system'];

/** Tuesday 17 Nov 2026, 10:00 in Shanghai: a plain working week (no holidays until 2027). */
const tuesday10 = shanghai('2026-11-17T10:00');

type Complaint = CaseAt<ComplaintState>;
type Result = Stepped<ComplaintState, never>;

function open(overrides: Partial<ComplaintInput> = {}, atMs = tuesday10): Result {
  return openCase(complaintCase, complaintInput(caseId, atMs, overrides), atMs);
}

/** An action that must be accepted, by default an agent's, by default an hour after the last call. */
function take(complaint: Complaint, action: string, input: Record<string, unknown> = validInput[action]!, actor: Actor = agent, atMs = complaint.nowMs + hours(1)): Result {
  return accepted(act(complaintCase, complaint, action, input, actor, atMs));
}

function attempt(complaint: Complaint, action: string, actor: Actor = agent, atMs = complaint.nowMs + minutes(1), input: Record<string, unknown> = validInput[action]!) {
  return act(complaintCase, complaint, action, input, actor, atMs);
}

const clock = (complaint: Complaint, name: string) => {
  const found = complaint.state.clocks[name];
  if (!found) throw new Error(`no clock ${name}; have ${Object.keys(complaint.state.clocks).join(', ')}`);
  return found;
};

const upheld = { decision: 'uphold', reasons: 'The refund left our bank on 18 Nov' };
const overturned = { decision: 'overturn', reasons: 'The refund never left our bank' };

/** A valid input for every action of the table (the test below fails when an action is added without one). */
const response = { problem: 'You were charged twice for November', steps: 'Billing checks the batch and refunds the second charge', expectedCompletionAt: '2026-11-20T10:00:00+08:00' };
const validInput: Record<string, Record<string, unknown>> = {
  acknowledge: { message: 'We are checking your bill', ...response },
  assign: { assignee: 'billing-team' },
  note: { text: 'Duplicate batch on 3 Nov' },
  'request-info': { question: 'Which card was charged twice?' },
  'customer-reply': { message: 'The Visa ending 42' },
  'report-preliminary': { finding: 'A billing batch ran twice', ...response },
  resolve: { resolution: 'The second charge was refunded', ...response },
  rate: { rating: 4, comment: 'Quick' },
  dispute: { reason: 'The refund has not arrived' },
  arbitrate: upheld,
  'refer-third-party': { body: 'Internet Society of China', reference: 'ISC-2026-0099' },
  reopen: { reason: 'Charged twice again' },
  withdraw: { reason: 'Sorted it out myself' },
  close: { reason: 'Referral answered' },
  confirm: { comment: 'Thanks, all good' },
  reclassify: { priority: 'P2', reason: 'The customer is a business line' },
};

/** How a complaint reaches each status, one step an hour; the `resolved` one was disputed and upheld, so a referral may follow. */
const pathTo: Record<ComplaintStatus, Array<[action: string, input?: Record<string, unknown>, actor?: Actor]>> = {
  received: [],
  acknowledged: [['acknowledge']],
  'awaiting-customer': [['request-info']],
  'preliminary-reported': [['report-preliminary']],
  resolved: [['resolve'], ['dispute'], ['arbitrate', upheld, supervisor]],
  disputed: [['resolve'], ['dispute']],
  referred: [['resolve'], ['dispute'], ['arbitrate', upheld, supervisor], ['refer-third-party']],
  closed: [['withdraw', validInput.withdraw, customer]],
};

function reach(status: ComplaintStatus, from: Complaint = open()): Complaint {
  const reached = pathTo[status].reduce<Complaint>((complaint, [action, input, actor]) => take(complaint, action, input, actor), from);
  expect(viewOf(complaintCase, reached).status).toBe(status);
  return reached;
}

/** Pairs the table allows that a rule of its own refuses; each is tested on its own below. */
const refusedDespiteTable: Partial<Record<string, ComplaintStatus[]>> = {};

const allowedFrom = (action: string) => actionTable[action]!.from.filter((status) => !refusedDespiteTable[action]?.includes(status));

describe('complaint actions against the action table', () => {
  it('has a test input for every action of the table', () => {
    expect(Object.keys(validInput).sort()).toEqual(Object.keys(complaintActions).sort());
  });

  it.each(Object.keys(complaintActions))('C2–C12: %s is accepted from each status that allows it', (action) => {
    const rule = actionTable[action]!;
    const actor = actorOf(rule.roles[0]!);
    for (const status of allowedFrom(action)) {
      const result = attempt(reach(status), action, actor);
      expect(result, `${action} from ${status}`).toMatchObject({ ok: true });
      expect(accepted(result).events.length, `${action} from ${status} records an event`).toBeGreaterThan(0);
    }
  });

  it.each(Object.keys(complaintActions))('C2–C12: %s is refused from every status that does not allow it', (action) => {
    const rule = actionTable[action]!;
    const actor = actorOf(rule.roles[0]!);
    const notAllowed = complaintStatuses.filter((status) => !rule.from.includes(status));
    expect(notAllowed.length).toBeGreaterThan(0);
    for (const status of notAllowed) {
      const refusal = refused(attempt(reach(status), action, actor));
      expect(refusal, `${action} from ${status}`).toMatchObject({ kind: 'refused', message: `cannot ${action} a case that is ${status}; allowed when ${rule.from.join(' or ')}` });
    }
  });

  it('a closed complaint refuses every action', () => {
    const closed = reach('closed');
    expect(viewOf(complaintCase, closed).allowedActions).toEqual([]);
    for (const action of Object.keys(complaintActions)) expect(refused(attempt(closed, action, supervisor)).kind).toBe('refused');
  });

  it('D6, C10–C12: the user acts only on their own steps; an auditor, an alert source or the system never acts', () => {
    const byRole = (role: ActorRole) => Object.keys(complaintActions).filter((action) => actionTable[action]!.roles.includes(role));
    expect(byRole('customer')).toEqual(['customer-reply', 'rate', 'dispute', 'reopen', 'withdraw', 'confirm']);
    expect(byRole('supervisor')).toEqual(Object.keys(complaintActions));
    expect(byRole('agent')).toEqual(Object.keys(complaintActions).filter((action) => action !== 'arbitrate'));
    for (const role of ['auditor', 'alert-source', 'system'] as const) expect(byRole(role)).toEqual([]);
  });

  it.each(Object.keys(complaintActions))('D6: %s is forbidden to every role it does not name, and taken by every role it names', (action) => {
    const rule = actionTable[action]!;
    const status = allowedFrom(action)[0]!;
    const complaint = reach(status);
    for (const role of allRoles) {
      const result = attempt(complaint, action, actorOf(role));
      if (rule.roles.includes(role)) expect(result, `${role} ${action}`).toMatchObject({ ok: true });
      else expect(result, `${role} ${action}`).toMatchObject({ ok: false, kind: 'forbidden', message: `the ${role} role may not ${action}; allowed: ${rule.roles.join(', ')}` });
    }
  });

  it('an accepted action records who took it; a refused one changes nothing', () => {
    const complaint = open();
    const replied = take(reach('awaiting-customer', complaint), 'customer-reply', validInput['customer-reply'], customer);
    expect(only(replied, 'complaint.customer-replied').actor).toEqual(customer);
    const before = JSON.stringify(complaint.state);
    refused(attempt(complaint, 'close'));
    expect(JSON.stringify(complaint.state)).toBe(before);
  });
});

describe('intake', () => {
  it('C2, C3: account security is P1 and owes a first response within 60 minutes', () => {
    const { priority, reason } = classifyComplaintPriority('account-security');
    const opened = open({ category: 'account-security', priority, priorityReason: reason });
    expect(typesOf(opened)).toEqual(['complaint.received', 'sla.started', 'sla.started', 'sla.started']);
    expect(opened.events.slice(1).map((entry) => entry.data.clock)).toEqual(['firstResponse', 'preliminary', 'result']);
    expect(only(opened, 'complaint.received')).toMatchObject({
      actor: agent,
      occurredAt: iso(tuesday10),
      data: { category: 'account-security', priority: 'P1', priorityReason: reason, major: false, policyVersion: defaultComplaintSlaPolicy.version, provisionalDeadlines: [] },
    });
    expect(opened.events[1]!.data).toMatchObject({ clock: 'firstResponse', startedAt: iso(tuesday10), dueAt: iso(tuesday10 + minutes(60)), warnAt: iso(tuesday10 + minutes(48)) });
    expect(opened.state).toMatchObject({ status: 'received', priority: 'P1', workflowId });
    expect(opened.lastStep).toBe(4);
  });

  it('C4: any other complaint owes a first response within 24 hours', () => {
    const opened = open();
    expect(clock(opened, 'firstResponse').dueAtMs).toBe(tuesday10 + hours(24));
    expect(opened.events[1]!.data).toMatchObject({ clock: 'firstResponse', dueAt: iso(tuesday10 + hours(24)) });
  });

  it('C5: a major issue also starts a 48-hour full-response clock', () => {
    const opened = open({ major: true });
    expect(opened.events.filter((entry) => entry.type === 'sla.started').map((entry) => entry.data.clock)).toEqual(['firstResponse', 'fullResponse', 'preliminary', 'result']);
    expect(opened.events[2]!.data).toMatchObject({ clock: 'fullResponse', dueAt: iso(tuesday10 + hours(48)) });
    expect(open().state.clocks.fullResponse).toBeUndefined();
  });

  it('C6, C7: the preliminary report is due after 3 working days and the result after 5, at local midnight', () => {
    const opened = open();
    // Tue 17 Nov: Wed 18, Thu 19, Fri 20 → Sat 21 00:00; then Mon 23, Tue 24 → Wed 25 00:00.
    expect(opened.events.find((entry) => entry.type === 'sla.started' && entry.data.clock === 'preliminary')!.data).toMatchObject({
      dueAt: iso(shanghai('2026-11-21T00:00')),
      calendarVersion: 'chinese-days (test)',
      provisional: false,
    });
    expect(clock(opened, 'result').dueAtMs).toBe(shanghai('2026-11-25T00:00'));
  });

  it('C1: the clocks run from when the user complained, not from intake', () => {
    const complainedAt = tuesday10 - hours(3);
    const opened = openCase(complaintCase, complaintInput(caseId, tuesday10, { receivedAt: iso(complainedAt) }), tuesday10);
    expect(clock(opened, 'firstResponse').dueAtMs).toBe(complainedAt + hours(24));
    expect(viewOf(complaintCase, opened).openedAt).toBe(iso(complainedAt));
    expect(only(opened, 'complaint.received').occurredAt).toBe(iso(tuesday10));
  });

  it('C1: the user is told at once that the complaint was received, with its case number', () => {
    expect(only(open(), 'complaint.received').notifications).toEqual([
      { idempotencyKey: `${workflowId}:received`, customerId: 'cust-1', caseId, templateId: 'complaint.received', params: { caseId, summary: 'Charged twice for November' } },
    ]);
  });
});

describe('waiting on the user', () => {
  it('C3, C4: asking the user is a first response; every other running clock pauses', () => {
    const asked = take(open({ major: true }), 'request-info', validInput['request-info'], agent, tuesday10 + minutes(30));
    expect(typesOf(asked)).toEqual(['complaint.info-requested', 'sla.met', 'sla.paused']);
    expect(only(asked, 'sla.met').data).toMatchObject({ clock: 'firstResponse', late: false });
    expect(only(asked, 'sla.paused').data).toEqual({ reason: 'waiting for information from the user', since: iso(tuesday10 + minutes(30)), clocks: ['fullResponse', 'preliminary', 'result'] });
    expect(Object.values(asked.state.clocks).map((entry) => [entry.name, entry.state])).toEqual([
      ['firstResponse', 'met'],
      ['fullResponse', 'paused'],
      ['preliminary', 'paused'],
      ['result', 'paused'],
    ]);
    expect(viewOf(complaintCase, asked).details.pausedFor).toEqual({ reason: 'waiting for information from the user', since: iso(tuesday10 + minutes(30)) });
  });

  it('C5–C7: the reply resumes every paused clock with its due and warning times moved by exactly the pause', () => {
    const acknowledged = take(open({ major: true }), 'acknowledge');
    const askedAt = tuesday10 + hours(2);
    const asked = take(acknowledged, 'request-info', validInput['request-info'], agent, askedAt);
    const pauseMs = days(2) + hours(3) + minutes(17) + 4_321;
    // Far past every original deadline: paused clocks neither warn nor breach.
    const waited = advance(complaintCase, asked, askedAt + pauseMs);
    expect(waited.events).toEqual([]);
    const replied = take(waited, 'customer-reply', validInput['customer-reply'], customer, askedAt + pauseMs);
    expect(replied.state.status).toBe('acknowledged');
    expect(typesOf(replied)).toEqual(['complaint.customer-replied', 'sla.resumed']);
    expect(only(replied, 'sla.resumed').data).toMatchObject({ reason: 'waiting for information from the user', pausedMs: pauseMs, pausedMinutes: Math.round(pauseMs / 60_000) });
    for (const name of ['fullResponse', 'preliminary', 'result']) {
      const before = clock(acknowledged, name);
      const after = clock(replied, name);
      expect(after.state, name).toBe('running');
      expect(after.dueAtMs - before.dueAtMs, name).toBe(pauseMs);
      expect(after.warnAtMs - before.warnAtMs, name).toBe(pauseMs);
      expect(after.pausedTotalMs, name).toBe(pauseMs);
    }
    expect(only(replied, 'sla.resumed').data.clocks).toEqual(['fullResponse', 'preliminary', 'result'].map((name) => ({ clock: name, dueAt: iso(clock(replied, name).dueAtMs) })));
    expect(clock(replied, 'firstResponse')).toEqual(clock(acknowledged, 'firstResponse'));
    expect(replied.state.pause).toBeNull();
  });

  it('the reply returns the complaint to the status it was asked from', () => {
    for (const status of ['received', 'acknowledged', 'preliminary-reported'] as const) {
      const asked = take(reach(status), 'request-info');
      expect(asked.state.status).toBe('awaiting-customer');
      expect(take(asked, 'customer-reply', validInput['customer-reply'], customer).state.status).toBe(status);
    }
  });

  it('withdrawing while paused cancels the paused clocks and closes the case', () => {
    const withdrawn = take(take(open(), 'request-info'), 'withdraw', { reason: 'Sorted' }, customer);
    expect(typesOf(withdrawn)).toEqual(['complaint.withdrawn', 'sla.cancelled']);
    expect(only(withdrawn, 'sla.cancelled').data).toEqual({ clocks: ['preliminary', 'result'], outcome: 'withdrawn' });
    expect(complaintOutcome(withdrawn.state)).toMatchObject({ status: 'closed', outcome: 'withdrawn' });
    expect(complaintCase.isClosed(withdrawn.state)).toBe(true);
  });
});

describe('the result', () => {
  it('C5–C7: resolving meets every clock still open, on time', () => {
    const resolvedAt = tuesday10 + hours(5);
    const resolved = take(open({ major: true }), 'resolve', validInput.resolve, agent, resolvedAt);
    expect(typesOf(resolved)).toEqual(['complaint.resolved', 'sla.met', 'sla.met', 'sla.met', 'sla.met']);
    expect(resolved.events.slice(1).map((entry) => entry.data)).toEqual(
      ['firstResponse', 'fullResponse', 'preliminary', 'result'].map((name) => ({ clock: name, dueAt: iso(clock(resolved, name).dueAtMs), late: false })),
    );
    expect(Object.values(resolved.state.clocks).every((entry) => entry.state === 'met' && entry.metAtMs === resolvedAt)).toBe(true);
    expect(resolved.state.resolution).toEqual({ text: validInput.resolve!.resolution, atMs: resolvedAt });
  });

  it('C6, C7: clocks met before are not met again; a breached one is met late', () => {
    const p1 = open({ category: 'account-security', priority: 'P1' });
    const breached = advance(complaintCase, p1, tuesday10 + hours(2));
    const reported = take(breached, 'report-preliminary');
    expect(reported.events.filter((entry) => entry.type === 'sla.met').map((entry) => entry.data)).toEqual([
      { clock: 'firstResponse', dueAt: iso(tuesday10 + minutes(60)), late: true },
      { clock: 'preliminary', dueAt: iso(clock(p1, 'preliminary').dueAtMs), late: false },
    ]);
    const resolved = take(reported, 'resolve');
    expect(resolved.events.filter((entry) => entry.type === 'sla.met').map((entry) => entry.data.clock)).toEqual(['result']);
  });

  it('C10: a rating is recorded without changing the status; it must be 1–5', () => {
    const resolved = take(open(), 'resolve');
    const rated = take(resolved, 'rate', { rating: 5, comment: 'Thanks' }, customer);
    expect(rated.state.status).toBe('resolved');
    expect(only(rated, 'complaint.rated').data).toEqual({ rating: 5, comment: 'Thanks' });
    expect(complaintOutcome(rated.state).rating).toBe(5);
    expect(refused(attempt(resolved, 'rate', customer, resolved.nowMs + 1, { rating: 6 }))).toMatchObject({ kind: 'invalid-input', fields: [{ field: 'input.rating' }] });
  });
});

describe('dispute, arbitration, referral and reopening', () => {
  const resolvedAt = tuesday10 + hours(6);
  const resolved = (overrides: Partial<ComplaintInput> = {}) => take(open(overrides), 'resolve', validInput.resolve, agent, resolvedAt);
  const windowEnd = resolvedAt + days(7);

  it('C11: a dispute is accepted up to the end of the 7-day window and refused after it', () => {
    expect(attempt(resolved(), 'dispute', customer, windowEnd)).toMatchObject({ ok: true, state: { status: 'disputed' } });
    expect(refused(attempt(resolved(), 'dispute', customer, windowEnd + 1))).toEqual({
      ok: false,
      kind: 'refused',
      message: `cannot dispute: the 7-day dispute window ended at ${iso(windowEnd)}`,
    });
  });

  it('C12: reopening is accepted up to the end of the 7-day window and refused after it', () => {
    expect(attempt(resolved(), 'reopen', customer, windowEnd)).toMatchObject({ ok: true, state: { status: 'acknowledged' } });
    expect(refused(attempt(resolved(), 'reopen', customer, windowEnd + 1))).toEqual({
      ok: false,
      kind: 'refused',
      message: `cannot reopen: the 7-day reopen window ended at ${iso(windowEnd)}`,
    });
  });

  it('C11, C12: the two windows are separate; the allowed actions follow them', () => {
    const shortDispute = resolved({ policy: { ...defaultComplaintSlaPolicy, disputeWindowDays: 3 } });
    const later = resolvedAt + days(3) + 1;
    expect(refused(attempt(shortDispute, 'dispute', customer, later)).message).toBe(`cannot dispute: the 3-day dispute window ended at ${iso(resolvedAt + days(3))}`);
    expect(attempt(shortDispute, 'reopen', customer, later)).toMatchObject({ ok: true });
    expect(viewOf(complaintCase, { ...shortDispute, nowMs: later }).allowedActions).not.toContain('dispute');
    expect(viewOf(complaintCase, { ...shortDispute, nowMs: later }).allowedActions).toContain('reopen');
    expect(viewOf(complaintCase, shortDispute).details.disputeAndReopenUntil).toBe(iso(windowEnd));
  });

  it('C11: a referral to a third party needs an arbitration that upheld the result', () => {
    const message = 'cannot refer-third-party: a referral to a third party follows platform arbitration that upheld the result; dispute first';
    expect(refused(attempt(resolved(), 'refer-third-party'))).toEqual({ ok: false, kind: 'refused', message });
    const overturnedThenResolved = take(take(take(resolved(), 'dispute', validInput.dispute, customer), 'arbitrate', overturned, supervisor), 'resolve');
    expect(overturnedThenResolved.state.arbitration?.decision).toBe('overturn');
    expect(refused(attempt(overturnedThenResolved, 'refer-third-party'))).toEqual({ ok: false, kind: 'refused', message });
    const upheldCase = take(take(resolved(), 'dispute', validInput.dispute, customer), 'arbitrate', upheld, supervisor);
    const referred = take(upheldCase, 'refer-third-party');
    expect(referred.state).toMatchObject({ status: 'referred', outcome: 'referred', referral: { body: 'Internet Society of China', reference: 'ISC-2026-0099' } });
  });

  it('C11: an arbitration that overturns the result reopens the investigation under a new result clock', () => {
    const disputed = take(resolved(), 'dispute', validInput.dispute, customer);
    const arbitratedAt = disputed.nowMs + hours(1);
    const result = take(disputed, 'arbitrate', overturned, supervisor, arbitratedAt);
    expect(typesOf(result)).toEqual(['complaint.arbitrated', 'sla.started']);
    expect(only(result, 'complaint.arbitrated')).toMatchObject({ actor: supervisor, data: overturned });
    expect(result.state).toMatchObject({ status: 'acknowledged', resolution: null, resultClock: 'result-1', reopenCount: 1 });
    const clockOne = clock(result, 'result-1');
    // Tue 17 Nov at 17:00 + 5 working days → Wed 25 Nov 00:00.
    expect(clockOne).toMatchObject({ state: 'running', startedAtMs: arbitratedAt, dueAtMs: shanghai('2026-11-25T00:00'), workingDays: 5 });
    expect(only(result, 'sla.started').data).toMatchObject({ clock: 'result-1', startedAt: iso(arbitratedAt), dueAt: iso(clockOne.dueAtMs) });
    expect(clock(result, 'result').state).toBe('met');
    const resolvedAgain = take(result, 'resolve');
    expect(only(resolvedAgain, 'sla.met').data).toMatchObject({ clock: 'result-1', late: false });
  });

  it('C11: an upheld arbitration returns the complaint to resolved', () => {
    const result = take(take(resolved(), 'dispute', validInput.dispute, customer), 'arbitrate', upheld, supervisor);
    expect(result.state).toMatchObject({ status: 'resolved', arbitration: upheld, reopenCount: 0 });
    expect(typesOf(result)).toEqual(['complaint.arbitrated']);
  });

  it('C12: reopening starts the next result clock and says when the result is due', () => {
    const reopenedAt = resolvedAt + days(2);
    const reopened = take(resolved(), 'reopen', validInput.reopen, customer, reopenedAt);
    expect(typesOf(reopened)).toEqual(['complaint.reopened', 'sla.started']);
    expect(only(reopened, 'complaint.reopened').data).toEqual({ reason: validInput.reopen!.reason, resultDueAt: iso(clock(reopened, 'result-1').dueAtMs) });
    expect(reopened.state).toMatchObject({ status: 'acknowledged', resultClock: 'result-1', reopenCount: 1, resolution: null });
  });

  it('C12: at the end of the windows a resolved complaint closes by itself, its clocks all met', () => {
    const complaint = resolved();
    expect(complaintCase.nextWakeAtMs!(complaint.state)).toBe(windowEnd);
    const justBefore = advance(complaintCase, complaint, windowEnd - 1);
    expect(justBefore.events).toEqual([]);
    expect(justBefore.state.status).toBe('resolved');
    const closed = advance(complaintCase, justBefore, windowEnd + days(30));
    expect(typesOf(closed)).toEqual(['complaint.closed']);
    expect(only(closed, 'complaint.closed')).toMatchObject({
      actor: { id: 'pledge', role: 'system' },
      occurredAt: iso(windowEnd),
      data: { reason: 'dispute and reopen windows ended' },
      notifications: [{ idempotencyKey: `${workflowId}:auto-closed`, templateId: 'complaint.closed' }],
    });
    // Every clock was met by the result, so none is left to cancel (an `sla.cancelled` would list none).
    expect(Object.values(closed.state.clocks).map((entry) => entry.state)).toEqual(['met', 'met', 'met']);
    expect(complaintOutcome(closed.state)).toEqual({ caseId, status: 'closed', outcome: 'resolved', slaBreached: false, rating: null });
  });
});

describe('escalation', () => {
  it('C9: a breach raises the priority one step, flags the case and tells a supervisor at once', () => {
    const breachAt = tuesday10 + hours(24);
    const result = advance(complaintCase, open(), breachAt);
    expect(typesOf(result)).toEqual(['sla.warned', 'sla.breached']);
    const breached = only(result, 'sla.breached');
    expect(breached).toMatchObject({ occurredAt: iso(breachAt), data: { clock: 'firstResponse', dueAt: iso(breachAt), priorityRaisedFrom: 'P3' } });
    expect(breached.staffNotifications).toEqual([
      {
        idempotencyKey: `${workflowId}:sla.breached:firstResponse:${breachAt}`,
        role: 'supervisor',
        kind: 'sla.breached',
        subject: `SLA breached: ${caseId} firstResponse was due ${iso(breachAt)}; priority now P2`,
        body: `SLA breached: ${caseId} firstResponse was due ${iso(breachAt)}; priority now P2. Case: Charged twice for November. Status: received. Assignee: none.`,
        occurredAt: iso(breachAt),
        deliverAfter: iso(breachAt),
      },
    ]);
    expect(result.state).toMatchObject({ priority: 'P2', slaBreached: true });
    expect(viewOf(complaintCase, result)).toMatchObject({ priority: 'P2', slaBreached: true });
    expect(clock(result, 'firstResponse')).toMatchObject({ state: 'breached', breachedAtMs: breachAt });
  });

  it('C9: a P1 stays P1 when it breaches', () => {
    const result = advance(complaintCase, open({ category: 'account-security', priority: 'P1' }), tuesday10 + hours(1));
    expect(only(result, 'sla.breached').data.priorityRaisedFrom).toBeNull();
    expect(result.state.priority).toBe('P1');
  });

  it('C9: each further breach raises the priority again', () => {
    const result = advance(complaintCase, open({ priority: 'P4' }), shanghai('2026-11-25T00:00'));
    expect(result.events.filter((entry) => entry.type === 'sla.breached').map((entry) => [entry.data.clock, entry.data.priorityRaisedFrom])).toEqual([
      ['firstResponse', 'P4'],
      ['preliminary', 'P3'],
      ['result', 'P2'],
    ]);
    expect(result.state.priority).toBe('P1');
  });

  it('C9: a warning at 80 % in working hours goes to the agents at once', () => {
    const warnAt = tuesday10 + minutes(48);
    const result = advance(complaintCase, open({ category: 'account-security', priority: 'P1' }), warnAt);
    const warned = only(result, 'sla.warned');
    expect(warned).toMatchObject({ occurredAt: iso(warnAt), data: { clock: 'firstResponse', at: iso(warnAt), staffNotifiedAt: iso(warnAt) } });
    expect(warned.staffNotifications).toMatchObject([
      { role: 'agent', kind: 'sla.warned', occurredAt: iso(warnAt), deliverAfter: iso(warnAt), idempotencyKey: `${workflowId}:sla.warned:firstResponse:${warnAt}` },
    ]);
    expect(result.state.slaBreached).toBe(false);
  });

  it.each([
    ['on a weeknight, at 08:00 the next morning', '2026-11-17T21:30', '2026-11-17T22:18', '2026-11-18T08:00'],
    ['on a Friday night, at 08:00 on Monday', '2026-11-20T21:30', '2026-11-20T22:18', '2026-11-23T08:00'],
    ['after midnight, at 08:00 the same day', '2026-11-18T01:00', '2026-11-18T01:48', '2026-11-18T08:00'],
  ])('C9: a warning inside quiet hours %s, the event keeping its exact time', (_, openedAt, warnedAt, deliveredAt) => {
    const result = advance(complaintCase, open({ category: 'account-security', priority: 'P1' }, shanghai(openedAt)), shanghai(warnedAt));
    const warned = only(result, 'sla.warned');
    expect(warned.occurredAt).toBe(iso(shanghai(warnedAt)));
    expect(warned.data).toMatchObject({ at: iso(shanghai(warnedAt)), staffNotifiedAt: iso(shanghai(deliveredAt)) });
    expect(warned.staffNotifications).toMatchObject([{ occurredAt: iso(shanghai(warnedAt)), deliverAfter: iso(shanghai(deliveredAt)) }]);
  });
});

describe('messages to the user', () => {
  /** A whole life, with the step each action was decided at. */
  function life() {
    const steps: Array<{ action: string; step: number; result: Result }> = [];
    let complaint: Complaint = open({ major: true });
    const run = (action: string, actor: Actor = agent, input = validInput[action]!) => {
      const step = complaint.lastStep + 1;
      const result = take(complaint, action, input, actor);
      steps.push({ action, step, result });
      complaint = result;
    };
    run('acknowledge');
    run('request-info');
    run('customer-reply', customer);
    complaint = advance(complaintCase, complaint, complaint.nowMs + hours(40)); // the fullResponse warning is recorded meanwhile
    run('report-preliminary');
    run('resolve');
    run('dispute', customer);
    run('arbitrate', supervisor, overturned);
    run('resolve');
    run('reopen', customer);
    run('withdraw', customer);
    return steps;
  }

  it('C3–C12: each message to the user is keyed `<workflowId>:<action>-<step>`, the step its transition starts at', () => {
    const steps = life();
    expect(steps.slice(0, 2).map(({ result }) => result.events[0]!.notifications![0]!.idempotencyKey)).toEqual([`${workflowId}:acknowledge-6`, `${workflowId}:request-info-8`]); // intake: 5 events (major)
    for (const { action, step, result } of steps) {
      const keys = result.events.flatMap((entry) => entry.notifications ?? []).map((notification) => notification.idempotencyKey);
      if (action === 'customer-reply' || action === 'dispute') expect(keys, action).toEqual([]);
      else expect(keys, action).toEqual([`${workflowId}:${action}-${step}`]);
    }
    const allKeys = steps.flatMap(({ result }) => result.events.flatMap((entry) => entry.notifications ?? []).map((notification) => notification.idempotencyKey));
    expect(new Set(allKeys).size).toBe(allKeys.length);
  });

  it('C3–C12: the same action decided again on the same case asks for the very same message', () => {
    const asked = take(open(), 'acknowledge');
    const again = take(open(), 'acknowledge');
    expect(again.events).toEqual(asked.events);
    expect(asked.events[0]!.notifications).toEqual([
      {
        idempotencyKey: `${workflowId}:acknowledge-5`,
        customerId: 'cust-1',
        caseId,
        templateId: 'complaint.acknowledged',
        params: {
          caseId,
          summary: 'Charged twice for November',
          message: validInput.acknowledge!.message,
          problem: response.problem,
          steps: response.steps,
          expectedCompletion: '2026-11-20 10:00 (Asia/Shanghai)',
        },
      },
    ]);
  });

  it('C9: clock events recorded in between move the step of the next message', () => {
    const complaint = advance(complaintCase, open(), tuesday10 + hours(20)); // the firstResponse warning: one event
    expect(complaint.lastStep).toBe(5);
    expect(take(complaint, 'acknowledge').events[0]!.notifications![0]!.idempotencyKey).toBe(`${workflowId}:acknowledge-6`);
  });
});

// Keep the harness honest: its fixture statuses are the statuses of the table.
it('every status of the table is reachable by the fixture paths', () => {
  expect(Object.keys(pathTo).sort()).toEqual([...complaintStatuses].sort());
  for (const status of complaintStatuses) expect(reach(status).state.status).toBe(status);
});

describe('promise fidelity (later rules: cases opened from 0.3 on)', () => {
  const withRules = (overrides: Partial<ComplaintInput> = {}, atMs = tuesday10) => openCase(complaintCase, complaintInput(caseId, atMs, overrides), atMs, { rules: allRules(complaintCase) });

  it('C12: staff cannot close a resolved complaint while the user may still dispute or reopen it; the user can confirm early', () => {
    const resolved = take(take(withRules(), 'acknowledge'), 'resolve');
    const refusal = refused(attempt(resolved, 'close', supervisor, resolved.nowMs + days(1)));
    expect(refusal).toMatchObject({ kind: 'refused' });
    expect(refusal.message).toContain('closes by itself then, or earlier when the user confirms');
    expect(viewOf(complaintCase, resolved).allowedActions).not.toContain('close');
    expect(viewOf(complaintCase, resolved).allowedActions).toContain('confirm');
    const confirmed = take(resolved, 'confirm', { comment: 'All good' }, agent);
    expect(typesOf(confirmed)).toEqual(['complaint.confirmed', 'complaint.closed']);
    expect(confirmed.events[0]!.actor).toEqual({ id: 'cust-1', role: 'customer' });
    expect(confirmed.events[0]!.data).toMatchObject({ recordedBy: agent.id });
    expect(confirmed.state.status).toBe('closed');
  });

  it('C12: a complaint opened before the rule keeps the close it opened with', () => {
    const resolved = take(take(open(), 'acknowledge'), 'resolve');
    expect(typesOf(take(resolved, 'close'))).toContain('complaint.closed');
  });

  it('C2: reclassifying to account security makes it P1 and lays the first-response clock on 60 minutes', () => {
    const opened = withRules({ category: 'billing', priority: 'P3' });
    const reclassified = take(opened, 'reclassify', { category: 'account-security', reason: 'The caller reports a stolen password' }, agent, opened.nowMs + minutes(10));
    expect(reclassified.state).toMatchObject({ category: 'account-security', priority: 'P1' });
    expect(typesOf(reclassified)).toEqual(['complaint.reclassified', 'sla.rescheduled']);
    expect(clock(reclassified, 'firstResponse').dueAtMs).toBe(tuesday10 + minutes(60));
  });

  it('C2: an account-security complaint cannot be lowered below P1; major adds the full-response clock', () => {
    const opened = withRules({ category: 'account-security', priority: 'P1' });
    const lowered = refused(attempt(opened, 'reclassify', agent, opened.nowMs + minutes(5), { priority: 'P3', reason: 'no' }));
    expect(lowered).toMatchObject({ kind: 'invalid-input', fields: [{ field: 'input.priority', message: 'an account-security complaint is always P1 (C2)' }] });
    const major = take(opened, 'reclassify', { major: true, reason: 'Several accounts affected' });
    expect(typesOf(major)).toEqual(['complaint.reclassified', 'sla.started']);
    expect(clock(major, 'fullResponse').dueAtMs).toBe(tuesday10 + hours(48));
  });

  it('C6, C7: a pause from Friday 17:00 to Monday 10:00 keeps the working time left, laid on the calendar again', () => {
    const thursday = shanghai('2026-11-19T09:00');
    const opened = withRules({}, thursday);
    // Preliminary: 3 working days (Fri 20, Mon 23, Tue 24) → due at the end of Tue 24 Nov.
    expect(clock(opened, 'preliminary').dueAtMs).toBe(shanghai('2026-11-25T00:00'));
    const paused = take(opened, 'request-info', validInput['request-info'], agent, shanghai('2026-11-20T17:00'));
    const resumed = take(paused, 'customer-reply', validInput['customer-reply'], customer, shanghai('2026-11-23T10:00'));
    // 55 h of working time were left (Fri 17–24, Mon, Tue); from Mon 10:00: Mon 14 h, Tue 24 h, then 17 h of Wed.
    expect(clock(resumed, 'preliminary').dueAtMs).toBe(shanghai('2026-11-25T17:00'));
    // Hour clocks keep elapsed time: C4's 24 h first response was met by the request for information.
    expect(clock(resumed, 'firstResponse').state).toBe('met');
  });

  it('C6, C7: without the rule (cases opened before it) a pause moves the due time by the calendar time paused', () => {
    const thursday = shanghai('2026-11-19T09:00');
    const paused = take(open({}, thursday), 'request-info', validInput['request-info'], agent, shanghai('2026-11-20T17:00'));
    const resumed = take(paused, 'customer-reply', validInput['customer-reply'], customer, shanghai('2026-11-23T10:00'));
    expect(clock(resumed, 'preliminary').dueAtMs).toBe(shanghai('2026-11-27T17:00'));
  });

  it('C9: a P1 warning is never held for quiet hours', () => {
    const opened = withRules({ priority: 'P1' }, shanghai('2026-11-17T22:12'));
    const warned = advance(complaintCase, opened, shanghai('2026-11-17T23:01'));
    const warning = only(warned, 'sla.warned');
    expect(warning.data).toMatchObject({ at: iso(shanghai('2026-11-17T23:00')), staffNotifiedAt: iso(shanghai('2026-11-17T23:00')) });
  });

  it('C9: a warning that quiet hours would hold past its breach is delivered at once', () => {
    // P2: 24 h first response, warned at 80 % (19 h 12 min), i.e. 23:12 for a complaint received at 04:00; due 04:00 next day, before 08:00.
    const opened = withRules({ priority: 'P2' }, shanghai('2026-11-17T04:00'));
    const warned = advance(complaintCase, opened, shanghai('2026-11-17T23:13'));
    expect(only(warned, 'sla.warned').data).toMatchObject({ staffNotifiedAt: iso(shanghai('2026-11-17T23:12')) });
  });

  it('C13: a response must say the problem as understood, the steps and the expected completion; the user reads them', () => {
    const opened = withRules();
    const missing = refused(attempt(opened, 'acknowledge', agent, opened.nowMs + minutes(5), { message: 'We are on it' }));
    expect(missing.fields?.map((field) => field.field).sort()).toEqual(['input.expectedCompletionAt', 'input.problem', 'input.steps']);
    const acknowledged = take(opened, 'acknowledge');
    const message = only(acknowledged, 'complaint.acknowledged').notifications![0]!;
    expect(message.params).toMatchObject({ problem: response.problem, steps: response.steps, expectedCompletion: '2026-11-20 10:00 (Asia/Shanghai)' });
  });

  it('C14: a user asked for information is reminded after 3 days; the case closes with a notice after 14', () => {
    const asked = take(withRules(), 'request-info');
    const askedAt = asked.nowMs;
    expect(complaintCase.nextWakeAtMs!(asked.state)).toBe(askedAt + days(3));
    const reminded = advance(complaintCase, asked, askedAt + days(3));
    expect(typesOf(reminded)).toEqual(['complaint.info-reminder']);
    expect(only(reminded, 'complaint.info-reminder').notifications![0]!.templateId).toBe('complaint.info-reminder');
    const closed = advance(complaintCase, reminded, askedAt + days(14));
    expect(typesOf(closed)).toEqual(['complaint.closed', 'sla.cancelled']);
    expect(closed.state).toMatchObject({ status: 'closed', outcome: 'unanswered' });
    expect(only(closed, 'complaint.closed').notifications![0]!.templateId).toBe('complaint.closed-unanswered');
  });

  it('C14: a dispute is arbitrated within 5 working days on its own clock; a referral reminds staff every 7 days', () => {
    const disputed = take(take(take(withRules(), 'acknowledge'), 'resolve'), 'dispute', validInput.dispute, customer);
    expect(typesOf(disputed)).toEqual(['complaint.disputed', 'sla.started']);
    expect(clock(disputed, 'arbitration').workingDays).toBe(5);
    const upheldCase = take(disputed, 'arbitrate', upheld, supervisor);
    expect(clock(upheldCase, 'arbitration').state).toBe('met');
    const referred = take(upheldCase, 'refer-third-party');
    const reminded = advance(complaintCase, referred, referred.nowMs + days(7));
    expect(typesOf(reminded)).toEqual(['complaint.referral-reminder']);
    expect(only(reminded, 'complaint.referral-reminder').staffNotifications![0]).toMatchObject({ role: 'agent', kind: 'complaint.referral-reminder' });
  });
});
