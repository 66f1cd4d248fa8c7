import { describe, expect, it } from 'vitest';
import { deliveryPlan, notBeforeMs, priorityClassOf, quietHoursEndMs, recordConsents, type ChannelProfile } from '../../domain/channels';
import { notificationRows } from '../../notifications/outbox';

const granted = { granted: true, recordedAt: '2026-01-01T00:00:00.000Z', source: 'signup' };
const profile = (overrides: Partial<ChannelProfile> = {}): ChannelProfile => ({
  channels: ['sms', 'email', 'inbox'],
  email: 'li@example.test',
  phone: '+8613800138000',
  consents: { sms: granted, email: granted },
  quietHours: null,
  timeZone: 'Asia/Shanghai',
  ...overrides,
});
// 2026-11-28 23:30 and 12:00 in Shanghai (UTC+8).
const lateEvening = Date.parse('2026-11-28T15:30:00Z');
const noon = Date.parse('2026-11-28T04:00:00Z');

describe('channel choice (D4)', () => {
  it('the first channel the customer prefers, consented to and has an address for; the rest as fallbacks', () => {
    expect(deliveryPlan(profile())).toEqual({ inbox: true, first: { channel: 'sms', recipient: '+8613800138000' }, fallbacks: ['email'] });
    expect(deliveryPlan(profile({ channels: ['email', 'sms', 'inbox'] })).first).toEqual({ channel: 'email', recipient: 'li@example.test' });
  });

  it('D4: a channel without granted consent is never used, not even as a fallback', () => {
    expect(deliveryPlan(profile({ consents: { email: granted } }))).toEqual({ inbox: true, first: { channel: 'email', recipient: 'li@example.test' }, fallbacks: [] });
    expect(deliveryPlan(profile({ consents: { sms: { ...granted, granted: false } } })).first).toBeNull();
  });

  it('a channel without an address is skipped', () => {
    expect(deliveryPlan(profile({ phone: null })).first?.channel).toBe('email');
    expect(deliveryPlan(profile({ phone: null, email: null })).first).toBeNull();
  });

  it('D4: consent changes are stamped when they change; an unchanged answer keeps its first record', () => {
    const first = recordConsents({}, { sms: { granted: true, source: 'shop' } }, '2026-11-01T00:00:00.000Z');
    expect(first).toEqual({ sms: { granted: true, recordedAt: '2026-11-01T00:00:00.000Z', source: 'shop' } });
    expect(recordConsents(first, { sms: { granted: true, source: 'crm sync' } }, '2026-11-20T00:00:00.000Z')).toEqual(first);
    const withdrawn = recordConsents(first, { sms: { granted: false, source: 'app settings' }, email: { granted: true, source: 'app' } }, '2026-11-21T00:00:00.000Z');
    expect(withdrawn.sms).toEqual({ granted: false, recordedAt: '2026-11-21T00:00:00.000Z', source: 'app settings' });
    expect(withdrawn.email?.granted).toBe(true);
  });
});

describe('priority classes and quiet hours', () => {
  it('O4: outage notices, their updates and corrections and termination notices are urgent; reminders routine; the rest about one case', () => {
    expect(['incident.outage-notice', 'incident.update', 'incident.correction', 'termination.notice'].map(priorityClassOf)).toEqual(['urgent', 'urgent', 'urgent', 'urgent']);
    expect(priorityClassOf('complaint.info-reminder')).toBe('routine');
    expect(['complaint.received', 'claim.paid', 'incident.recovered'].map(priorityClassOf)).toEqual(['case', 'case', 'case']);
  });

  it('a window that wraps midnight ends the next morning; outside it, nothing waits; the end itself is outside', () => {
    const quiet = { from: '22:00', to: '08:00' };
    expect(quietHoursEndMs(lateEvening, quiet, 'Asia/Shanghai')).toBe(Date.parse('2026-11-29T00:00:00Z'));
    expect(quietHoursEndMs(Date.parse('2026-11-28T23:30:00Z'), quiet, 'Asia/Shanghai')).toBe(Date.parse('2026-11-29T00:00:00Z'));
    expect(quietHoursEndMs(noon, quiet, 'Asia/Shanghai')).toBeUndefined();
    expect(quietHoursEndMs(Date.parse('2026-11-29T00:00:00Z'), quiet, 'Asia/Shanghai')).toBeUndefined();
    expect(quietHoursEndMs(Date.parse('2026-11-28T13:59:00Z'), quiet, 'Asia/Shanghai')).toBeUndefined();
    expect(quietHoursEndMs(Date.parse('2026-11-28T14:00:00Z'), quiet, 'Asia/Shanghai')).toBe(Date.parse('2026-11-29T00:00:00Z'));
  });

  it('an outage notice ignores quiet hours; a case message waits for their end', () => {
    const sleeping = profile({ quietHours: { from: '22:00', to: '08:00' } });
    expect(notBeforeMs(lateEvening, 'urgent', sleeping)).toBe(lateEvening);
    expect(notBeforeMs(lateEvening, 'case', sleeping)).toBe(Date.parse('2026-11-29T00:00:00Z'));
    expect(notBeforeMs(lateEvening, 'case', profile())).toBe(lateEvening);
  });

  it('the outbox rows: the inbox copy at once, the SMS after quiet hours with e-mail as its fallback, each with its priority', () => {
    const customer = { id: 'c-1', locale: 'en', ...profile({ quietHours: { from: '22:00', to: '08:00' } }), channels: ['sms', 'email', 'inbox'] };
    const rows = notificationRows(
      [
        { idempotencyKey: 'complaint-1:1', customer, caseId: 'CMP-1', templateId: 'complaint.received', params: { caseId: 'CMP-1', summary: 'x' } },
        { idempotencyKey: 'incident-1:notice', customer, caseId: 'INC-1', templateId: 'incident.outage-notice', params: { caseId: 'INC-1', title: 't', startedAt: 's', message: 'm' } },
      ],
      { publicUrl: 'https://pledge.example', nowMs: lateEvening },
    );
    expect(rows.map((row) => [row.idempotencyKey, row.channel, row.recipient, row.priority, row.notBefore, row.fallbacks])).toEqual([
      ['complaint-1:1:inbox', 'inbox', null, 1, undefined, undefined],
      ['complaint-1:1:sms', 'sms', '+8613800138000', 1, '2026-11-29T00:00:00.000Z', ['email']],
      ['incident-1:notice:inbox', 'inbox', null, 0, undefined, undefined],
      ['incident-1:notice:sms', 'sms', '+8613800138000', 0, undefined, ['email']],
    ]);
  });
});
