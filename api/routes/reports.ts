import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { DateTime } from 'luxon';
import { readFileSync } from 'node:fs';
import { listOutagesOverlapping } from '../../db/incident-outages';
import { casesOpenedAndClosed, clockReport, complaintsByCategory, remediesPaid, satisfactionByMonth, servicesWithOutages, type ClockReportRow } from '../../db/reports';
import { caseTypes } from '../../domain/case-types';
import { availabilityTargetPercent, monthlyAvailability } from '../../domain/incident-availability';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { newRouter } from '../router';
import { bearer } from '../schemas';

// D7, D8, C10, O9: the SLA report and the quarterly transparency report, as JSON or CSV.

/** C10: the satisfaction target (g1). */
const satisfactionTargetPercent = 90;

const csvQuery = z.object({ format: z.enum(['json', 'csv']).optional().openapi({ description: 'Or send `Accept: text/csv`' }) });

const clockRowSchema = z
  .object({
    caseType: z.string(),
    clock: z.string(),
    priority: z.string().nullable(),
    started: z.number(),
    metOnTime: z.number(),
    metLate: z.number(),
    breached: z.number(),
    stillRunning: z.number(),
    compliancePercent: z.number().nullable(),
    medianSecondsToMeet: z.number().nullable(),
    p90SecondsToMeet: z.number().nullable(),
  })
  .openapi('ClockReportRow');

const instant = z.iso.datetime({ offset: true });

const slaReport = createRoute({
  method: 'get',
  path: '/v1/reports/sla',
  tags: ['reports'],
  summary: 'D8: every SLA clock started in [from, to), by case type, clock and priority — met on time, late, breached, compliance %, median and p90 time to meet it',
  security: bearer,
  middleware: [requireRole('supervisor', 'auditor')] as const,
  request: {
    query: csvQuery.extend({
      from: instant.openapi({ example: '2026-10-01T00:00:00+08:00' }),
      to: instant.openapi({ example: '2027-01-01T00:00:00+08:00' }),
      caseType: z.enum(caseTypes).optional(),
    }),
  },
  responses: {
    200: {
      description: 'The report (CSV with `Accept: text/csv` or `format=csv`)',
      content: {
        'application/json': { schema: z.object({ from: z.string(), to: z.string(), clocks: z.array(clockRowSchema) }).openapi('SlaReport') },
        'text/csv': { schema: z.string() },
      },
    },
    422: { description: 'Invalid query', content: { 'application/json': { schema: errorBodySchema } } },
  },
});

const transparencySchema = z
  .object({
    quarter: z.string(),
    from: z.string(),
    to: z.string(),
    complaints: z.object({
      byCategory: z.array(z.object({ category: z.string(), opened: z.number(), resolved: z.number() })),
      opened: z.number(),
      resolutionRatePercent: z.number().nullable(),
      firstResponseCompliancePercent: z.number().nullable(),
      resultCompliancePercent: z.number().nullable(),
    }),
    satisfaction: z.array(z.object({ month: z.string(), ratings: z.number(), satisfiedPercent: z.number().nullable(), targetPercent: z.number(), met: z.boolean().nullable() })),
    outages: z.array(
      z.object({ service: z.string(), incidents: z.number(), availability: z.array(z.object({ month: z.string(), availabilityPercent: z.number(), downtimeMinutes: z.number(), met: z.boolean() })) }),
    ),
    availabilityTargetPercent: z.number(),
    remedies: z.array(z.object({ kind: z.string(), currency: z.string(), payments: z.number(), reversals: z.number(), netAmountCents: z.number() })),
    dataRequests: z.object({ opened: z.number(), closed: z.number(), compliancePercent: z.number().nullable() }),
    operatorStatements: z
      .object({ dataUse: z.string().nullable(), privacyPolicy: z.string().nullable(), securityAudit: z.string().nullable() })
      .openapi({ description: 'D7: from PLEDGE_TRANSPARENCY_FILE; null where the operator supplied nothing' }),
  })
  .openapi('TransparencyReport');

const transparencyReport = createRoute({
  method: 'get',
  path: '/v1/reports/transparency',
  tags: ['reports'],
  summary: 'D7: the quarterly transparency report — complaints, response times, resolution, satisfaction, outages and availability, compensation, data requests, and the operator’s statements',
  security: bearer,
  middleware: [requireRole('supervisor', 'auditor')] as const,
  request: {
    query: csvQuery.extend({
      quarter: z
        .string()
        .regex(/^\d{4}-Q[1-4]$/, 'YYYY-Qn, e.g. 2026-Q4')
        .openapi({ example: '2026-Q4' }),
    }),
  },
  responses: {
    200: { description: 'The report (CSV with `Accept: text/csv` or `format=csv`)', content: { 'application/json': { schema: transparencySchema }, 'text/csv': { schema: z.string() } } },
    422: { description: 'Invalid query', content: { 'application/json': { schema: errorBodySchema } } },
  },
});

export function reportRoutes(deps: ApiDeps) {
  const timeZone = deps.policies.timeZone;
  return newRouter()
    .openapi(slaReport, async (c) => {
      const query = c.req.valid('query');
      const period = { from: new Date(query.from), to: new Date(query.to) };
      if (period.to <= period.from) throw new ApiError(422, 'invalid_request', 'invalid query', [{ field: 'query.to', message: 'must be after from' }]);
      const clocks = await clockReport(deps.sql, period, query.caseType);
      if (wantsCsv(c, query.format)) return csvAnswer(c, `sla-${query.from.slice(0, 10)}-${query.to.slice(0, 10)}.csv`, clockCsv(clocks));
      return c.json({ from: period.from.toISOString(), to: period.to.toISOString(), clocks }, 200);
    })
    .openapi(transparencyReport, async (c) => {
      const query = c.req.valid('query');
      const [year, quarter] = query.quarter.split('-Q').map(Number) as [number, number];
      const start = DateTime.fromObject({ year, month: (quarter - 1) * 3 + 1, day: 1 }, { zone: timeZone });
      const period = { from: start.toJSDate(), to: start.plus({ months: 3 }).toJSDate() };
      const months = [0, 1, 2].map((offset) => start.plus({ months: offset }).toFormat('yyyy-MM'));
      const [categories, clocks, satisfaction, remedies, services, dataRequests, dataRequestClocks] = await Promise.all([
        complaintsByCategory(deps.sql, period),
        clockReport(deps.sql, period, 'complaint'),
        satisfactionByMonth(deps.sql, period, timeZone),
        remediesPaid(deps.sql, period),
        servicesWithOutages(deps.sql, period),
        casesOpenedAndClosed(deps.sql, period, 'data-request'),
        clockReport(deps.sql, period, 'data-request'),
      ]);
      const outages = await Promise.all(
        services.map(async ({ service, incidents }) => {
          const intervals = service === '*' ? [] : await listOutagesOverlapping(deps.sql, { service, start: period.from, end: period.to });
          return {
            service,
            incidents,
            availability: months.map((month) => {
              const figures = monthlyAvailability(month, timeZone, intervals, Date.now());
              return { month, availabilityPercent: figures.availabilityPercent, downtimeMinutes: figures.downtimeMinutes, met: figures.met };
            }),
          };
        }),
      );
      const opened = categories.reduce((sum, row) => sum + row.opened, 0);
      const resolved = categories.reduce((sum, row) => sum + row.resolved, 0);
      const report = {
        quarter: query.quarter,
        from: period.from.toISOString(),
        to: period.to.toISOString(),
        complaints: {
          byCategory: categories,
          opened,
          resolutionRatePercent: opened > 0 ? percent(resolved, opened) : null,
          firstResponseCompliancePercent: compliance(clocks, 'firstResponse'),
          resultCompliancePercent: compliance(clocks, 'result'),
        },
        satisfaction: months.map((month) => {
          const row = satisfaction.find((entry) => entry.month === month);
          const satisfiedPercent = row && row.ratings > 0 ? percent(row.satisfied, row.ratings) : null;
          return {
            month,
            ratings: row?.ratings ?? 0,
            satisfiedPercent,
            targetPercent: satisfactionTargetPercent,
            met: satisfiedPercent === null ? null : satisfiedPercent >= satisfactionTargetPercent,
          };
        }),
        outages,
        availabilityTargetPercent,
        remedies,
        dataRequests: { ...dataRequests, compliancePercent: compliance(dataRequestClocks) },
        operatorStatements: operatorStatements(),
      };
      if (wantsCsv(c, query.format)) return csvAnswer(c, `transparency-${query.quarter}.csv`, transparencyCsv(report));
      return c.json(report, 200);
    });
}

/** On-time share of the clocks (of one name) that ended, over every priority. */
function compliance(rows: readonly ClockReportRow[], clock?: string): number | null {
  const chosen = rows.filter((row) => clock === undefined || row.clock === clock);
  const ended = chosen.reduce((sum, row) => sum + row.started - row.stillRunning, 0);
  return ended > 0
    ? percent(
        chosen.reduce((sum, row) => sum + row.metOnTime, 0),
        ended,
      )
    : null;
}

const percent = (part: number, whole: number) => Math.round((part / whole) * 10_000) / 100;

/** D7: the operator's own statements (data use, privacy policy, security-audit results), from PLEDGE_TRANSPARENCY_FILE. */
function operatorStatements(): { dataUse: string | null; privacyPolicy: string | null; securityAudit: string | null } {
  const file = process.env.PLEDGE_TRANSPARENCY_FILE;
  const empty = { dataUse: null, privacyPolicy: null, securityAudit: null };
  if (!file) return empty;
  const parsed = z.object({ dataUse: z.string().optional(), privacyPolicy: z.string().optional(), securityAudit: z.string().optional() }).safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`PLEDGE_TRANSPARENCY_FILE ${file}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  return { ...empty, ...parsed.data };
}

function wantsCsv(c: Context, format: string | undefined): boolean {
  return format === 'csv' || (format === undefined && (c.req.header('accept') ?? '').includes('text/csv'));
}

function csvAnswer(c: Context, filename: string, rows: readonly (readonly unknown[])[]) {
  return c.body(rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n', 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${filename}"`,
  }) as never;
}

/** RFC 4180: quote a cell holding a comma, quote or line break, doubling its quotes; a leading =, +, - or @ is prefixed so a spreadsheet never runs it. */
function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@]/.test(text) && typeof value === 'string') text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function clockCsv(rows: readonly ClockReportRow[]): unknown[][] {
  return [
    ['caseType', 'clock', 'priority', 'started', 'metOnTime', 'metLate', 'breached', 'stillRunning', 'compliancePercent', 'medianSecondsToMeet', 'p90SecondsToMeet'],
    ...rows.map((row) => [
      row.caseType,
      row.clock,
      row.priority,
      row.started,
      row.metOnTime,
      row.metLate,
      row.breached,
      row.stillRunning,
      row.compliancePercent,
      row.medianSecondsToMeet,
      row.p90SecondsToMeet,
    ]),
  ];
}

/** The report as `section, item, measure, value` rows, one figure per row. */
function transparencyCsv(report: z.infer<typeof transparencySchema>): unknown[][] {
  const rows: unknown[][] = [['section', 'item', 'measure', 'value']];
  for (const row of report.complaints.byCategory) rows.push(['complaints', row.category, 'opened', row.opened], ['complaints', row.category, 'resolved', row.resolved]);
  rows.push(
    ['complaints', 'all', 'opened', report.complaints.opened],
    ['complaints', 'all', 'resolutionRatePercent', report.complaints.resolutionRatePercent],
    ['complaints', 'all', 'firstResponseCompliancePercent', report.complaints.firstResponseCompliancePercent],
    ['complaints', 'all', 'resultCompliancePercent', report.complaints.resultCompliancePercent],
  );
  for (const month of report.satisfaction) rows.push(['satisfaction', month.month, 'ratings', month.ratings], ['satisfaction', month.month, 'satisfiedPercent', month.satisfiedPercent]);
  for (const outage of report.outages) {
    rows.push(['outages', outage.service, 'incidents', outage.incidents]);
    for (const month of outage.availability) rows.push(['availability', `${outage.service} ${month.month}`, 'availabilityPercent', month.availabilityPercent]);
  }
  for (const remedy of report.remedies)
    rows.push(['remedies', `${remedy.kind} ${remedy.currency}`, 'netAmountCents', remedy.netAmountCents], ['remedies', `${remedy.kind} ${remedy.currency}`, 'payments', remedy.payments]);
  rows.push(
    ['dataRequests', 'all', 'opened', report.dataRequests.opened],
    ['dataRequests', 'all', 'closed', report.dataRequests.closed],
    ['dataRequests', 'all', 'compliancePercent', report.dataRequests.compliancePercent],
    ['statements', 'dataUse', 'text', report.operatorStatements.dataUse],
    ['statements', 'privacyPolicy', 'text', report.operatorStatements.privacyPolicy],
    ['statements', 'securityAudit', 'text', report.operatorStatements.securityAudit],
  );
  return rows;
}
