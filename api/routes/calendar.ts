import { createRoute, z } from '@hono/zod-openapi';
import { loadWorkingCalendar } from '../../config/calendar';
import { upsertCalendarYear } from '../../db/calendar-years';
import { listOpenCasesWithProvisionalDeadlines } from '../../db/cases';
import { calendarForYears } from '../../domain/working-calendar';
import { calendarUpdatedSignal } from '../../workflows/protocol';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { newRouter } from '../router';
import { bearer } from '../schemas';

// Declared as what the route accepts: a real date (zod's ISO date pattern: no 2027-02-30, 02-29 in leap years only).
// That it lies in the year of the path is checked by the route (422) and cannot be said in JSON Schema.
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD')
  .meta({ format: 'date', pattern: z.toJSONSchema(z.iso.date()).pattern });

const calendarSchema = z
  .object({
    version: z.string(),
    years: z.array(z.object({ year: z.number(), source: z.string(), holidays: z.number(), adjustedWorkdays: z.number() })),
  })
  .openapi('WorkingCalendar');

const getCalendar = createRoute({
  method: 'get',
  path: '/v1/calendar',
  tags: ['calendar'],
  summary: 'The working-day calendar in force: its version and the years it covers',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor', 'auditor')] as const,
  responses: { 200: { description: 'Calendar', content: { 'application/json': { schema: calendarSchema } } } },
});

const putYear = createRoute({
  method: 'put',
  path: '/v1/calendar/years/{year}',
  tags: ['calendar'],
  summary: "Load a year's official holidays and adjusted working days; open cases with provisional deadlines recompute them",
  security: bearer,
  middleware: [requireRole('supervisor')] as const,
  request: {
    params: z.object({
      year: z.coerce
        .number()
        .int()
        .min(2000)
        .max(2100)
        .openapi({ param: { name: 'year', in: 'path' }, example: 2027 }),
    }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({
              holidays: z.array(isoDate).max(60).openapi({ description: 'Days off that would otherwise be working days' }),
              workdays: z.array(isoDate).max(30).openapi({ description: 'Weekend days that are working days (调休)' }),
            })
            .openapi('CalendarYear'),
        },
      },
    },
  },
  responses: {
    200: { description: 'Loaded', content: { 'application/json': { schema: z.object({ version: z.string(), casesRecomputed: z.number() }) } } },
    422: { description: 'Invalid field', content: { 'application/json': { schema: errorBodySchema } } },
  },
});

export function calendarRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(getCalendar, async (c) => {
      const calendar = await loadWorkingCalendar(deps.sql);
      const years = Object.entries(calendar.years)
        .map(([year, data]) => ({ year: Number(year), source: data.source, holidays: data.holidays.length, adjustedWorkdays: data.workdays.length }))
        .sort((a, b) => a.year - b.year);
      return c.json({ version: calendar.version, years }, 200);
    })
    .openapi(putYear, async (c) => {
      const { year } = c.req.valid('param');
      const body = c.req.valid('json');
      const outside = (['holidays', 'workdays'] as const).flatMap((list) =>
        body[list].flatMap((date, index) => (date.startsWith(`${year}-`) && !Number.isNaN(Date.parse(date)) ? [] : [{ field: `${list}.${index}`, message: `${date} is not a date in ${year}` }])),
      );
      if (outside.length > 0) throw new ApiError(422, 'invalid_request', `dates must be real dates in ${year}`, outside);
      await upsertCalendarYear(deps.sql, { year, holidays: body.holidays, workdays: body.workdays, loadedBy: c.get('actor').id });
      const calendar = await loadWorkingCalendar(deps.sql);
      // Every open case whose deadlines were provisional gets the new calendar; its timers move.
      const provisional = await listOpenCasesWithProvisionalDeadlines(deps.sql);
      for (const row of provisional) {
        const openedYear = row.openedAt.getUTCFullYear();
        await deps.temporal.workflow.getHandle(row.workflowId).signal(calendarUpdatedSignal, calendarForYears(calendar, openedYear - 1, openedYear + 1));
      }
      return c.json({ version: calendar.version, casesRecomputed: provisional.length }, 200);
    });
}
