import { createRoute, z } from '@hono/zod-openapi';
import { listOutagesOverlapping } from '../../db/incident-outages';
import { monthlyAvailability, monthPeriod } from '../../domain/incident-availability';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { errorBodySchema } from '../errors';
import { newRouter } from '../router';
import { bearer } from '../schemas';
import { nonBlank } from '../../domain/case-actions';

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
      service: z.string().trim().min(1).meta(nonBlank).max(64).openapi({ example: 'broadband' }),
      month: z
        .string()
        .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM')
        .openapi({ example: '2026-11' }),
      region: z.string().trim().min(1).meta(nonBlank).max(64).optional().openapi({ description: 'Only outages that reached this region' }),
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
    const outages = await listOutagesOverlapping(deps.sql, { service, region, start: new Date(startMs), end: new Date(endMs) });
    return c.json({ service, region: region ?? null, ...monthlyAvailability(month, deps.policies.timeZone, outages, Date.now()) }, 200);
  });
}
