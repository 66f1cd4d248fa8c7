import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import type postgres from 'postgres';
import { caseWorkflowId, formatCaseId } from '../../domain/case-types';
import type { Actor } from '../../domain/actors';
import { alertGroupDedupKey, defaultSeverity, severityFromLabel, worstSeverity, type AlertBatch, type AlertSource, type IncidentAlert } from '../../domain/incident';
import type { IncidentInput } from '../../workflows/incident';
import { alertsSignal } from '../../workflows/incident-messages';
import { caseStaticSummary, initialCaseSearchAttributes } from '../../workflows/search-attributes';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { errorBodySchema } from '../errors';
import { newRouter } from '../router';
import { bearer } from '../schemas';
import { clockSkewToleranceMs } from '../../domain/instants';
import { pinnedIncidentTerms, yearIn } from './incidents';

const labelSet = z.record(z.string().max(200), z.string().max(2000));
// Go's zero time: what Alertmanager (and Grafana) send as endsAt for an alert with no end yet.
const goZeroTime = /^0001-01-01T00:00:00/;

/** The alert fields Pledge reads, the same in Alertmanager's and Grafana's webhooks. */
const alertFields = {
  status: z.enum(['firing', 'resolved']),
  labels: labelSet.refine((labels) => Object.keys(labels).length > 0, 'an alert needs at least one label'),
  annotations: labelSet.default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.union([z.iso.datetime({ offset: true }), z.literal('')]).default(''),
  generatorURL: z.string().max(2000).optional(),
  fingerprint: z.string().min(1).max(128),
};

/** The group fields of an Alertmanager-style webhook, around its kind of alert. */
const alertGroupFields = <Alert extends z.ZodType>(alert: Alert) => ({
  groupKey: z.string().min(1).max(4000),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(200).default(''),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().max(2000).optional(),
  alerts: z.array(alert).min(1).max(1000),
});

/** Checks across fields of every alert: no start in the future, a resolved alert has a sane end. */
function checkAlertTimes(payload: { alerts: { status: 'firing' | 'resolved'; startsAt: string; endsAt: string }[] }, context: z.RefinementCtx) {
  const nowMs = Date.now();
  payload.alerts.forEach((alert, index) => {
    const startsAtMs = Date.parse(alert.startsAt);
    if (startsAtMs > nowMs + clockSkewToleranceMs) context.addIssue({ code: 'custom', path: ['alerts', index, 'startsAt'], message: 'lies in the future' });
    if (alert.status === 'resolved') {
      if (!alert.endsAt || goZeroTime.test(alert.endsAt)) context.addIssue({ code: 'custom', path: ['alerts', index, 'endsAt'], message: 'a resolved alert needs its end time' });
      else if (Date.parse(alert.endsAt) < startsAtMs) context.addIssue({ code: 'custom', path: ['alerts', index, 'endsAt'], message: 'is before startsAt' });
    }
  });
}

/** Prometheus Alertmanager's webhook payload, version 4. */
const alertmanagerPayloadSchema = z
  .object({
    version: z.literal('4', { message: "only Alertmanager webhook payload version '4' is understood" }),
    ...alertGroupFields(z.object(alertFields)),
  })
  .superRefine(checkAlertTimes)
  .openapi('AlertmanagerWebhook');

const grafanaAlertSchema = z.object({
  ...alertFields,
  silenceURL: z.string().max(16000).optional(),
  dashboardURL: z.string().max(2000).optional(),
  panelURL: z.string().max(2000).optional(),
  imageURL: z.string().max(2000).optional(),
  /** The rule's query and expression values at evaluation time; null when there are none. */
  values: z.record(z.string().max(200), z.number().nullable()).nullable().optional(),
  valueString: z.string().max(100_000).optional(),
});

/** Grafana unified alerting's webhook contact point payload, version 1 (Alertmanager's, plus Grafana's fields). */
const grafanaPayloadSchema = z
  .object({
    version: z.literal('1', { message: "only Grafana webhook payload version '1' is understood" }),
    orgId: z.number().int().min(0).optional(),
    ...alertGroupFields(grafanaAlertSchema),
    title: z.string().max(100_000).optional(),
    state: z.string().max(50).optional(),
    message: z.string().max(1_000_000).optional(),
  })
  .superRefine(checkAlertTimes)
  .openapi('GrafanaWebhook');

const incidentRefSchema = z.object({ caseId: z.string(), workflowId: z.string(), created: z.boolean() }).openapi('IncidentRef');

const webhookResponses = {
  202: { description: 'Accepted: the incidents the alerts were delivered to', content: { 'application/json': { schema: z.object({ incidents: z.array(incidentRefSchema) }) } } },
  400: { description: 'Not JSON', content: { 'application/json': { schema: errorBodySchema } } },
  422: { description: 'A field of the payload is invalid (nothing was applied)', content: { 'application/json': { schema: errorBodySchema } } },
} as const;

const receiveAlertmanager = createRoute({
  method: 'post',
  path: '/v1/alerts/alertmanager',
  tags: ['alerts'],
  summary: 'Prometheus Alertmanager webhook (O1, O2): one incident per alert group, however often it is sent',
  description:
    'Point an Alertmanager webhook receiver here with a bearer token of the alert-source role. Firing alerts of a group open one incident ' +
    '(or join the one open for the group); resolved alerts end it. Re-sends, repeats and concurrent posts never open a second incident.',
  security: bearer,
  middleware: [requireRole('alert-source')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: alertmanagerPayloadSchema } } } },
  responses: webhookResponses,
});

const receiveGrafana = createRoute({
  method: 'post',
  path: '/v1/alerts/grafana',
  tags: ['alerts'],
  summary: 'Grafana alerting webhook contact point (O1, O2): one incident per alert group, however often it is sent',
  description:
    'Point a Grafana unified alerting contact point of type Webhook here (HTTP method POST, header `Authorization: Bearer <key>` with a key of ' +
    'the alert-source role). The payload is Grafana\'s webhook version 1. Handled exactly as the Alertmanager webhook, under its own dedup key ' +
    '`grafana|<groupKey>`: firing alerts of a notification group open one incident (or join the one open for the group); resolved alerts end it; ' +
    'the `severity` label sets the severity. Re-sends, repeats and concurrent posts never open a second incident, and an Alertmanager group ' +
    'never joins a Grafana incident.',
  security: bearer,
  middleware: [requireRole('alert-source')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: grafanaPayloadSchema } } } },
  responses: webhookResponses,
});

const isoOf = (value: string) => new Date(value).toISOString();

/**
 * O2: ties every alert to one incident, in one transaction serialised per alert group:
 * - an alert (fingerprint + startsAt) seen before stays with its incident for good;
 * - any other alert joins the group's open incident, or opens a new one (a case number from
 *   case_number_seq) that owns the group until it resolves.
 */
async function assignAlerts(sql: postgres.Sql, source: AlertSource, dedupKey: string, alerts: IncidentAlert[], year: number) {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${dedupKey}, 0))`;
    const known = await tx<{ fingerprint: string; starts_at: Date; case_id: string }[]>`
      select fingerprint, starts_at, case_id from incident_alerts
      where source = ${source} and fingerprint = any(${alerts.map((alert) => alert.fingerprint)}::text[])`;
    const knownCase = (alert: IncidentAlert) =>
      known.find((row) => row.fingerprint === alert.fingerprint && row.starts_at.toISOString() === alert.startsAt)?.case_id;
    const unknown = alerts.filter((alert) => !knownCase(alert));
    let openCaseId: string | undefined;
    let created = false;
    if (unknown.length > 0) {
      [{ case_id: openCaseId } = { case_id: undefined }] = await tx<{ case_id: string }[]>`
        select case_id from incident_alert_groups where dedup_key = ${dedupKey} and closed_at is null`;
      if (!openCaseId) {
        const [row] = await tx<{ n: string }[]>`select nextval('case_number_seq') as n`;
        openCaseId = formatCaseId('incident', year, Number(row!.n));
        // The partial unique index refuses a second open incident for the group, whatever happens to the lock.
        await tx`insert into incident_alert_groups (case_id, dedup_key) values (${openCaseId}, ${dedupKey})`;
        created = true;
      }
      await tx`
        insert into incident_alerts (source, fingerprint, starts_at, case_id)
        select ${source}::text, fingerprint, starts_at, ${openCaseId}
        from unnest(${unknown.map((alert) => alert.fingerprint)}::text[], ${unknown.map((alert) => alert.startsAt)}::timestamptz[]) as a(fingerprint, starts_at)
        on conflict do nothing`;
    }
    const byCase = new Map<string, IncidentAlert[]>();
    for (const alert of alerts) {
      const caseId = knownCase(alert) ?? openCaseId!;
      byCase.set(caseId, [...(byCase.get(caseId) ?? []), alert]);
    }
    return { byCase, createdCaseId: created ? openCaseId : undefined };
  });
}

/** What both webhooks carry that the mapping reads: one alert group of one source. */
interface AlertGroupPost {
  groupKey: string;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  alerts: { fingerprint: string; status: 'firing' | 'resolved'; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string }[];
}

/**
 * O1, O2: delivers an alert group of any alert source to its incidents: the mapping (assignAlerts)
 * under the source's dedup key, then signal-with-start of each incident it names.
 */
async function deliverAlertGroup(deps: ApiDeps, source: AlertSource, sentBy: Actor, payload: AlertGroupPost) {
  const receivedAt = new Date().toISOString();
  const alerts: IncidentAlert[] = payload.alerts.map((alert) => ({
    fingerprint: alert.fingerprint,
    status: alert.status,
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: isoOf(alert.startsAt),
    endsAt: alert.status === 'resolved' ? isoOf(alert.endsAt) : null,
  }));
  const dedupKey = alertGroupDedupKey(source, payload.groupKey);
  const { byCase, createdCaseId } = await assignAlerts(deps.sql, source, dedupKey, alerts, yearIn(deps.policies.timeZone, Date.now()));
  const terms = await pinnedIncidentTerms(deps);
  const incidents = [];
  for (const [caseId, caseAlerts] of byCase) {
    const workflowId = caseWorkflowId('incident', caseId);
    const batch: AlertBatch = { source, sentBy, receivedAt, groupKey: payload.groupKey, alerts: caseAlerts };
    const annotations = { ...payload.commonAnnotations, ...caseAlerts[0]!.annotations };
    const labels = { ...payload.commonLabels, ...caseAlerts[0]!.labels };
    const input: IncidentInput = {
      caseId,
      source,
      dedupKey,
      title: (annotations.summary ?? annotations.title ?? labels.alertname ?? 'Service interruption').slice(0, 200),
      description: (annotations.description ?? '').slice(0, 5000),
      // O4: the outage started when its first alert started, not when Pledge heard of it.
      startedAt: new Date(Math.min(...caseAlerts.map((alert) => Date.parse(alert.startsAt)))).toISOString(),
      severity: null,
      scope: null,
      openedBy: sentBy,
      ...terms,
    };
    const severity = worstSeverity(caseAlerts.map((alert) => severityFromLabel(alert.labels.severity))) ?? defaultSeverity;
    try {
      // Signal-with-start: opens the incident on its first alerts, joins it on every later post.
      await deps.temporal.workflow.signalWithStart('incident', {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [input],
        signal: alertsSignal,
        signalArgs: [batch],
        // A finished incident is never started again under its number.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: initialCaseSearchAttributes({ type: 'incident', customerId: null, priority: severity }),
        staticSummary: caseStaticSummary('incident', caseId, input.title),
      });
    } catch (error) {
      // The incident these alerts belong to is already closed: nothing is left to apply.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    incidents.push({ caseId, workflowId, created: caseId === createdCaseId });
  }
  return { incidents };
}

export function alertRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(receiveAlertmanager, async (c) => c.json(await deliverAlertGroup(deps, 'alertmanager', c.get('actor'), c.req.valid('json')), 202))
    .openapi(receiveGrafana, async (c) => c.json(await deliverAlertGroup(deps, 'grafana', c.get('actor'), c.req.valid('json')), 202));
}
