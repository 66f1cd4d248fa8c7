import { z } from 'zod';
import type { Actor } from './actors';
import { nonBlank, someItems, type ActionTable, type ActionUnion } from './case-actions';
import { instantSince1970, pastInstant } from './instants';

/** O3: SEV1 is the worst. */
export const severities = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
export type Severity = (typeof severities)[number];

export const incidentStatuses = ['open', 'resolved', 'closed'] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];

/** Where an incident came from: a monitoring system (O1) or ops staff. */
export const incidentSources = ['alertmanager', 'grafana', 'manual'] as const;
export type IncidentSource = (typeof incidentSources)[number];
/** The monitoring systems that post alert groups (O1). */
export type AlertSource = Exclude<IncidentSource, 'manual'>;

/**
 * Who is affected: customers subscribed to any of `services` and living in any of `regions`. An
 * empty list means "any"; both empty means nobody (an alert without labels never notifies every
 * customer by accident — staff set the scope).
 */
export interface IncidentScope {
  services: string[];
  regions: string[];
}

export const emptyScope: IncidentScope = { services: [], regions: [] };

export function scopeIsEmpty(scope: IncidentScope): boolean {
  return scope.services.length === 0 && scope.regions.length === 0;
}

export function mergeScopes(a: IncidentScope, b: IncidentScope): IncidentScope {
  return { services: [...new Set([...a.services, ...b.services])].sort(), regions: [...new Set([...a.regions, ...b.regions])].sort() };
}

export function sameScope(a: IncidentScope, b: IncidentScope): boolean {
  return JSON.stringify(mergeScopes(a, emptyScope)) === JSON.stringify(mergeScopes(b, emptyScope));
}

/** The query used to find affected users, in words an auditor can rerun (O6 records it). */
export function describeScopeQuery(scopes: readonly IncidentScope[]): string {
  const quote = (values: string[]) => values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', ');
  const parts = scopes
    .filter((scope) => !scopeIsEmpty(scope))
    .map((scope) => {
      const conditions: string[] = [];
      if (scope.services.length) conditions.push(`services && array[${quote(scope.services)}]`);
      if (scope.regions.length) conditions.push(`region in (${quote(scope.regions)})`);
      return `(${conditions.join(' and ')})`;
    });
  return parts.length ? `select id from customers where ${parts.join(' or ')} order by id` : 'none: the scope is empty';
}

/** Labels that name the affected service(s) and region(s) on an alert. */
const serviceLabels = ['service', 'services'];
const regionLabels = ['region', 'regions'];

function labelValues(labels: Record<string, string>, names: string[]): string[] {
  return names.flatMap((name) =>
    (labels[name] ?? '')
      .split(',')
      .map((value) => value.trim())
      .filter(Boolean),
  );
}

export function scopeFromLabels(labels: Record<string, string>): IncidentScope {
  return mergeScopes({ services: labelValues(labels, serviceLabels), regions: labelValues(labels, regionLabels) }, emptyScope);
}

/** O3: a `severity` label maps onto SEV1..SEV4; unknown or missing values give undefined. */
export function severityFromLabel(value: string | undefined): Severity | undefined {
  if (!value) return undefined;
  const normalized = value.trim().toLowerCase();
  const direct = /^sev-?([1-4])$/.exec(normalized) ?? /^p([1-4])$/.exec(normalized);
  if (direct) return `SEV${direct[1]}` as Severity;
  const words: Record<string, Severity> = {
    critical: 'SEV1',
    page: 'SEV1',
    emergency: 'SEV1',
    major: 'SEV2',
    high: 'SEV2',
    error: 'SEV2',
    warning: 'SEV3',
    minor: 'SEV3',
    medium: 'SEV3',
    info: 'SEV4',
    low: 'SEV4',
    none: 'SEV4',
  };
  return words[normalized];
}

/** The worst of several severities (SEV1 beats SEV2). */
export function worstSeverity(values: Iterable<Severity | undefined>): Severity | undefined {
  let worst: Severity | undefined;
  for (const value of values) if (value && (!worst || severities.indexOf(value) < severities.indexOf(worst))) worst = value;
  return worst;
}

export const defaultSeverity: Severity = 'SEV3';

/** One alert as the incident keeps it (the Alertmanager fields that matter to the outage). */
export interface IncidentAlert {
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  /** Not sent to the workflow (the API signals slim alerts); kept optional for histories that carry them. */
  annotations?: Record<string, string>;
  startsAt: string;
  /** Set when resolved. */
  endsAt: string | null;
}

/** What an alert source sends to an incident (the `alerts` signal). */
export interface AlertBatch {
  source: IncidentSource;
  /** The alert source's API key, as recorded on the events this batch causes. */
  sentBy: Actor;
  receivedAt: string;
  groupKey: string;
  alerts: IncidentAlert[];
}

/**
 * O2/P5: what an incident merged into another tells its target (the `incident-merge` signal): its
 * alerts, its scope and the scopes already told, the notification key prefixes under which it told
 * users something (so the target's notice skips them), and how it came to be merged.
 */
export interface IncidentMerge {
  kind: 'merge';
  fromCaseId: string;
  fromWorkflowId: string;
  title: string;
  reason: string;
  mergedBy: Actor;
  mergedAt: string;
  /** The earliest start the absorbed incident knew (its own, or of an incident merged into it before). */
  outageStartedAt: string;
  severity: Severity;
  alerts: IncidentAlert[];
  scope: IncidentScope;
  noticedScopes: IncidentScope[];
  /** Prefixes of notification keys under which the absorbed incident (or one it absorbed) told users of the outage. */
  notifiedUnder: string[];
  noticePublishedAt: string | null;
}

/** The messages from outside an incident takes: alert batches (O1/O2) and merges (O2/P5). */
export type IncidentSignal = AlertBatch | IncidentMerge;

/** Alert batches carry no `kind` (recorded histories hold them as they are); a merge does. */
export function isIncidentMerge(signal: IncidentSignal): signal is IncidentMerge {
  return 'kind' in signal && signal.kind === 'merge';
}

/** An incident's case number, e.g. INC-2026-000042. */
export const incidentCaseIdSchema = z
  .string()
  .trim()
  .regex(/^INC-\d{4}-\d{6,}$/, 'must be an incident case id such as INC-2026-000042');

const scopeSchema = z
  .object({
    services: z.array(z.string().trim().min(1).meta(nonBlank).max(64)).max(50).default([]),
    regions: z.array(z.string().trim().min(1).meta(nonBlank).max(64)).max(200).default([]),
  })
  .refine((scope) => scope.services.length > 0 || scope.regions.length > 0, { message: 'name at least one service or region', path: ['services'] })
  .meta(someItems('services', 'regions'));

export const manualIncidentSchema = z.object({
  title: z.string().trim().min(1).meta(nonBlank).max(200),
  description: z.string().max(5000).default(''),
  severity: z.enum(severities).default(defaultSeverity),
  /** O4: when the outage started; the 2-hour notice counts from here. Defaults to now. */
  startedAt: pastInstant(90).optional(),
  scope: scopeSchema,
});
export type ManualIncident = z.infer<typeof manualIncidentSchema>;

const staff = ['agent', 'supervisor'] as const;
const text = (max = 4000) => z.string().trim().min(1).meta(nonBlank).max(max);

export const incidentActions = {
  classify: {
    roles: staff,
    from: ['open', 'resolved'],
    input: z.object({ severity: z.enum(severities), reason: z.string().trim().max(1000).optional() }),
    describe: 'set the severity (O3); alert labels no longer change it',
  },
  'set-scope': {
    roles: staff,
    from: ['open'],
    input: scopeSchema,
    describe: 'set the affected services and regions; alert labels no longer change them',
  },
  'edit-notice': {
    roles: staff,
    from: ['open'],
    input: z.object({ message: text() }),
    describe: 'edit the drafted outage notice before (or after) it is published (O4)',
  },
  'publish-notice': {
    roles: staff,
    from: ['open'],
    input: z.object({}),
    describe: 'publish the outage notice to every affected user now (O4)',
  },
  'post-update': {
    roles: staff,
    from: ['open'],
    input: z.object({ message: text(), notifyUsers: z.boolean().default(false) }),
    describe: 'record a progress update (O5); optionally tell affected users',
  },
  resolve: {
    roles: staff,
    from: ['open'],
    input: z.object({ summary: text(), endedAt: z.iso.datetime({ offset: true }).optional() }),
    // New requests date the end from 1970 on (instantSince1970); `input` keeps what was recorded.
    request: z.object({ summary: text(), endedAt: instantSince1970().optional() }),
    describe: 'service is restored (O7): recovery notice and remedies to every affected user',
  },
  'approve-remedies': {
    roles: ['supervisor'],
    from: ['resolved'],
    input: z.object({ note: z.string().trim().max(2000).optional() }),
    describe: 'a supervisor approves the remedies above the approval threshold that wait; each is paid once and its customer told (P4)',
  },
  'submit-review': {
    roles: staff,
    from: ['resolved'],
    input: z.object({ summary: text(8000), rootCause: text(), followUps: z.array(text(500)).max(50).default([]) }),
    describe: 'submit the post-incident review (O6); the incident closes',
  },
  dismiss: {
    roles: ['supervisor'],
    from: ['open'],
    input: z.object({
      reason: text(2000),
      /** What users who were already told read in the correction (optional; the template says the rest). */
      message: text().optional(),
    }),
    describe: 'close a false alarm (O2/P5): no remedies, no recovery notice; users already told get a correction',
  },
  merge: {
    roles: ['supervisor'],
    from: ['open'],
    input: z.object({
      /** The open incident that takes this one over. */
      into: incidentCaseIdSchema,
      reason: text(2000),
    }),
    describe:
      'merge this incident into another open one (O2/P5): this one closes without a recovery notice or remedies; the target takes its alerts, ' + 'alert group and scope, and tells nobody twice',
  },
} satisfies ActionTable<IncidentStatus>;

export type IncidentAction = ActionUnion<typeof incidentActions>;

export function incidentNextStep(status: IncidentStatus, noticePublished: boolean, noticeHeld = false): string | null {
  switch (status) {
    case 'open':
      if (noticePublished) return 'Ops repair the outage and post updates';
      // O4: the notice was due but nobody is in scope: it waits for the scope, not for a publish.
      return noticeHeld ? 'Ops set the scope (set-scope): the outage notice reaches nobody yet' : 'Ops review and publish the outage notice to affected users';
    case 'resolved':
      return 'Ops write and submit the post-incident review';
    case 'closed':
      return null;
  }
}

/**
 * O2: the dedup key of an alert group. Alertmanager's `groupKey` (and Grafana's, whose alerting is
 * built on Alertmanager) identifies one aggregation group (route + group_by label values) and is
 * identical on every (re-)send of that group, whatever alerts join or leave it; the source prefix
 * keeps the sources from colliding. An open incident owns its key until it resolves; the next
 * outage of the same group opens a new one.
 */
export function alertGroupDedupKey(source: AlertSource, groupKey: string): string {
  return `${source}|${groupKey}`;
}

/** "2 h 05 min" / "2小时5分钟": an outage's length as users read it. */
export function formatDuration(minutes: number, locale: 'zh-CN' | 'en'): string {
  const whole = Math.max(0, Math.round(minutes));
  const days = Math.floor(whole / 1440);
  const hours = Math.floor((whole % 1440) / 60);
  const rest = whole % 60;
  if (locale === 'en') return [days ? `${days} d` : '', hours ? `${hours} h` : '', `${rest} min`].filter(Boolean).join(' ');
  return [days ? `${days}天` : '', hours ? `${hours}小时` : '', `${rest}分钟`].join('');
}
