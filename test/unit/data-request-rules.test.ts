import { describe, expect, it } from 'vitest';
import { deliveryPlan, type ChannelProfile } from '../../domain/channels';
import { changedAnswers, consentAnswers, consentChangeSchema, legallyRequiredNoticeLine } from '../../domain/consent';
import { dataRequestIntakeSchema, defaultDataRequestPolicy, deferDeletionUntilMs } from '../../domain/data-request';
import { dataRequestCase, type DataRequestEffect, type DataRequestInput, type DataRequestState, type ErasureResult } from '../../domain/data-request-case';
import { renderNotification, templateIds } from '../../domain/notification-templates';
import { caseIsFinished, retentionCutoffMs, retentionPolicyOverridesSchema } from '../../domain/retention';
import { shippedCalendar } from '../support/case-inputs';
import { accepted, act, actorOf, advance, days, effectDone, hours, iso, minutes, only, openCase, refused, shanghai, typesOf, viewOf, type CaseAt } from '../support/case-rules';
import { notificationRows } from '../../notifications/outbox';

// Data-subject requests (D3), consent (D4) and retention (D2), pure: the runtime's steps without
// Temporal (test/support/case-rules.ts), the outbox's rows without a database.
const policy = defaultDataRequestPolicy;

function input(overrides: Partial<DataRequestInput> = {}): DataRequestInput {
  return {
    caseId: 'DSR-2026-000001',
    customerId: 'cust-dsr',
    kind: 'access',
    verification: { status: 'verified', method: 'id-document', reference: 'ID card ending 4417', verifiedBy: 'agent Wang' },
    changes: null,
    note: null,
    openedBy: actorOf('agent'),
    policy,
    timeZone: 'Asia/Shanghai',
    calendar: shippedCalendar,
    ...overrides,
  };
}

const exportDone = (effect: DataRequestEffect) => ({
  ok: true as const,
  result: { n: effect.kind === 'export' ? effect.n : 0, path: `exports/${effect.caseId}-1.json`, sha256: 'ab'.repeat(32), sizeBytes: 2048, createdAt: effect.at },
});
const deadline = (at: CaseAt<DataRequestState>) => viewOf(dataRequestCase, at).deadlines.find((entry) => entry.name === 'response')!;
const notifiedTemplates = (result: { events: { notifications?: { templateId: string }[] }[] }) => result.events.flatMap((entry) => entry.notifications ?? []).map((entry) => entry.templateId);

describe('D3: the answer is due in 15 working days on the working calendar', () => {
  it('D3: a request received on Fri 25 Sep 2026 is due at the end of Thu 22 Oct: National Day (1–7 Oct) does not count, Sat 10 Oct (调休) does', () => {
    // 28, 29, 30 Sep · 8, 9, 10 (Sat, 调休), 12, 13, 14, 15, 16, 19, 20, 21, 22 Oct = 15 working days.
    const opened = openCase(dataRequestCase, input(), shanghai('2026-09-25T10:00'));
    const due = deadline(opened);
    expect(due).toMatchObject({ dueAt: iso(shanghai('2026-10-23T00:00')), state: 'pending', calendarVersion: shippedCalendar.version, provisional: false });
    // Weekends alone would have given Fri 16 Oct.
    expect(Date.parse(due.dueAt!)).toBeGreaterThan(shanghai('2026-10-17T00:00'));
    // C9: warned at 80 % of the time.
    const startedAt = shanghai('2026-09-25T10:00');
    expect(Date.parse(due.warnAt!)).toBe(startedAt + Math.round((shanghai('2026-10-23T00:00') - startedAt) * 0.8));
    expect(typesOf(opened)).toEqual(['data-request.received', 'data-request.identity-verified', 'sla.started']);
    expect(only(opened, 'data-request.received').notifications![0]!.params.dueAt).toBe('2026-10-23 00:00 (Asia/Shanghai)');
  });

  it('D3, C9: unverified, the request waits; staff are warned at 80 % and supervisors escalated at the breach, each once', () => {
    const openedAt = shanghai('2026-09-25T10:00');
    const opened = openCase(dataRequestCase, input({ verification: { status: 'pending', method: 'id-document', reference: 'copy of ID requested by e-mail' } }), openedAt);
    expect(viewOf(dataRequestCase, opened)).toMatchObject({ status: 'awaiting-verification', allowedActions: ['verify', 'refuse', 'note'] });
    expect(opened.effects).toEqual([]);
    const due = deadline(opened);
    const warned = advance(dataRequestCase, opened, Date.parse(due.warnAt!) + minutes(1));
    expect(typesOf(warned)).toEqual(['sla.warned']);
    expect(warned.events[0]!.staffNotifications).toEqual([expect.objectContaining({ role: 'agent', kind: 'sla.warned' })]);
    const beforeBreach = advance(dataRequestCase, warned, Date.parse(due.dueAt!) - minutes(1));
    expect(typesOf(beforeBreach)).toEqual([]);
    const breached = advance(dataRequestCase, beforeBreach, Date.parse(due.dueAt!) + minutes(1));
    expect(typesOf(breached)).toEqual(['sla.breached']);
    expect(breached.events[0]!.staffNotifications).toEqual([expect.objectContaining({ role: 'supervisor', kind: 'sla.breached' })]);
    expect(viewOf(dataRequestCase, breached)).toMatchObject({ slaBreached: true, status: 'awaiting-verification' });

    // Verified late, the export is made and the clock met late (the breach stays on record).
    const verified = accepted(
      act(dataRequestCase, breached, 'verify', { method: 'in-person', reference: 'ID card seen at the Xuhui shop', verifiedBy: 'agent Li' }, actorOf('agent'), Date.parse(due.dueAt!) + hours(2)),
    );
    expect(verified.effects).toEqual([expect.objectContaining({ kind: 'export', n: 1 })]);
    const done = effectDone(dataRequestCase, verified, verified.effects[0]!, exportDone(verified.effects[0]!), Date.parse(due.dueAt!) + hours(3));
    expect(typesOf(done)).toEqual(['data-request.export-created', 'data-request.completed', 'sla.met']);
    expect(only(done, 'sla.met').data).toMatchObject({ late: true });
    expect(viewOf(dataRequestCase, done)).toMatchObject({ status: 'completed', slaBreached: true, deadlines: [expect.objectContaining({ state: 'breached' })] });
  });
});

describe('D3: access, correction, deletion', () => {
  const at = shanghai('2026-11-02T10:00');

  it('D3: access: the export is made at once and the user told how to download it (tracking link + /export)', () => {
    const opened = openCase(dataRequestCase, input(), at);
    expect(opened.effects).toEqual([{ kind: 'export', caseId: 'DSR-2026-000001', customerId: 'cust-dsr', n: 1, at: iso(at) }]);
    expect(accepted(act(dataRequestCase, opened, 'note', { text: 'asked by phone' }, actorOf('agent'), at + minutes(1))).events).toHaveLength(1);
    expect(refused(act(dataRequestCase, opened, 'complete', {}, actorOf('agent'), at + minutes(1))).message).toContain('being carried out');
    expect(refused(act(dataRequestCase, opened, 'refuse', { reason: 'x' }, actorOf('supervisor'), at + minutes(1))).message).toContain('being carried out');
    const done = effectDone(dataRequestCase, opened, opened.effects[0]!, exportDone(opened.effects[0]!), at + minutes(2));
    expect(notifiedTemplates(done)).toEqual(['data-request.access-ready']);
    expect(viewOf(dataRequestCase, done)).toMatchObject({ status: 'completed', expectedCompletionAt: null, details: { export: { n: 1, sizeBytes: 2048 } } });
    expect(dataRequestCase.isClosed(done.state)).toBe(true);
  });

  it('D3, D1: correction: the changed fields are recorded old → new; the user is told which fields, not their values', () => {
    const opened = openCase(dataRequestCase, input({ kind: 'correction', changes: { email: 'li.wei@new.example', phone: null } }), at);
    expect(only(opened, 'data-request.received').data.changesRequested).toEqual(['email', 'phone']);
    const effect = opened.effects[0]!;
    expect(effect).toMatchObject({ kind: 'correct', changes: { email: 'li.wei@new.example', phone: null }, by: 'agent/test' });
    const changes = [{ field: 'email', from: 'li@old.example', to: 'li.wei@new.example' }];
    const done = effectDone(dataRequestCase, opened, effect, { ok: true, result: { outcome: 'corrected', changes, correctedAt: iso(at) } }, at + minutes(1));
    expect(only(done, 'data-request.corrected').data).toEqual({ changes, unchanged: ['phone'] });
    expect(only(done, 'data-request.completed').notifications![0]!.params).toMatchObject({ fields: 'email' });
  });

  it('D3, D2: deletion under a legal hold is refused: recorded with the hold’s reason; the user is told only that the law requires keeping it', () => {
    const opened = openCase(dataRequestCase, input({ kind: 'deletion' }), at);
    const held: ErasureResult = { outcome: 'held', reason: 'Court order 2026-17', since: iso(at - days(3)) };
    const done = effectDone(dataRequestCase, opened, opened.effects[0]!, { ok: true, result: held }, at + minutes(1));
    expect(typesOf(done)).toEqual(['data-request.refused', 'sla.met']);
    expect(only(done, 'data-request.refused').data).toEqual({ reason: 'legal hold: Court order 2026-17', legalHoldSince: iso(at - days(3)) });
    const told = only(done, 'data-request.refused').notifications![0]!;
    expect(told.templateId).toBe('data-request.deletion-held');
    expect(JSON.stringify(told.params)).not.toContain('Court order');
    expect(viewOf(dataRequestCase, done)).toMatchObject({ status: 'refused', details: { refusal: { reason: 'legal hold: Court order 2026-17' } } });
  });

  it('D3: deletion while other cases are open is deferred until the latest of their expected completions, told with the reason; retried then, and done', () => {
    const opened = openCase(dataRequestCase, input({ kind: 'deletion' }), at);
    const blocking = [
      { caseId: 'CMP-2026-000010', type: 'complaint', status: 'acknowledged', expectedCompletionAt: iso(at + days(4)) },
      { caseId: 'CLM-2026-000003', type: 'compensation', status: 'awaiting-approval', expectedCompletionAt: iso(at + days(6)) },
    ];
    const deferred = effectDone(dataRequestCase, opened, opened.effects[0]!, { ok: true, result: { outcome: 'deferred', blocking } }, at + minutes(1));
    expect(typesOf(deferred)).toEqual(['data-request.deletion-deferred', 'sla.met']);
    expect(only(deferred, 'data-request.deletion-deferred').notifications![0]!.params).toMatchObject({
      reason: 'CMP-2026-000010 (complaint, acknowledged), CLM-2026-000003 (compensation, awaiting-approval)',
      untilAt: '2026-11-08 10:00 (Asia/Shanghai)',
    });
    expect(viewOf(dataRequestCase, deferred)).toMatchObject({ status: 'deferred', expectedCompletionAt: iso(at + days(6)), allowedActions: ['complete', 'refuse', 'note'] });

    expect(advance(dataRequestCase, deferred, at + days(6) - minutes(1)).effects).toEqual([]);
    const retried = advance(dataRequestCase, deferred, at + days(6) + minutes(1));
    expect(typesOf(retried)).toEqual(['data-request.retried']);
    expect(retried.effects).toEqual([expect.objectContaining({ kind: 'erase' })]);
    const deleted: ErasureResult = { outcome: 'deleted', deletedAt: iso(at + days(6)), fields: ['name', 'email'], notificationsRedacted: 7, casesPurged: 2, exportFilesRemoved: 0 };
    const done = effectDone(dataRequestCase, retried, retried.effects[0]!, { ok: true, result: deleted }, at + days(6) + minutes(2));
    expect(typesOf(done)).toEqual(['data-request.personal-data-deleted', 'data-request.completed']);
    expect(notifiedTemplates(done)).toEqual(['data-request.deleted']);
    expect(viewOf(dataRequestCase, done)).toMatchObject({ status: 'completed', details: { deletion: { notificationsRedacted: 7, casesPurged: 2 }, deferral: { times: 1 } } });
  });

  it('D3: the deferral date: the latest expected completion; a week for a case that gives none; never less than a day', () => {
    const now = shanghai('2026-11-02T10:00');
    const open = (expectedCompletionAt: string | null) => ({ caseId: 'CMP-2026-000001', type: 'complaint', status: 'received', expectedCompletionAt });
    expect(deferDeletionUntilMs([open(iso(now + days(3))), open(iso(now + days(9)))], now, policy)).toBe(now + days(9));
    expect(deferDeletionUntilMs([open(null), open(iso(now + days(2)))], now, policy)).toBe(now + days(7));
    expect(deferDeletionUntilMs([open(iso(now - days(5)))], now, policy)).toBe(now + hours(24));
  });

  it('D3: a failed step is recorded and retried by the runtime; after the last attempt staff complete it', () => {
    const opened = openCase(dataRequestCase, input({ kind: 'deletion' }), at);
    const effect = opened.effects[0]!;
    const first = effectDone(dataRequestCase, opened, effect, { ok: false, message: 'connection reset', retryable: true, attempt: 1 }, at + minutes(1));
    expect(only(first, 'data-request.step-failed').data).toMatchObject({ attempt: 1, retrying: true });
    expect(refused(act(dataRequestCase, first, 'complete', {}, actorOf('agent'), at + minutes(2))).message).toContain('being carried out');
    const last = effectDone(dataRequestCase, first, effect, { ok: false, message: 'connection reset', retryable: true, attempt: 3 }, at + minutes(10));
    expect(viewOf(dataRequestCase, last)).toMatchObject({ status: 'in-progress', details: { failure: { attempts: 3, waitingForStaff: true } } });
    expect(last.events[0]!.staffNotifications).toEqual([expect.objectContaining({ role: 'supervisor' })]);
    const again = accepted(act(dataRequestCase, last, 'complete', { note: 'database back' }, actorOf('agent'), at + minutes(20)));
    expect(again.effects).toEqual([expect.objectContaining({ kind: 'erase' })]);
    expect(refused(act(dataRequestCase, last, 'refuse', { reason: 'no' }, actorOf('agent'), at + minutes(20))).kind).toBe('forbidden');
  });

  it('D3: intake: identity verification is required and says who verified; only a correction takes changes', () => {
    const base = { customerId: 'c-1', verification: { method: 'sms-code', reference: 'code sent to +86…17', verifiedBy: 'agent Li' } };
    expect(dataRequestIntakeSchema.safeParse({ ...base, kind: 'access' }).success).toBe(true);
    expect(dataRequestIntakeSchema.safeParse({ customerId: 'c-1', kind: 'access' }).success).toBe(false);
    const unsigned = dataRequestIntakeSchema.safeParse({ ...base, kind: 'access', verification: { method: 'sms-code', reference: 'x' } });
    expect(unsigned.success ? [] : unsigned.error.issues.map((issue) => issue.path.join('.'))).toEqual(['verification.verifiedBy']);
    expect(dataRequestIntakeSchema.safeParse({ ...base, kind: 'access', verification: { status: 'pending', method: 'sms-code', reference: 'x' } }).success).toBe(true);
    const noChanges = dataRequestIntakeSchema.safeParse({ ...base, kind: 'correction' });
    expect(noChanges.success ? [] : noChanges.error.issues.map((issue) => issue.path.join('.'))).toEqual(['changes']);
    expect(dataRequestIntakeSchema.safeParse({ ...base, kind: 'deletion', changes: { name: 'x' } }).success).toBe(false);
    expect(dataRequestIntakeSchema.safeParse({ ...base, kind: 'correction', changes: { phone: '138' } }).success).toBe(false);
  });

  it('D3: every data-request message renders in both locales', () => {
    const params = { caseId: 'DSR-1', dueAt: 'd', sizeBytes: '1', sha256: 's', createdAt: 'c', fields: 'email', deletedAt: 'd', reason: 'r', untilAt: 'u' };
    for (const id of templateIds.filter((templateId) => templateId.startsWith('data-request.'))) {
      for (const locale of ['zh-CN', 'en']) expect(renderNotification(id, locale, params).body).not.toContain('{');
    }
  });
});

describe('D4: consent per purpose and channel; legally required notices', () => {
  const granted = { granted: true, recordedAt: '2026-01-01T00:00:00.000Z', source: 'signup' };
  const profile = (overrides: Partial<ChannelProfile> = {}): ChannelProfile => ({
    channels: ['sms', 'email', 'inbox'],
    email: 'li@example.test',
    phone: '+8613800138000',
    consents: { sms: { ...granted, granted: false }, email: granted },
    quietHours: null,
    timeZone: 'Asia/Shanghai',
    ...overrides,
  });

  it('D4: the answers given, flattened; only those that differ from the record are new', () => {
    const change = consentChangeSchema.parse({ source: 'app settings', consents: { 'service-notices': { sms: false, email: true }, marketing: { email: false } } });
    const answers = consentAnswers(change);
    expect(answers).toEqual([
      { purpose: 'service-notices', channel: 'sms', granted: false },
      { purpose: 'service-notices', channel: 'email', granted: true },
      { purpose: 'marketing', channel: 'email', granted: false },
    ]);
    expect(changedAnswers(answers, (purpose, channel) => (purpose === 'service-notices' && channel === 'email' ? { granted: true } : undefined))).toHaveLength(2);
    expect(consentChangeSchema.safeParse({ source: 'x', consents: {} }).success).toBe(false);
    expect(consentChangeSchema.safeParse({ source: 'x', consents: { newsletter: { sms: true } } }).success).toBe(false);
  });

  it('D4: a channel without consent is not used for a case message; a legally required notice uses it and says so', () => {
    expect(deliveryPlan(profile())).toEqual({ inbox: true, first: { channel: 'email', recipient: 'li@example.test' }, fallbacks: [] });
    expect(deliveryPlan(profile(), { legallyRequired: true })).toEqual({ inbox: true, first: { channel: 'sms', recipient: '+8613800138000' }, fallbacks: ['email'], withoutConsent: ['sms'] });
    // A channel the customer never chose stays unused, even for a legally required notice.
    expect(deliveryPlan(profile({ channels: ['inbox'] }), { legallyRequired: true }).first).toBeNull();

    const customer = { id: 'c-1', locale: 'en', ...profile(), channels: ['sms', 'email', 'inbox'] };
    const rows = notificationRows(
      [
        { idempotencyKey: 'complaint-1:1', customer, caseId: 'CMP-1', templateId: 'complaint.received', params: { caseId: 'CMP-1', summary: 'x' } },
        { idempotencyKey: 'incident-1:notice', customer, caseId: 'INC-1', templateId: 'incident.outage-notice', params: { caseId: 'INC-1', title: 't', startedAt: 's', message: 'm' } },
      ],
      { publicUrl: 'https://pledge.example', nowMs: shanghai('2026-11-28T12:00') },
    );
    expect(rows.map((row) => [row.idempotencyKey, row.recipient])).toEqual([
      ['complaint-1:1:inbox', null],
      ['complaint-1:1:email', 'li@example.test'],
      ['incident-1:notice:inbox', null],
      ['incident-1:notice:sms', '+8613800138000'],
    ]);
    const line = legallyRequiredNoticeLine('en');
    expect(rows.filter((row) => row.body.endsWith(line)).map((row) => row.idempotencyKey)).toEqual(['incident-1:notice:inbox', 'incident-1:notice:sms']);
    // With every consent given, nothing is added.
    const consenting = { ...customer, consents: { sms: granted, email: granted } };
    const notice = notificationRows(
      [{ idempotencyKey: 'i:n', customer: consenting, caseId: 'INC-1', templateId: 'incident.outage-notice', params: { caseId: 'INC-1', title: 't', startedAt: 's', message: 'm' } }],
      {
        publicUrl: 'https://pledge.example',
      },
    );
    expect(notice.some((row) => row.body.includes(line))).toBe(false);
    expect(legallyRequiredNoticeLine('zh-CN')).toContain('依法');
  });
});

describe('D2: retention', () => {
  it('D2: the cutoff is the same instant 3 years earlier; fewer than 3 years cannot be configured', () => {
    expect(iso(retentionCutoffMs(Date.parse('2026-11-28T03:00:00Z'), 3))).toBe('2023-11-28T03:00:00.000Z');
    expect(retentionPolicyOverridesSchema.safeParse({ version: 'x', closedCaseYears: 2 }).success).toBe(false);
    expect(retentionPolicyOverridesSchema.safeParse({ version: 'x', closedCaseYears: 5 }).success).toBe(true);
  });

  it('D2: a case is finished in the statuses each type closes in, and only those', () => {
    for (const status of ['closed', 'withdrawn', 'completed', 'cancelled', 'overran', 'refused']) expect(caseIsFinished(status)).toBe(true);
    for (const status of ['received', 'resolved', 'open', 'scheduled', 'terminated', 'paid', 'awaiting-verification', 'deferred', 'in-progress']) expect(caseIsFinished(status)).toBe(false);
  });
});
