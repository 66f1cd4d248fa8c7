import { createRoute, z } from '@hono/zod-openapi';
import { loadWorkingCalendar } from '../../config/calendar';
import { findRecordedCaseState } from '../../db/cases';
import { messageDelivery } from '../../db/notifications';
import { manualIncidentSchema } from '../../domain/incident';
import { calendarForYears } from '../../domain/working-calendar';
import type { IncidentInput } from '../../workflows/incident';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { openCase } from '../open-case';
import { newRouter } from '../router';
import { bearer, caseIdParams, caseStateSchema } from '../schemas';

export function yearIn(timeZone: string, atMs: number): number {
  return Number(new Intl.DateTimeFormat('en', { timeZone, year: 'numeric' }).format(new Date(atMs)));
}

/** What every incident pins when it opens: policies, zone, and the calendar years it can reach (O6). */
export async function pinnedIncidentTerms(deps: ApiDeps): Promise<Pick<IncidentInput, 'policy' | 'compensation' | 'timeZone' | 'calendar'>> {
  const year = yearIn(deps.policies.timeZone, Date.now());
  const calendar = calendarForYears(await loadWorkingCalendar(deps.sql), year, year + 1);
  return { policy: deps.policies.incident, compensation: deps.policies.compensation, timeZone: deps.policies.timeZone, calendar };
}

const createIncident = createRoute({
  method: 'post',
  path: '/v1/incidents',
  tags: ['incidents'],
  summary: 'Open an incident by hand (O1): its notice, repair and review clocks start from the outage start',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: {
    headers: z.object({
      'idempotency-key': z.string().min(1).max(200).optional().openapi({ description: 'Retries with the same key return the same incident' }),
    }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: manualIncidentSchema.openapi('IncidentIntake', { example: { title: 'Fibre cut in Pudong', severity: 'SEV2', scope: { services: ['broadband'], regions: ['shanghai-pudong'] } } }),
        },
      },
    },
  },
  responses: {
    201: { description: 'Opened (or the same incident again for a repeated Idempotency-Key)', content: { 'application/json': { schema: caseStateSchema } } },
    422: { description: 'Invalid field', content: { 'application/json': { schema: errorBodySchema } } },
  },
});

const deliverySchema = z
  .object({
    caseId: z.string(),
    deadline: z.string().nullable().openapi({ description: 'O4: when everyone in scope must have been told (the notice clock)' }),
    recipients: z.number().openapi({ description: 'Customers the outage notice was queued for' }),
    told: z.number().openapi({ description: 'Customers it reached: by SMS receipt or SMTP acceptance, or in the inbox when that is their only channel' }),
    toldByDeadline: z.number().nullable(),
    shareToldByDeadline: z.number().nullable().openapi({ description: 'toldByDeadline / recipients; null before any notice was queued', example: 0.998 }),
    notYetTold: z.number(),
    unreachable: z.number().openapi({ description: 'Customers on whose every external channel the notice failed or could not be sent' }),
    lastToldAt: z.string().nullable(),
    byChannel: z.array(z.object({ channel: z.string(), status: z.string(), count: z.number() })),
  })
  .openapi('NoticeDelivery');

const noticeDelivery = createRoute({
  method: 'get',
  path: '/v1/incidents/{caseId}/delivery',
  tags: ['incidents'],
  summary: 'O4: who the outage notice reached and when, measured at delivery, and the share told by the 2-hour deadline',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor', 'auditor')] as const,
  request: { params: caseIdParams },
  responses: {
    200: { description: 'Delivery of the outage notice', content: { 'application/json': { schema: deliverySchema } } },
    404: { description: 'No such incident', content: { 'application/json': { schema: errorBodySchema } } },
  },
});

export function incidentRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(noticeDelivery, async (c) => {
      const { caseId } = c.req.valid('param');
      const state = await findRecordedCaseState(deps.sql, caseId);
      if (!state || state.type !== 'incident') throw new ApiError(404, 'case_not_found', `no incident ${caseId}`);
      const deadline = state.deadlines.find((clock) => clock.name === 'notice')?.dueAt ?? null;
      const delivery = await messageDelivery(deps.sql, { caseId, templates: ['incident.outage-notice'], deadline });
      return c.json(
        {
          caseId,
          deadline,
          recipients: delivery.recipients,
          told: delivery.told,
          toldByDeadline: delivery.toldBy,
          shareToldByDeadline: delivery.recipients > 0 && delivery.toldBy !== null ? delivery.toldBy / delivery.recipients : null,
          notYetTold: delivery.notYetTold,
          unreachable: delivery.unreachable,
          lastToldAt: delivery.lastToldAt,
          byChannel: delivery.byChannel,
        },
        200,
      );
    })
    .openapi(createIncident, async (c) => {
      const intake = c.req.valid('json');
      const idempotencyKey = c.req.valid('header')['idempotency-key'];
      const now = Date.now();
      const startedAtMs = intake.startedAt ? Date.parse(intake.startedAt) : now;
      const terms = await pinnedIncidentTerms(deps);
      const opened = await openCase(
        { temporal: deps.temporal, sql: deps.sql, taskQueue: deps.taskQueue, timeZone: deps.policies.timeZone },
        {
          type: 'incident',
          body: intake,
          idempotencyKey,
          customerId: null,
          priority: intake.severity,
          title: intake.title,
          buildInput: (caseId): IncidentInput => ({
            caseId,
            source: 'manual',
            dedupKey: null,
            title: intake.title,
            description: intake.description,
            startedAt: new Date(startedAtMs).toISOString(),
            severity: intake.severity,
            scope: intake.scope,
            openedBy: c.get('actor'),
            ...terms,
          }),
        },
      );
      if (opened.replayed) c.header('Idempotent-Replayed', 'true');
      return c.json(opened.state, 201);
    });
}
