import { createRoute, z } from '@hono/zod-openapi';
import { loadWorkingCalendar } from '../../config/calendar';
import { manualIncidentSchema } from '../../domain/incident';
import { calendarForYears } from '../../domain/working-calendar';
import type { IncidentInput } from '../../workflows/incident';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { errorBodySchema } from '../errors';
import { openCase } from '../open-case';
import { newRouter } from '../router';
import { bearer, caseStateSchema } from '../schemas';

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
    body: { required: true, content: { 'application/json': { schema: manualIncidentSchema.openapi('IncidentIntake') } } },
  },
  responses: {
    201: { description: 'Opened (or the same incident again for a repeated Idempotency-Key)', content: { 'application/json': { schema: caseStateSchema } } },
    422: { description: 'Invalid field', content: { 'application/json': { schema: errorBodySchema } } },
  },
});

export function incidentRoutes(deps: ApiDeps) {
  return newRouter().openapi(createIncident, async (c) => {
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
