import { describe, expect, it } from 'vitest';
import { defaultCompensationPolicy } from '../../domain/compensation-policy';
import { defaultIncidentPolicy } from '../../domain/incident-policy';
import { renderNotification } from '../../domain/notification-templates';
import { daysUntil, defaultRenewalPolicy, renewalCase, renewalDetailsSchema, renewalSendTimes, type RenewalInput } from '../../domain/renewal';
import { changeMessageParams, checkNoticePeriod, defaultServiceChangePolicy, serviceChangeDetailsSchema, serviceChangeIntakeSchema, type ChangeFanout } from '../../domain/service-change';
import { serviceChangeCase, type ServiceChangeEffect, type ServiceChangeInput } from '../../domain/service-change-case';
import { act, accepted, actorOf, advance, effectDone, hours, minutes, days, iso, only, openCase, refused, shanghai, typesOf, viewOf } from '../support/case-rules';
import { testCalendar } from '../support/incidents';

const policy = defaultServiceChangePolicy;
const agent = actorOf('agent');
const supervisor = actorOf('supervisor');
const nowMs = shanghai('2026-11-16T09:00');
const caseId = 'CHG-2026-000001';
const workflowId = `service-change-${caseId}`;

function changeInput(overrides: Partial<ServiceChangeInput> = {}, effectiveAtMs = nowMs + hours(72)): ServiceChangeInput {
  return {
    caseId,
    changeType: 'maintenance',
    title: 'Core router upgrade in Pudong',
    whatChanges: 'The core routers serving Pudong get new firmware',
    impact: { services: ['broadband'], regions: ['pudong'], downtime: { startsAt: iso(effectiveAtMs), endsAt: iso(effectiveAtMs + hours(2)) } },
    userAction: 'Nothing: your router reconnects by itself',
    contacts: 'Call 10000 or write to care@isp.example',
    appealChannel: 'https://isp.example/appeal',
    effectiveAt: iso(effectiveAtMs),
    emergency: null,
    openedBy: agent,
    policy,
    incidentTerms: { policy: defaultIncidentPolicy, compensation: defaultCompensationPolicy },
    timeZone: 'Asia/Shanghai',
    calendar: testCalendar(nowMs),
    ...overrides,
  };
}

const fanoutOf = (result: { effects: ServiceChangeEffect[] }) =>
  result.effects.filter((effect): effect is Extract<ServiceChangeEffect, { kind: 'fanout' }> => effect.kind === 'fanout').map((effect) => effect.fanout);

const n1 = (effectiveAtMs: number, extra: { emergency?: { justification: string }; role?: 'agent' | 'supervisor' } = {}) =>
  checkNoticePeriod({ effectiveAtMs, noticeAtMs: nowMs, policy, emergency: extra.emergency, role: extra.role ?? 'agent', field: 'effectiveAt', emergencyField: 'emergency' });

describe('the 48-hour rule (N1)', () => {
  it('N1: an effectiveAt 47 h 59 min after the notice is refused, naming the earliest allowed time; 48 h is accepted', () => {
    const early = n1(nowMs + hours(47) + minutes(59));
    expect(early).toMatchObject({ ok: false, kind: 'invalid-input', field: 'effectiveAt', earliestAtMs: nowMs + hours(48) });
    expect(early.ok ? '' : early.message).toContain(`the earliest allowed is ${iso(nowMs + hours(48))}`);
    expect(n1(nowMs + hours(48))).toMatchObject({ ok: true, emergency: null, leadMinutes: 48 * 60 });
    // A notice at 09:00:20 counts from 09:01: never less than 48 h, and the time named is a whole minute.
    const later = checkNoticePeriod({ effectiveAtMs: nowMs + hours(48), noticeAtMs: nowMs + 20_000, policy, role: 'agent', field: 'effectiveAt', emergencyField: 'emergency' });
    expect(later).toMatchObject({ ok: false, earliestAtMs: nowMs + minutes(1) + hours(48) });
  });

  it('N1: an emergency needs a supervisor and a justification; it is only an emergency when the notice is short', () => {
    const justification = { justification: 'A security flaw in the router firmware is exploited' };
    expect(n1(nowMs + hours(6), { emergency: justification, role: 'agent' })).toMatchObject({ ok: false, kind: 'forbidden', field: 'emergency' });
    expect(n1(nowMs + hours(6), { emergency: justification, role: 'supervisor' })).toMatchObject({ ok: true, emergency: justification, leadMinutes: 360 });
    expect(n1(nowMs + hours(50), { emergency: justification, role: 'supervisor' })).toMatchObject({ ok: true, emergency: null });
    expect(n1(nowMs - hours(1), { emergency: justification, role: 'supervisor' })).toMatchObject({ ok: false, kind: 'invalid-input', field: 'effectiveAt' });
    const body = { changeType: 'maintenance', title: 't', whatChanges: 'w', impact: { regions: ['pudong'] }, userAction: 'u', contacts: 'c', appealChannel: 'a', effectiveAt: iso(nowMs) };
    const missing = serviceChangeIntakeSchema.safeParse({ ...body, emergency: {} });
    expect(missing.success ? [] : missing.error.issues.map((issue) => issue.path.join('.'))).toEqual(['emergency.justification']);
  });

  it('N2: the intake names every part of the notice; the downtime cannot start before the change takes effect', () => {
    const body = {
      changeType: 'maintenance',
      title: 't',
      whatChanges: 'w',
      impact: { regions: ['pudong'], downtime: { startsAt: iso(nowMs), endsAt: iso(nowMs + hours(1)) } },
      userAction: 'u',
      contacts: 'c',
      appealChannel: 'a',
      effectiveAt: iso(nowMs + hours(1)),
    };
    const parsed = serviceChangeIntakeSchema.safeParse(body);
    expect(parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'))).toEqual(['impact.downtime.startsAt']);
    const empty = serviceChangeIntakeSchema.safeParse({ effectiveAt: iso(nowMs) });
    expect(empty.success ? [] : empty.error.issues.map((issue) => issue.path[0])).toEqual(
      expect.arrayContaining(['changeType', 'title', 'whatChanges', 'impact', 'userAction', 'contacts', 'appealChannel']),
    );
  });
});

describe('a planned change (N1–N3)', () => {
  it('N1, N3: opening tells every user in scope at once (key <workflowId>:notice) and lays the reminder at effectiveAt − 24 h', () => {
    const opened = openCase(serviceChangeCase, changeInput(), nowMs);
    expect(typesOf(opened)).toEqual(['change.opened', 'sla.started']);
    const [notice] = fanoutOf(opened);
    expect(notice).toMatchObject({ kind: 'notice', templateId: 'change.notice', keyPrefix: `${workflowId}:notice`, audience: { scopes: [{ services: ['broadband'], regions: ['pudong'] }] } });
    const view = viewOf(serviceChangeCase, opened);
    expect(view).toMatchObject({ type: 'service-change', status: 'scheduled', allowedActions: ['reschedule', 'cancel', 'note'] });
    expect(view.details).toMatchObject({ reminder: { dueAt: iso(nowMs + hours(48)), sentAt: null }, emergency: false, notice: { short: false, leadMinutes: 72 * 60 } });
    expect(serviceChangeDetailsSchema.strict().safeParse(view.details).success).toBe(true);
    expect(view.deadlines).toMatchObject([{ name: 'window', dueAt: iso(nowMs + hours(74)), state: 'pending' }]);
  });

  it('N2: the reminder goes out at exactly 24 h before; at effectiveAt the change is in progress; complete tells users it is done', () => {
    const opened = openCase(serviceChangeCase, changeInput(), nowMs);
    const before = advance(serviceChangeCase, opened, nowMs + hours(48) - 1);
    expect(typesOf(before)).toEqual([]);
    const reminded = advance(serviceChangeCase, before, nowMs + hours(48));
    expect(only(reminded, 'change.reminder-sent').occurredAt).toBe(iso(nowMs + hours(48)));
    expect(fanoutOf(reminded)).toMatchObject([{ kind: 'reminder', templateId: 'change.reminder', keyPrefix: `${workflowId}:reminder-0` }]);
    const started = advance(serviceChangeCase, reminded, nowMs + hours(72));
    expect(typesOf(started)).toEqual(['change.started']);
    expect(viewOf(serviceChangeCase, started).status).toBe('in-progress');
    const done = accepted(act(serviceChangeCase, started, 'complete', { summary: 'New firmware in place' }, agent, nowMs + hours(73)));
    expect(typesOf(done)).toEqual(['change.completed', 'sla.met']);
    expect(fanoutOf(done)).toMatchObject([{ kind: 'done', templateId: 'change.done', keyPrefix: `${workflowId}:done` }]);
    expect(serviceChangeCase.isClosed(done.state)).toBe(true);
  });

  it('N1: a supervisor emergency is recorded (change.emergency) and counted in the details; no reminder when the notice is under 24 h', () => {
    const justification = 'A security flaw in the router firmware is exploited';
    const opened = openCase(serviceChangeCase, changeInput({ emergency: { justification }, openedBy: supervisor }, nowMs + hours(6)), nowMs);
    expect(only(opened, 'change.emergency').data).toMatchObject({ justification, leadMinutes: 360, on: 'intake' });
    expect(fanoutOf(opened)).toMatchObject([{ templateId: 'change.emergency', params: { justification, noticeHours: '48' } }]);
    expect(viewOf(serviceChangeCase, opened).details).toMatchObject({ emergency: true, emergencies: [{ justification, leadMinutes: 360 }], reminder: { dueAt: null } });
  });

  it('N1: reschedule obeys the 48 h rule again from now: 47 h 59 min refused (naming the earliest time), 48 h accepted; users told, reminder and window moved', () => {
    const opened = openCase(serviceChangeCase, changeInput(), nowMs);
    const atMs = nowMs + hours(10);
    const early = refused(act(serviceChangeCase, opened, 'reschedule', { effectiveAt: iso(atMs + hours(47) + minutes(59)), reason: 'Parts late' }, agent, atMs));
    expect(early.kind).toBe('invalid-input');
    expect(early.fields).toEqual([{ field: 'input.effectiveAt', message: expect.stringContaining(`the earliest allowed is ${iso(atMs + hours(48))}`) }]);
    const byAgent = refused(act(serviceChangeCase, opened, 'reschedule', { effectiveAt: iso(atMs + hours(5)), reason: 'x', emergency: { justification: 'y' } }, agent, atMs));
    expect(byAgent.kind).toBe('forbidden');
    const moved = accepted(act(serviceChangeCase, opened, 'reschedule', { effectiveAt: iso(atMs + hours(48)), reason: 'Parts late' }, agent, atMs));
    expect(typesOf(moved)).toEqual(['change.rescheduled', 'sla.cancelled', 'sla.started']);
    expect(fanoutOf(moved)).toMatchObject([
      {
        kind: 'rescheduled',
        templateId: 'change.rescheduled',
        keyPrefix: `${workflowId}:rescheduled-1`,
        instants: { previousEffectiveAt: iso(nowMs + hours(72)), effectiveAt: iso(atMs + hours(48)) },
      },
    ]);
    const view = viewOf(serviceChangeCase, moved);
    expect(view.details).toMatchObject({
      effectiveAt: iso(atMs + hours(48)),
      impact: { downtime: { startsAt: iso(atMs + hours(48)), endsAt: iso(atMs + hours(50)) } },
      reminder: { dueAt: iso(atMs + hours(24)) },
    });
    const reminded = advance(serviceChangeCase, moved, atMs + hours(24));
    expect(fanoutOf(reminded)).toMatchObject([{ keyPrefix: `${workflowId}:reminder-1` }]);
  });

  it('O-rules: a window that ends before complete makes the change an incident from the window end, with its scope; the change closes as overran', () => {
    const opened = openCase(serviceChangeCase, changeInput(), nowMs);
    const overran = advance(serviceChangeCase, opened, nowMs + hours(80));
    expect(typesOf(overran)).toEqual(['change.reminder-sent', 'change.started', 'sla.warned', 'sla.breached', 'change.overran']);
    const openIncident = overran.effects.find((effect) => effect.kind === 'open-incident');
    expect(openIncident).toMatchObject({ incident: { startedAt: iso(nowMs + hours(74)), scope: { services: ['broadband'], regions: ['pudong'] } } });
    expect(only(overran, 'change.overran').staffNotifications).toMatchObject([{ role: 'supervisor' }]);
    const recorded = effectDone(serviceChangeCase, overran, openIncident!, { ok: true, result: { caseId: 'INC-2026-000042' } }, nowMs + hours(80));
    expect(only(recorded, 'change.incident-opened').data).toMatchObject({ incidentId: 'INC-2026-000042' });
    expect(viewOf(serviceChangeCase, recorded)).toMatchObject({ status: 'overran', slaBreached: true, details: { overrun: { incidentId: 'INC-2026-000042', windowEndedAt: iso(nowMs + hours(74)) } } });
    expect(serviceChangeCase.isClosed(recorded.state)).toBe(true);
  });

  it('N3: cancel tells users; a change without downtime is done when it takes effect', () => {
    const cancelled = accepted(act(serviceChangeCase, openCase(serviceChangeCase, changeInput(), nowMs), 'cancel', { reason: 'Not needed after all' }, agent, nowMs + hours(1)));
    expect(fanoutOf(cancelled)).toMatchObject([{ kind: 'cancelled', templateId: 'change.cancelled', keyPrefix: `${workflowId}:cancelled`, params: { reason: 'Not needed after all' } }]);
    expect(serviceChangeCase.isClosed(cancelled.state)).toBe(true);
    const tariff = openCase(serviceChangeCase, changeInput({ changeType: 'tariff', impact: { services: ['broadband'], regions: [], downtime: null } }), nowMs);
    const effective = advance(serviceChangeCase, tariff, nowMs + hours(72));
    expect(typesOf(effective)).toEqual(['change.reminder-sent', 'change.completed']);
    expect(viewOf(serviceChangeCase, effective)).toMatchObject({ status: 'completed', details: { completion: { auto: true } } });
  });

  it('N2: every notice states type, what changes, scope, downtime, what to do, contacts and appeal, in the user’s language', () => {
    const opened = openCase(
      serviceChangeCase,
      changeInput({ impact: { services: ['broadband', 'iptv'], regions: [], downtime: { startsAt: '2026-11-19T18:00:00Z', endsAt: '2026-11-19T20:00:00Z' } } }, Date.parse('2026-11-19T18:00:00Z')),
      nowMs,
    );
    const notice = fanoutOf(opened)[0] as ChangeFanout;
    const zh = renderNotification(notice.templateId, 'zh-CN', changeMessageParams(notice, 'zh-CN', 'Asia/Shanghai'));
    expect(zh.body).toContain('变更类型：计划维护');
    expect(zh.body).toContain('影响服务：broadband、iptv');
    expect(zh.body).toContain('影响地区：全部地区');
    expect(zh.body).toContain('预计中断：2026年11月20日 02:00（中国标准时间） 至 2026年11月20日 04:00（中国标准时间）');
    const en = renderNotification(notice.templateId, 'en', changeMessageParams(notice, 'en', 'Asia/Shanghai'));
    for (const part of [
      'Type of change: planned maintenance',
      'What changes: The core routers',
      'Regions affected: all regions',
      'What you need to do: Nothing',
      'Contact us: Call 10000',
      'To appeal: https://isp.example/appeal',
    ]) {
      expect(en.body).toContain(part);
    }
  });
});

describe('renewal notices (N4)', () => {
  const renewalInput = (overrides: Partial<RenewalInput> = {}): RenewalInput => ({
    caseId: 'CHG-2026-000002',
    audience: { segment: { services: ['broadband'], regions: ['pudong'] } },
    service: 'Home broadband 500M',
    fees: '¥99.00 per month',
    term: '12 months',
    conditions: 'Renews automatically unless cancelled',
    contacts: 'Call 10000',
    renewalDate: '2027-01-31',
    openedBy: agent,
    policy: defaultRenewalPolicy,
    timeZone: 'Asia/Shanghai',
    calendar: testCalendar(nowMs),
    ...overrides,
  });

  it('N4: notices are due 30 and 7 days before the renewal date at 10:00 provider time', () => {
    expect(renewalSendTimes('2027-01-31', [7, 30], 'Asia/Shanghai', '10:00')).toEqual([
      { daysBefore: 30, dueAtMs: shanghai('2027-01-01T10:00') },
      { daysBefore: 7, dueAtMs: shanghai('2027-01-24T10:00') },
    ]);
    expect(daysUntil('2027-01-31', shanghai('2027-01-24T10:00'), 'Asia/Shanghai')).toBe(7);
  });

  it('N4: each send goes out at its time, keyed per send, recorded; the case closes on the renewal date', () => {
    const opened = openCase(renewalCase, renewalInput(), nowMs);
    expect(typesOf(opened)).toEqual(['renewal.opened']);
    const first = advance(renewalCase, opened, shanghai('2027-01-01T10:00'));
    expect(only(first, 'renewal.sent')).toMatchObject({ occurredAt: iso(shanghai('2027-01-01T10:00')), data: { daysBefore: 30, late: false, daysLeft: 30 } });
    expect(first.effects).toMatchObject([{ fanout: { templateId: 'renewal.notice', keyPrefix: 'service-change-CHG-2026-000002:renewal-30', params: { fees: '¥99.00 per month', daysLeft: '30' } } }]);
    const second = advance(renewalCase, first, shanghai('2027-01-31T00:00'));
    expect(typesOf(second)).toEqual(['renewal.sent', 'renewal.completed']);
    expect(only(second, 'renewal.sent').occurredAt).toBe(iso(shanghai('2027-01-24T10:00')));
    const view = viewOf(renewalCase, second);
    expect(view).toMatchObject({ type: 'service-change', status: 'completed' });
    expect(renewalDetailsSchema.strict().safeParse(view.details).success).toBe(true);
  });

  it('N4: opened after the 30-day send was due, one notice goes out at once (late, covering it); cancel tells those told', () => {
    const openedAtMs = shanghai('2027-01-20T09:00');
    const opened = openCase(renewalCase, renewalInput({ audience: { customerId: 'cust-1' } }), openedAtMs);
    const now = advance(renewalCase, opened, openedAtMs);
    expect(only(now, 'renewal.sent').data).toMatchObject({ daysBefore: 30, late: true, covers: [30], daysLeft: 11 });
    expect(now.effects).toMatchObject([{ fanout: { audience: { customerId: 'cust-1' } } }]);
    const cancelled = accepted(act(renewalCase, now, 'cancel', { reason: 'Plan withdrawn' }, agent, openedAtMs + days(1)));
    expect(cancelled.effects).toMatchObject([{ fanout: { templateId: 'renewal.cancelled', keyPrefix: 'service-change-CHG-2026-000002:renewal-cancelled' } }]);
    expect(renewalCase.isClosed(cancelled.state)).toBe(true);
  });
});
