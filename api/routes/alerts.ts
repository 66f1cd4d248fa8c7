import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/client';
import { createMiddleware } from 'hono/factory';
import { nextCaseNumber } from '../../db/case-numbers';
import { assignAlertGroup, markAlertsDelivered } from '../../db/incident-alerts';
import { caseWorkflowId, formatCaseId } from '../../domain/case-types';
import type { Actor } from '../../domain/actors';
import { alertGroupDedupKey, defaultSeverity, severityFromLabel, worstSeverity, type AlertBatch, type AlertSource, type IncidentAlert } from '../../domain/incident';
import type { IncidentInput } from '../../workflows/incident';
import { alertsSignal } from '../../workflows/incident-messages';
import { caseStaticSummary, initialCaseSearchAttributes } from '../../workflows/search-attributes';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { newRouter } from '../router';
import { bearer } from '../schemas';
import { clockSkewToleranceMs, instantSince1970 } from '../../domain/instants';
import { pinnedIncidentTerms, yearIn } from './incidents';

const labelSet = z.record(z.string().max(200), z.string().max(2000)).meta({ propertyNames: { maxLength: 200 } });
// Go's zero time: what Alertmanager (and Grafana) send as endsAt for an alert with no end yet.
const goZeroTime = /^0001-01-01T00:00:00/;

/** The alert fields Pledge reads, the same in Alertmanager's and Grafana's webhooks. */
const alertFields = {
  status: z.enum(['firing', 'resolved']),
  labels: labelSet.refine((labels) => Object.keys(labels).length > 0, 'an alert needs at least one label').meta({ minProperties: 1 }),
  annotations: labelSet.default({}),
  // From 1970 on (Unix time; alert sources send Unix timestamps); an end may also be empty or Go's zero time (no end yet).
  startsAt: instantSince1970(),
  endsAt: z
    .union([
      instantSince1970(),
      z.literal(''),
      z.iso
        .datetime({ offset: true })
        .regex(goZeroTime)
        .meta({ pattern: `${goZeroTime.source}(?:\\.0+)?Z$` }),
    ])
    .default(''),
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
  // Any number of alerts: a group is never refused for its size (Alertmanager never retries a 4xx);
  // the body is bounded instead (maxAlertPostBytes).
  alerts: z.array(alert).min(1),
});

/**
 * What /openapi.json says of checkAlertTimes: a resolved alert has an end time (not Go's zero time).
 * That startsAt is not in the future and endsAt not before startsAt depends on the clock and on two
 * fields' values, which JSON Schema cannot state; they are refused with 422 naming the field.
 */
const resolvedHasEnd = {
  anyOf: [
    { properties: { status: { const: 'firing' } } },
    { required: ['endsAt'], properties: { endsAt: { type: 'string', format: 'date-time', minLength: 1, not: { pattern: goZeroTime.source } } } },
  ],
};

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

const exampleAlert = { status: 'firing', labels: { alertname: 'LinkDown', service: 'broadband', region: 'shanghai-pudong' }, startsAt: '2026-11-28T08:00:00Z', fingerprint: 'a1b2c3d4' };

/** Prometheus Alertmanager's webhook payload, version 4. */
const alertmanagerPayloadSchema = z
  .object({
    version: z.literal('4', { message: "only Alertmanager webhook payload version '4' is understood" }),
    ...alertGroupFields(z.object(alertFields).meta(resolvedHasEnd)),
  })
  .superRefine(checkAlertTimes)
  .openapi('AlertmanagerWebhook', { example: { version: '4', groupKey: '{}:{alertname="LinkDown"}', status: 'firing', alerts: [exampleAlert] } });

const grafanaAlertSchema = z
  .object({
    ...alertFields,
    silenceURL: z.string().max(16000).optional(),
    dashboardURL: z.string().max(2000).optional(),
    panelURL: z.string().max(2000).optional(),
    imageURL: z.string().max(2000).optional(),
    /** The rule's query and expression values at evaluation time; null when there are none. */
    values: z
      .record(z.string().max(200), z.number().nullable())
      .meta({ propertyNames: { maxLength: 200 } })
      .nullable()
      .optional(),
    valueString: z.string().max(100_000).optional(),
  })
  .meta(resolvedHasEnd);

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
  .openapi('GrafanaWebhook', { example: { version: '1', groupKey: '{}:{alertname="LinkDown"}', status: 'firing', alerts: [exampleAlert] } });

const incidentRefSchema = z.object({ caseId: z.string(), workflowId: z.string(), created: z.boolean() }).openapi('IncidentRef');

/** The largest alert post accepted: some 20,000 alerts of a usual size. */
export const maxAlertPostBytes = 10 * 1024 * 1024;

const webhookResponses = {
  202: { description: 'Accepted: the incidents the alerts were delivered to', content: { 'application/json': { schema: z.object({ incidents: z.array(incidentRefSchema) }) } } },
  400: { description: 'Not JSON', content: { 'application/json': { schema: errorBodySchema } } },
  413: { description: `The body is larger than ${maxAlertPostBytes / 1024 / 1024} MB (nothing was applied)`, content: { 'application/json': { schema: errorBodySchema } } },
  422: { description: 'A field of the payload is invalid (nothing was applied)', content: { 'application/json': { schema: errorBodySchema } } },
} as const;

const sizeNote =
  ` A group may hold any number of alerts, in a body of at most ${maxAlertPostBytes / 1024 / 1024} MB (413 beyond). Only what changed since ` +
  'the previous posts (a new alert, a status or end change) is passed on to the incident, so a re-send with nothing new costs it nothing.';

/** 413 for a body over maxAlertPostBytes, by its declared length or, without one, its actual length. */
const limitAlertPostSize = createMiddleware(async (c, next) => {
  const declared = c.req.header('content-length');
  const size = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : Buffer.byteLength(await c.req.text());
  if (size > maxAlertPostBytes) {
    throw new ApiError(413, 'payload_too_large', `an alert post may be at most ${maxAlertPostBytes} bytes; this one is ${size}`, [{ field: '(body)', message: 'too large' }]);
  }
  await next();
});

const receiveAlertmanager = createRoute({
  method: 'post',
  path: '/v1/alerts/alertmanager',
  tags: ['alerts'],
  summary: 'Prometheus Alertmanager webhook (O1, O2): one incident per alert group, however often it is sent',
  description:
    'Point an Alertmanager webhook receiver here with a bearer token of the alert-source role. Firing alerts of a group open one incident ' +
    '(or join the one open for the group); resolved alerts end it. Re-sends, repeats and concurrent posts never open a second incident.' +
    sizeNote,
  security: bearer,
  middleware: [requireRole('alert-source'), limitAlertPostSize] as const,
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
    "the alert-source role). The payload is Grafana's webhook version 1. Handled exactly as the Alertmanager webhook, under its own dedup key " +
    '`grafana|<groupKey>`: firing alerts of a notification group open one incident (or join the one open for the group); resolved alerts end it; ' +
    'the `severity` label sets the severity. Re-sends, repeats and concurrent posts never open a second incident, and an Alertmanager group ' +
    'never joins a Grafana incident.' +
    sizeNote,
  security: bearer,
  middleware: [requireRole('alert-source'), limitAlertPostSize] as const,
  request: { body: { required: true, content: { 'application/json': { schema: grafanaPayloadSchema } } } },
  responses: webhookResponses,
});

const isoOf = (value: string) => new Date(value).toISOString();

/** The labels an incident reads from its alerts: severity (O3) and scope (services, regions). */
const signalledLabels = ['severity', 'service', 'services', 'region', 'regions'] as const;

/** An alert as the incident is told of it: its identity, state and the labels it reads; no annotations. */
export function slimAlert(alert: IncidentAlert): IncidentAlert {
  const labels: Record<string, string> = {};
  for (const name of signalledLabels) if (alert.labels[name] !== undefined) labels[name] = alert.labels[name];
  return { fingerprint: alert.fingerprint, status: alert.status, startsAt: alert.startsAt, endsAt: alert.endsAt, labels };
}

/** Temporal warns on payloads over 256 KB and refuses them at 2 MB; the `alerts` signals stay under the first. */
export const maxSignalBytes = 256 * 1024;

/**
 * Splits alerts into batches whose JSON stays within `maxBytes` each, firing alerts first: the
 * incident resolves when no alert it knows is firing, so a post that starts some alerts and ends
 * others must never let the ending arrive first.
 */
export function splitAlertBatches(envelope: Omit<AlertBatch, 'alerts'>, alerts: readonly IncidentAlert[], maxBytes = maxSignalBytes): AlertBatch[] {
  const ordered = [...alerts.filter((alert) => alert.status === 'firing'), ...alerts.filter((alert) => alert.status !== 'firing')];
  const emptyBytes = Buffer.byteLength(JSON.stringify({ ...envelope, alerts: [] }));
  const batches: AlertBatch[] = [];
  let current: IncidentAlert[] = [];
  let bytes = emptyBytes;
  for (const alert of ordered) {
    // Each alert after the first also costs its comma.
    const size = Buffer.byteLength(JSON.stringify(alert)) + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && bytes + size > maxBytes) {
      batches.push({ ...envelope, alerts: current });
      current = [];
      bytes = emptyBytes;
      bytes += size - 1;
    } else bytes += size;
    current.push(alert);
  }
  if (current.length > 0) batches.push({ ...envelope, alerts: current });
  return batches;
}

/** What both webhooks carry that the mapping reads: one alert group of one source. */
interface AlertGroupPost {
  groupKey: string;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  alerts: { fingerprint: string; status: 'firing' | 'resolved'; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string }[];
}

/**
 * O1, O2: delivers an alert group of any alert source to its incidents. The mapping
 * (assignAlertGroup, serialised per group) ties each alert to an incident and says what changed
 * since the last delivery; only that is signalled, slimmed and split into signals of at most 256 KB.
 * The first signal of an incident is a signal-with-start, so an incident whose number was given
 * by a post that failed before starting it is started by the next post. An alert counts as
 * delivered only once its signal succeeded, so a failed post is repeated in full by the next.
 */
async function deliverAlertGroup(deps: ApiDeps, source: AlertSource, sentBy: Actor, payload: AlertGroupPost) {
  const receivedAt = new Date().toISOString();
  const alerts = payload.alerts.map((alert) => ({
    fingerprint: alert.fingerprint,
    status: alert.status,
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: isoOf(alert.startsAt),
    endsAt: alert.status === 'resolved' ? isoOf(alert.endsAt) : null,
  }));
  const dedupKey = alertGroupDedupKey(source, payload.groupKey);
  const year = yearIn(deps.policies.timeZone, Date.now());
  const { assignments, createdCaseId } = await assignAlertGroup(deps.sql, {
    source,
    dedupKey,
    alerts,
    newCaseId: async (tx) => formatCaseId('incident', year, await nextCaseNumber(tx)),
  });
  const byCase = new Map<string, { all: IncidentAlert[]; changed: IncidentAlert[] }>();
  for (const { alert, caseId, changed } of assignments) {
    const entry = byCase.get(caseId) ?? { all: [], changed: [] };
    entry.all.push(alert);
    if (changed) entry.changed.push(alert);
    byCase.set(caseId, entry);
  }
  const incidents = [];
  for (const [caseId, caseAlerts] of byCase) {
    const workflowId = caseWorkflowId('incident', caseId);
    incidents.push({ caseId, workflowId, created: caseId === createdCaseId });
    if (caseAlerts.changed.length === 0) continue;
    const batches = splitAlertBatches({ source, sentBy, receivedAt, groupKey: payload.groupKey }, caseAlerts.changed.map(slimAlert));
    for (const [index, batch] of batches.entries()) {
      try {
        if (index === 0) await signalWithStart(deps, { caseId, workflowId, source, dedupKey, sentBy, payload, caseAlerts: caseAlerts.all, batch });
        else await deps.temporal.workflow.getHandle(workflowId).signal(alertsSignal, batch);
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError || error instanceof WorkflowNotFoundError)) throw error;
        // The incident these alerts belong to is already closed: nothing is left to apply, and nothing to send again.
        await markAlertsDelivered(
          deps.sql,
          source,
          caseId,
          batches.slice(index).flatMap((rest) => rest.alerts),
        );
        break;
      }
      await markAlertsDelivered(deps.sql, source, caseId, batch.alerts);
    }
  }
  return { incidents };
}

/** Signal-with-start: opens the incident on its first alerts, joins it on every later post. */
async function signalWithStart(
  deps: ApiDeps,
  context: { caseId: string; workflowId: string; source: AlertSource; dedupKey: string; sentBy: Actor; payload: AlertGroupPost; caseAlerts: IncidentAlert[]; batch: AlertBatch },
): Promise<void> {
  const { caseId, payload, caseAlerts } = context;
  const annotations = { ...payload.commonAnnotations, ...caseAlerts[0]!.annotations };
  const labels = { ...payload.commonLabels, ...caseAlerts[0]!.labels };
  const input: IncidentInput = {
    caseId,
    source: context.source,
    dedupKey: context.dedupKey,
    title: (annotations.summary ?? annotations.title ?? labels.alertname ?? 'Service interruption').slice(0, 200),
    description: (annotations.description ?? '').slice(0, 5000),
    // O4: the outage started when its first alert started, not when Pledge heard of it.
    startedAt: new Date(Math.min(...caseAlerts.map((alert) => Date.parse(alert.startsAt)))).toISOString(),
    severity: null,
    scope: null,
    openedBy: context.sentBy,
    ...(await pinnedIncidentTerms(deps)),
  };
  const severity = worstSeverity(caseAlerts.map((alert) => severityFromLabel(alert.labels.severity))) ?? defaultSeverity;
  await deps.temporal.workflow.signalWithStart('incident', {
    taskQueue: deps.taskQueue,
    workflowId: context.workflowId,
    args: [input],
    signal: alertsSignal,
    signalArgs: [context.batch],
    // A finished incident is never started again under its number.
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    typedSearchAttributes: initialCaseSearchAttributes({ type: 'incident', customerId: null, priority: severity }),
    staticSummary: caseStaticSummary('incident', caseId, input.title),
  });
}

export function alertRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(receiveAlertmanager, async (c) => c.json(await deliverAlertGroup(deps, 'alertmanager', c.get('actor'), c.req.valid('json')), 202))
    .openapi(receiveGrafana, async (c) => c.json(await deliverAlertGroup(deps, 'grafana', c.get('actor'), c.req.valid('json')), 202));
}
