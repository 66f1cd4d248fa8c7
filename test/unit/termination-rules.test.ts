import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { loadPolicies, parseApiKeys, readEnv } from '../../config';
import { renderNotification } from '../../domain/notification-templates';
import { checkEffectiveAt, contactLine, defaultTerminationPolicy, earliestProviderEffectiveAtMs, reminderSchedule } from '../../domain/termination';
import { terminationCase, type TerminationEffect, type TerminationInput, type TerminationState } from '../../domain/termination-case';
import { accepted, act, actorOf, advance, days, effectDone, hours, iso, minutes, only, openCase, refused, shanghai, typesOf, viewOf, type CaseAt } from '../support/case-rules';

// The termination rules (T1–T7), pure: the runtime's steps without Temporal (test/support/case-rules.ts).
const noticeAt = shanghai('2026-11-02T10:00');
const policy = defaultTerminationPolicy;

function input(overrides: Partial<TerminationInput> = {}): TerminationInput {
  return {
    caseId: 'TRM-2026-000001',
    customerId: 'cust-trm',
    initiatedBy: 'provider',
    reason: 'The copper network in your building is retired',
    effectiveAt: iso(noticeAt + days(30)),
    contacts: { phone: '10000', email: 'care@isp.example' },
    openedBy: actorOf('agent'),
    policy,
    timeZone: 'Asia/Shanghai',
    ...overrides,
  };
}

const ok = (result: TerminationEffect): { ok: true; result: unknown } => ({
  ok: true,
  result:
    result.kind === 'export'
      ? { n: result.n, path: `exports/${result.caseId}-${result.n}.json`, sha256: 'ab'.repeat(32), sizeBytes: 1234, createdAt: result.at }
      : result.kind === 'deactivate'
        ? { terminatedAt: result.at, releasedServices: ['broadband', 'iptv'] }
        : result.kind === 'delete-personal-data'
          ? { deleted: true, deletedAt: result.at, fields: ['name', 'email'] }
          : result.kind === 'provision'
            ? { outcome: 'skipped', detail: 'not configured' }
            : { hold: result.hold },
});

/** Runs each effect as the activity would answer, the way the runtime feeds results back, until none is left. */
function settle(at: CaseAt<TerminationState>, effects: TerminationEffect[], nowMs: number) {
  let current = at;
  const events: string[] = [];
  const queue = [...effects];
  while (queue.length > 0) {
    const effect = queue.shift()!;
    const done = effectDone(terminationCase, current, effect, ok(effect), nowMs);
    events.push(...typesOf(done));
    queue.push(...done.effects);
    current = done;
  }
  return { at: current, events };
}

describe('T1, T5: when a termination may take effect', () => {
  it('T1: provider-initiated: refused at 29 days 23 hours after the notice, naming the earliest instant; accepted at 30 days', () => {
    const early = checkEffectiveAt({ initiatedBy: 'provider', effectiveAt: iso(noticeAt + days(29) + hours(23)) }, noticeAt, policy);
    expect(early).toEqual({ ok: false, earliestAtMs: noticeAt + days(30), message: expect.stringContaining(`the earliest allowed is ${iso(noticeAt + days(30))}`) });
    expect(checkEffectiveAt({ initiatedBy: 'provider', effectiveAt: iso(noticeAt + days(30)) }, noticeAt, policy)).toEqual({ ok: true, effectiveAtMs: noticeAt + days(30) });
    expect(checkEffectiveAt({ initiatedBy: 'provider' }, noticeAt, policy).ok).toBe(false);
    expect(earliestProviderEffectiveAtMs(noticeAt + 1_500, policy)).toBe(noticeAt + days(30) + minutes(1));
  });

  it('T5: the user ends their own service at any date they choose, or now; never in the past', () => {
    expect(checkEffectiveAt({ initiatedBy: 'customer' }, noticeAt, policy)).toEqual({ ok: true, effectiveAtMs: noticeAt });
    expect(checkEffectiveAt({ initiatedBy: 'customer', effectiveAt: iso(noticeAt + hours(3)) }, noticeAt, policy)).toEqual({ ok: true, effectiveAtMs: noticeAt + hours(3) });
    expect(checkEffectiveAt({ initiatedBy: 'customer', effectiveAt: iso(noticeAt - hours(1)) }, noticeAt, policy).ok).toBe(false);
    expect(checkEffectiveAt({ initiatedBy: 'customer', effectiveAt: iso(noticeAt + days(500)) }, noticeAt, policy).ok).toBe(false);
  });

  it('T1: POST /v1/terminations answers 422 on effectiveAt for 29 days 23 hours, naming the earliest instant; 30 days passes the rule', async () => {
    const env = readEnv({ PLEDGE_API_KEYS: 'agent:agent-key-123' });
    // No Temporal and an empty database: a request that passes the date rule stops at the customer lookup.
    const sql = (() => Promise.resolve([])) as never;
    const app = createApp({ temporal: {} as never, sql, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue: 'unit' });
    const post = (effectiveAtMs: number) =>
      app.request('/v1/terminations', {
        method: 'POST',
        headers: { authorization: 'Bearer agent-key-123', 'content-type': 'application/json' },
        body: JSON.stringify({ customerId: 'cust-trm', initiatedBy: 'provider', reason: 'Network retired', effectiveAt: iso(effectiveAtMs) }),
      });
    const early = await post(Date.now() + days(29) + hours(23));
    expect(early.status).toBe(422);
    const body = (await early.json()) as { error: { message: string; fields: { field: string; message: string }[] } };
    expect(body.error.fields).toEqual([{ field: 'effectiveAt', message: body.error.message }]);
    const earliest = /the earliest allowed is (\S+)$/.exec(body.error.message)![1]!;
    expect(Date.parse(earliest)).toBeGreaterThanOrEqual(Date.now() + days(30) - minutes(1));
    const onTime = await post(Date.now() + days(30));
    expect(onTime.status).toBe(422);
    expect(((await onTime.json()) as { error: { fields: { field: string }[] } }).error.fields).toEqual([
      { field: 'customerId', message: 'no customer cust-trm; create it with PUT /v1/customers/{id}' },
    ]);
  });
});

describe('T2: the notice', () => {
  it('T2: states the reason, the effective date, what to do (export, account security) and the contacts, in Chinese and English', () => {
    const opened = openCase(terminationCase, input(), noticeAt);
    expect(typesOf(opened)).toEqual(['termination.opened', 'termination.notice-sent']);
    const notice = only(opened, 'termination.notice-sent').notifications![0]!;
    expect(notice).toMatchObject({ templateId: 'termination.notice', customerId: 'cust-trm', caseId: 'TRM-2026-000001' });
    const zh = renderNotification(notice.templateId, 'zh-CN', notice.params);
    const en = renderNotification(notice.templateId, 'en', notice.params);
    for (const text of [zh.body, en.body]) {
      expect(text).toContain('The copper network in your building is retired');
      expect(text).toContain('2026-12-02 10:00 (Asia/Shanghai)');
      expect(text).toContain('10000 · care@isp.example');
      expect(text).toContain('/export');
    }
    expect(zh.body).toContain('导出或备份您的数据');
    expect(zh.body).toContain('账户安全');
    expect(en.body).toContain('Export or back up your data');
    expect(en.body).toContain('Keep your accounts secure');
    expect(contactLine({ url: 'https://isp.example/help' })).toBe('https://isp.example/help');
  });
});

describe('T3, T4, T6: the life of a termination', () => {
  it('T3: reminders 7 days and 1 day before the effective date, each recorded with its message', () => {
    const opened = openCase(terminationCase, input(), noticeAt);
    const effectiveAt = noticeAt + days(30);
    expect(advance(terminationCase, opened, effectiveAt - days(7) - 1).events).toEqual([]);
    const first = advance(terminationCase, opened, effectiveAt - days(7));
    expect(only(first, 'termination.reminder-sent')).toMatchObject({
      occurredAt: iso(effectiveAt - days(7)),
      data: { daysBefore: 7 },
      notifications: [{ templateId: 'termination.reminder', params: { daysLeft: '7' } }],
    });
    const second = advance(terminationCase, first, effectiveAt - days(1));
    expect(only(second, 'termination.reminder-sent')).toMatchObject({ occurredAt: iso(effectiveAt - days(1)), data: { daysBefore: 1 } });
    expect(reminderSchedule(noticeAt, noticeAt + days(2), policy)).toEqual([{ daysBefore: 1, dueAtMs: noticeAt + days(1) }]);
  });

  it('T4: at the effective date: final backup kept, account deactivated, services released, the user told; the provisioning system after', () => {
    const opened = openCase(terminationCase, input(), noticeAt);
    const effectiveAt = noticeAt + days(30);
    const before = advance(terminationCase, opened, effectiveAt - 1);
    expect(viewOf(terminationCase, before).status).toBe('scheduled');
    const reached = advance(terminationCase, before, effectiveAt);
    expect(typesOf(reached)).toEqual(['termination.effective-date-reached']);
    expect(reached.effects).toEqual([{ kind: 'export', caseId: 'TRM-2026-000001', customerId: 'cust-trm', n: 1, purpose: 'final', at: iso(effectiveAt), requestedBy: 'pledge' }]);
    const { at, events } = settle(reached, reached.effects, effectiveAt);
    expect(events).toEqual(['termination.final-backup-kept', 'termination.account-deactivated', 'termination.services-released', 'termination.effective', 'termination.provisioning-skipped']);
    const view = viewOf(terminationCase, at);
    expect(view.status).toBe('terminated');
    expect(view.details).toMatchObject({ deactivation: { deactivatedAt: iso(effectiveAt), releasedServices: ['broadband', 'iptv'], provisioning: 'skipped' } });
    expect(view.deadlines.map((deadline) => [deadline.name, deadline.state])).toEqual([
      ['effective', 'met'],
      ['deletion', 'pending'],
    ]);
  });

  it('T6: personal data deleted 30 days after the effective date; a legal hold makes it wait until release-hold', () => {
    const effectiveAt = noticeAt + days(30);
    const opened = openCase(terminationCase, input(), noticeAt);
    const hold = accepted(act(terminationCase, opened, 'legal-hold', { reason: 'Court order 2026-17' }, actorOf('supervisor'), noticeAt + days(3)));
    expect(refused(act(terminationCase, hold, 'legal-hold', { reason: 'again' }, actorOf('supervisor'), noticeAt + days(3))).kind).toBe('refused');
    const reached = advance(terminationCase, hold, effectiveAt);
    const terminated = settle(reached, reached.effects, effectiveAt).at;
    const due = advance(terminationCase, terminated, effectiveAt + days(30));
    expect(typesOf(due)).toEqual(['termination.deletion-held']);
    expect(due.effects).toEqual([]);
    expect(advance(terminationCase, due, effectiveAt + days(90)).events).toEqual([]);
    const released = accepted(act(terminationCase, due, 'release-hold', { reason: 'Order lifted' }, actorOf('supervisor'), effectiveAt + days(90)));
    const deleting = advance(terminationCase, released, effectiveAt + days(90));
    expect(deleting.effects).toEqual([{ kind: 'delete-personal-data', caseId: 'TRM-2026-000001', customerId: 'cust-trm', at: iso(effectiveAt + days(90)) }]);
    const closed = settle(deleting, deleting.effects, effectiveAt + days(90));
    expect(closed.events).toEqual(['termination.personal-data-deleted']);
    expect(terminationCase.isClosed(closed.at.state)).toBe(true);

    const unheld = settle(advance(terminationCase, opened, effectiveAt), advance(terminationCase, opened, effectiveAt).effects, effectiveAt).at;
    expect(advance(terminationCase, unheld, effectiveAt + days(30) - 1).effects).toEqual([]);
    expect(advance(terminationCase, unheld, effectiveAt + days(30)).effects).toEqual([
      { kind: 'delete-personal-data', caseId: 'TRM-2026-000001', customerId: 'cust-trm', at: iso(effectiveAt + days(30)) },
    ]);
  });

  it('T3: a withdrawal before the date tells the user and stops everything; after the date it is refused', () => {
    const opened = openCase(terminationCase, input(), noticeAt);
    const withdrawn = accepted(act(terminationCase, opened, 'withdraw', { reason: 'The network stays' }, actorOf('agent'), noticeAt + days(10)));
    expect(only(withdrawn, 'termination.withdrawn')).toMatchObject({ data: { remindersCancelled: [7, 1] }, notifications: [{ templateId: 'termination.withdrawn' }] });
    expect(terminationCase.isClosed(withdrawn.state)).toBe(true);
    expect(terminationCase.nextWakeAtMs!(withdrawn.state)).toBeUndefined();
    const late = advance(terminationCase, openCase(terminationCase, input({ initiatedBy: 'customer', effectiveAt: iso(noticeAt) }), noticeAt), noticeAt);
    expect(refused(act(terminationCase, late, 'withdraw', { reason: 'x' }, actorOf('supervisor'), noticeAt + 1)).message).toContain('has passed');
  });

  it('T3, D6: the user may request an export (tracking page) but not withdraw; legal holds are for supervisors', () => {
    const opened = openCase(terminationCase, input(), noticeAt);
    const requested = accepted(act(terminationCase, opened, 'request-export', {}, actorOf('customer'), noticeAt + days(1)));
    expect(requested.effects).toEqual([{ kind: 'export', caseId: 'TRM-2026-000001', customerId: 'cust-trm', n: 1, purpose: 'requested', at: iso(noticeAt + days(1)), requestedBy: 'customer/test' }]);
    const ready = settle(requested, requested.effects, noticeAt + days(1));
    expect(ready.events).toEqual(['termination.export-created']);
    expect(viewOf(terminationCase, ready.at).details).toMatchObject({ exports: [{ n: 1, purpose: 'requested', sha256: 'ab'.repeat(32), sizeBytes: 1234 }] });
    expect(refused(act(terminationCase, opened, 'withdraw', { reason: 'no' }, actorOf('customer'), noticeAt + days(1))).kind).toBe('forbidden');
    expect(refused(act(terminationCase, opened, 'legal-hold', { reason: 'x' }, actorOf('agent'), noticeAt + days(1))).kind).toBe('forbidden');
  });

  it('T4: a failed deactivation is recorded, shown as late and tried again later', () => {
    const effectiveAt = noticeAt + days(30);
    const reached = advance(terminationCase, openCase(terminationCase, input(), noticeAt), effectiveAt);
    const kept = effectDone(terminationCase, reached, reached.effects[0]!, ok(reached.effects[0]!), effectiveAt);
    const failed = effectDone(terminationCase, kept, kept.effects[0]!, { ok: false, message: 'connection refused', retryable: true, attempt: 1 }, effectiveAt);
    expect(only(failed, 'termination.step-failed')).toMatchObject({ data: { stage: 'deactivate', attempts: 1 }, staffNotifications: [{ role: 'supervisor' }] });
    expect(viewOf(terminationCase, failed).slaBreached).toBe(true);
    const again = advance(terminationCase, failed, effectiveAt + minutes(15));
    expect(typesOf(again)).toEqual(['termination.step-retried']);
    expect(again.effects).toEqual([{ kind: 'deactivate', caseId: 'TRM-2026-000001', customerId: 'cust-trm', at: iso(effectiveAt) }]);
  });
});
