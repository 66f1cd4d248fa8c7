import { createRoute, z } from '@hono/zod-openapi';
import { monthlyAvailability, monthPeriod } from '../../domain/incident-availability';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { errorBodySchema } from '../errors';
import { newRouter } from '../router';
import { bearer } from '../schemas';

const availabilitySchema = z
  .object({
    service: z.string(),
    region: z.string().nullable(),
    month: z.string(),
    periodStart: z.string(),
    periodEnd: z.string(),
    minutesInPeriod: z.number(),
    downtimeMinutes: z.number(),
    availabilityPercent: z.number(),
    targetPercent: z.number(),
    met: z.boolean(),
    incidents: z.array(z.string()),
  })
  .openapi('Availability');

const getAvailability = createRoute({
  method: 'get',
  path: '/v1/availability',
  tags: ['incidents'],
  summary: "O9: a service's availability in a month, measured from its incidents (target 99.9 %)",
  security: bearer,
  middleware: [requireRole('agent', 'supervisor', 'auditor')] as const,
  request: {
    query: z.object({
      service: z.string().trim().min(1).max(64).openapi({ example: 'broadband' }),
      month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM').openapi({ example: '2026-11' }),
      region: z.string().trim().min(1).max(64).optional().openapi({ description: 'Only outages that reached this region' }),
    }),
  },
  responses: {
    200: { description: 'Availability', content: { 'application/json': { schema: availabilitySchema } } },
    422: { description: 'Invalid query', content: { 'application/json': { schema: errorBodySchema } } },
  },
});

export function availabilityRoutes(deps: ApiDeps) {
  return newRouter().openapi(getAvailability, async (c) => {
    const { service, month, region } = c.req.valid('query');
    const { startMs, endMs } = monthPeriod(month, deps.policies.timeZone);
    // An outage scoped by region only (no service named) took down every service there.
    const rows = await deps.sql<{ case_id: string; started_at: Date; ended_at: Date | null }[]>`
      select case_id, started_at, ended_at from incident_outages
      where (services && ${[service]}::text[] or cardinality(services) = 0)
        ${region ? deps.sql`and (cardinality(regions) = 0 or ${region} = any(regions))` : deps.sql``}
        and started_at < ${new Date(endMs)} and (ended_at is null or ended_at > ${new Date(startMs)})`;
    const outages = rows.map((row) => ({ caseId: row.case_id, startedAtMs: row.started_at.getTime(), endedAtMs: row.ended_at?.getTime() ?? null }));
    return c.json({ service, region: region ?? null, ...monthlyAvailability(month, deps.policies.timeZone, outages, Date.now()) }, 200);
  });
}
