import { describe, expect, it } from 'vitest';
import { loadPolicies, readEnv } from '../../config';
import { checkAction } from '../../domain/case-actions';
import { defaultCompensationPolicy, formatAmount, remedyFor } from '../../domain/compensation-policy';
import { alertGroupDedupKey, describeScopeQuery, formatDuration, incidentActions, scopeFromLabels, severityFromLabel, worstSeverity } from '../../domain/incident';
import { monthlyAvailability } from '../../domain/incident-availability';
import { defaultIncidentPolicy, noticeSchedule } from '../../domain/incident-policy';
import { renderNotification, templateParams } from '../../domain/notification-templates';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const hour = 3600_000;

describe('incident rules', () => {
  it('O4: the notice is due 2 h after the start and auto-published 15 min before that', () => {
    const start = Date.parse('2026-11-20T10:00:00Z');
    const schedule = noticeSchedule(defaultIncidentPolicy, start);
    expect(schedule.dueAtMs - start).toBe(2 * hour);
    expect(schedule.autoPublishAtMs - start).toBe(105 * 60_000);
  });

  it('O3: maps severity labels onto SEV1..SEV4 and keeps the worst', () => {
    expect(severityFromLabel('critical')).toBe('SEV1');
    expect(severityFromLabel('SEV2')).toBe('SEV2');
    expect(severityFromLabel('warning')).toBe('SEV3');
    expect(severityFromLabel('info')).toBe('SEV4');
    expect(severityFromLabel('bogus')).toBeUndefined();
    expect(worstSeverity(['SEV3', undefined, 'SEV1', 'SEV2'])).toBe('SEV1');
  });

  it('O2: the dedup key is the source plus the Alertmanager group key', () => {
    expect(alertGroupDedupKey('alertmanager', '{}:{alertname="X"}')).toBe('alertmanager|{}:{alertname="X"}');
  });

  it('resolves the scope from service and region labels and records a readable query', () => {
    const scope = scopeFromLabels({ alertname: 'Down', service: 'broadband,iptv', region: 'shanghai' });
    expect(scope).toEqual({ services: ['broadband', 'iptv'], regions: ['shanghai'] });
    expect(describeScopeQuery([scope])).toBe("select id from customers where (services && array['broadband', 'iptv'] and region in ('shanghai')) order by id");
    expect(describeScopeQuery([{ services: [], regions: [] }])).toMatch(/none/);
  });

  it('P1: remedies by duration tier and plan, with the policy version', () => {
    expect(remedyFor(defaultCompensationPolicy, 29, 'home-100m')).toBeNull();
    expect(remedyFor(defaultCompensationPolicy, 30, 'home-100m')).toEqual({ kind: 'service-credit', creditDays: 1, amountCents: 330, currency: 'CNY', policyVersion: 'compensation/2026.1' });
    expect(remedyFor(defaultCompensationPolicy, 5 * 60, 'home-500m')?.creditDays).toBe(3);
    expect(remedyFor(defaultCompensationPolicy, 5 * 60, 'business-1g')?.creditDays).toBe(6);
    expect(remedyFor(defaultCompensationPolicy, 49 * 60, 'unknown-plan')?.amountCents).toBe(Math.round((9_900 * 15) / 30));
    expect(formatAmount(330, 'CNY')).toBe('¥3.30');
  });

  it('O9: availability counts overlapping incidents once and compares with 99.9 %', () => {
    const start = Date.parse('2026-10-31T16:00:00Z'); // 2026-11-01 00:00 in Shanghai
    const result = monthlyAvailability(
      '2026-11',
      'Asia/Shanghai',
      [
        { caseId: 'INC-1', startedAtMs: start + 10 * hour, endedAtMs: start + 11 * hour },
        { caseId: 'INC-2', startedAtMs: start + 10.5 * hour, endedAtMs: start + 11.5 * hour },
        { caseId: 'INC-0', startedAtMs: start - 5 * hour, endedAtMs: start - hour },
      ],
      Date.parse('2027-01-01T00:00:00Z'),
    );
    expect(result.downtimeMinutes).toBe(90);
    expect(result.minutesInPeriod).toBe(30 * 24 * 60);
    expect(result.availabilityPercent).toBeCloseTo(100 * (1 - 90 / (30 * 24 * 60)), 3);
    expect(result.met).toBe(false);
    expect(result.incidents).toEqual(['INC-1', 'INC-2']);
  });

  it('O4, O7, P2: incident templates render in both locales with every param', () => {
    for (const locale of ['zh-CN', 'en']) {
      const params = Object.fromEntries(templateParams('incident.recovered-with-remedy').map((name) => [name, `<${name}>`]));
      const text = renderNotification('incident.recovered-with-remedy', locale, params);
      expect(text.body).toContain('<amount>');
      expect(text.body).toContain('<policyVersion>');
    }
    expect(formatDuration(125, 'en')).toBe('2 h 5 min');
    expect(formatDuration(1505, 'zh-CN')).toBe('1天1小时5分钟');
  });

  it('O6: refuses what the incident status does not allow and names bad input', () => {
    expect(checkAction(incidentActions, { action: 'submit-review', input: { summary: 's', rootCause: 'r' }, actorRole: 'agent' }, 'open')).toMatchObject({ ok: false, kind: 'refused' });
    expect(checkAction(incidentActions, { action: 'classify', input: { severity: 'SEV9' }, actorRole: 'agent' }, 'open')).toMatchObject({
      ok: false,
      kind: 'invalid-input',
      fields: [{ field: 'input.severity' }],
    });
    expect(checkAction(incidentActions, { action: 'set-scope', input: {}, actorRole: 'agent' }, 'open')).toMatchObject({ ok: false, fields: [{ field: 'input.services' }] });
    expect(checkAction(incidentActions, { action: 'publish-notice', input: {}, actorRole: 'auditor' }, 'open')).toMatchObject({ ok: false, kind: 'forbidden' });
  });

  it('O4/P1: incident and compensation policies are configurable per deployment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pledge-policy-'));
    const file = join(dir, 'policy.json');
    writeFileSync(
      file,
      JSON.stringify({ incident: { version: 'acme-inc/1', noticeSafetyMarginMinutes: 30 }, compensation: { version: 'acme-comp/1', tiers: [{ minOutageMinutes: 60, creditDays: 2 }] } }),
    );
    const policies = loadPolicies(readEnv({ PLEDGE_POLICY_FILE: file }));
    expect(policies.incident).toMatchObject({ version: 'acme-inc/1', noticeSafetyMarginMinutes: 30, noticeWithinMinutes: 120 });
    expect(remedyFor(policies.compensation, 59, 'home-100m')).toBeNull();
    expect(remedyFor(policies.compensation, 60, 'home-100m')).toMatchObject({ creditDays: 2, policyVersion: 'acme-comp/1' });
    writeFileSync(file, JSON.stringify({ incident: { version: 'bad', noticeSafetyMarginMinutes: 200 } }));
    expect(() => loadPolicies(readEnv({ PLEDGE_POLICY_FILE: file }))).toThrow(/noticeSafetyMarginMinutes/);
  });
});
