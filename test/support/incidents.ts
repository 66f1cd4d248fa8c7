import type postgres from 'postgres';
import { shippedCalendarYears } from '../../config/calendar';
import { defaultCompensationPolicy } from '../../domain/compensation-policy';
import type { IncidentScope } from '../../domain/incident';
import { defaultIncidentPolicy, type IncidentPolicy } from '../../domain/incident-policy';
import { calendarForYears } from '../../domain/working-calendar';
import type { IncidentInput } from '../../workflows/incident';

export const testTimeZone = 'Asia/Shanghai';

/** The shipped calendar, as the API pins it (this year and the next). */
export function testCalendar(atMs: number) {
  const year = new Date(atMs).getUTCFullYear();
  return calendarForYears({ version: 'chinese-days (test)', years: shippedCalendarYears() }, year, year + 1);
}

export function incidentInput(options: {
  caseId: string;
  startedAtMs: number;
  scope?: IncidentScope | null;
  title?: string;
  source?: IncidentInput['source'];
  policy?: Partial<IncidentPolicy>;
}): IncidentInput {
  return {
    caseId: options.caseId,
    source: options.source ?? 'manual',
    dedupKey: null,
    title: options.title ?? 'Broadband outage in the test region',
    description: 'A fibre trunk is down; engineers are on their way.',
    startedAt: new Date(options.startedAtMs).toISOString(),
    severity: options.scope === null ? null : 'SEV2',
    scope: options.scope ?? null,
    openedBy: { id: 'agent/test', role: 'agent' },
    policy: { ...defaultIncidentPolicy, ...options.policy },
    compensation: defaultCompensationPolicy,
    timeZone: testTimeZone,
    calendar: testCalendar(options.startedAtMs),
  };
}

/**
 * `count` customers `<prefix>-000001`… in one region with the broadband service, in one statement:
 * every 3rd in English, every 2nd with e-mail (consented), plans rotating so remedies differ. With
 * `sms`, every 3rd prefers SMS (consented, with a phone number) before anything else.
 */
export async function seedRegion(sql: postgres.Sql, prefix: string, region: string, count: number, options: { sms?: boolean } = {}): Promise<void> {
  const consent = sql.json({ granted: true, recordedAt: '2026-01-01T00:00:00.000Z', source: 'test' });
  const sms = options.sms ?? false;
  await sql`
    insert into customers (id, name, email, phone, channels, consents, locale, plan, services, region)
    select id, 'Customer ' || n, case when with_email then id || '@example.com' end,
           case when with_sms then '+86139' || lpad(n::text, 8, '0') end,
           array_remove(array[case when with_sms then 'sms' end, case when with_email then 'email' end, 'inbox'], null),
           case when with_sms then jsonb_build_object('sms', ${consent}::jsonb) else '{}'::jsonb end
             || case when with_email then jsonb_build_object('email', ${consent}::jsonb) else '{}'::jsonb end,
           case when n % 3 = 0 then 'en' else 'zh-CN' end,
           (array['home-100m', 'home-500m', 'home-1000m', 'business-1g'])[1 + n % 4],
           '{broadband}'::text[],
           ${region}
    from (select n, ${prefix} || '-' || lpad(n::text, 6, '0') as id, n % 2 = 0 as with_email, ${sms} and n % 3 = 0 as with_sms
          from generate_series(1, ${count}) as n) as seeded
    on conflict (id) do nothing`;
}

export { eventually } from './eventually';

export const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

export interface TestAlert {
  fingerprint: string;
  status: 'firing' | 'resolved';
  startsAt: string;
  endsAt?: string;
  labels?: Record<string, string>;
}

/** An Alertmanager webhook (version 4) for a broadband outage in `region`, as Alertmanager sends it. */
export function alertmanagerWebhook(groupKey: string, alerts: TestAlert[], options: { region: string; severity: string }) {
  return {
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    status: alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'pledge',
    groupLabels: { alertname: 'BroadbandDown' },
    commonLabels: { alertname: 'BroadbandDown' },
    commonAnnotations: { summary: `Broadband down in ${options.region}` },
    externalURL: 'http://alertmanager.example:9093',
    alerts: alerts.map((alert) => ({
      status: alert.status,
      labels: { alertname: 'BroadbandDown', service: 'broadband', region: options.region, severity: options.severity, ...alert.labels },
      annotations: { summary: `Broadband down in ${options.region}` },
      startsAt: alert.startsAt,
      // Go's zero time: the endsAt of an alert still firing.
      endsAt: alert.endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example/graph',
      fingerprint: alert.fingerprint,
    })),
  };
}
