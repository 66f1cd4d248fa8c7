import { createRoute, z } from '@hono/zod-openapi';
import { actionTables } from '../../domain/action-tables';
import { checkAction } from '../../domain/case-actions';
import { caseTypeOfCaseId, caseTypes } from '../../domain/case-types';
import { priorities } from '../../domain/priority';
import type { CaseState } from '../../domain/case-state';
import { requireRole } from '../auth';
import { actOnCase, readCaseState } from '../case-workflows';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { newRouter } from '../router';
import { bearer, caseIdParams, caseStateSchema } from '../schemas';

const readers = requireRole('agent', 'supervisor', 'auditor');
const errors = (codes: number[]) =>
  Object.fromEntries(codes.map((code) => [code, { description: 'Error', content: { 'application/json': { schema: errorBodySchema } } }]));

const caseSummarySchema = z
  .object({
    caseId: z.string(),
    workflowId: z.string(),
    type: z.string(),
    status: z.string(),
    priority: z.string().nullable(),
    customerId: z.string().nullable(),
    summary: z.string(),
    slaBreached: z.boolean(),
    nextDeadlineAt: z.string().nullable(),
    openedAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('CaseSummary');

const listCases = createRoute({
  method: 'get',
  path: '/v1/cases',
  tags: ['cases'],
  summary: 'List cases from the read model, newest first',
  security: bearer,
  middleware: [readers] as const,
  request: {
    query: z.object({
      type: z.enum(caseTypes).optional(),
      status: z.string().max(40).optional(),
      priority: z.enum(priorities).optional(),
      customerId: z.string().max(64).optional(),
      breached: z.enum(['true', 'false']).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
    }),
  },
  responses: {
    200: { description: 'A page of cases', content: { 'application/json': { schema: z.object({ cases: z.array(caseSummarySchema), nextCursor: z.string().nullable() }) } } },
    ...errors([401, 403, 422]),
  },
});

const getCase = createRoute({
  method: 'get',
  path: '/v1/cases/{caseId}',
  tags: ['cases'],
  summary: 'Read a case live from its workflow (C8): status, next step, deadlines, expected completion',
  description: 'Answered by the workflow; once a closed case has left Temporal (retention), by its last recorded state, with X-Pledge-State-Source: read-model.',
  security: bearer,
  middleware: [readers] as const,
  request: { params: caseIdParams },
  responses: { 200: { description: 'The case', content: { 'application/json': { schema: caseStateSchema } } }, ...errors([401, 403, 404]) },
});

const eventSchema = z
  .object({ step: z.number(), type: z.string(), actor: z.object({ id: z.string(), role: z.string() }), occurredAt: z.string(), data: z.record(z.string(), z.unknown()) })
  .openapi('CaseEvent');

const listEvents = createRoute({
  method: 'get',
  path: '/v1/cases/{caseId}/events',
  tags: ['cases'],
  summary: 'The append-only record of the case (D1)',
  security: bearer,
  middleware: [readers] as const,
  request: { params: caseIdParams },
  responses: { 200: { description: 'Events in order', content: { 'application/json': { schema: z.object({ caseId: z.string(), events: z.array(eventSchema) }) } } }, ...errors([401, 403, 404]) },
});

const act = createRoute({
  method: 'post',
  path: '/v1/cases/{caseId}/actions/{action}',
  tags: ['cases'],
  summary: 'Act on a case; refused with 409 and the reason when its state does not allow the action',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: {
    params: caseIdParams.extend({ action: z.string().min(1).max(40).openapi({ param: { name: 'action', in: 'path' }, example: 'acknowledge' }) }),
    body: { required: false, content: { 'application/json': { schema: z.object({ input: z.record(z.string(), z.unknown()).optional() }).openapi('ActionRequest') } } },
  },
  responses: { 200: { description: 'The case after the action', content: { 'application/json': { schema: caseStateSchema } } }, ...errors([401, 403, 404, 409, 422]) },
});

export function caseRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(listCases, async (c) => {
      const query = c.req.valid('query');
      const after = query.cursor ? decodeCursor(query.cursor) : undefined;
      const sql = deps.sql;
      const rows = await sql`
        select case_id, workflow_id, type, status, priority, customer_id, summary, sla_breached, next_deadline_at, opened_at, updated_at
        from cases
        where true
          ${query.type ? sql`and type = ${query.type}` : sql``}
          ${query.status ? sql`and status = ${query.status}` : sql``}
          ${query.priority ? sql`and priority = ${query.priority}` : sql``}
          ${query.customerId ? sql`and customer_id = ${query.customerId}` : sql``}
          ${query.breached ? sql`and sla_breached = ${query.breached === 'true'}` : sql``}
          ${after ? sql`and (opened_at, case_id) < (${after.openedAt}, ${after.caseId})` : sql``}
        order by opened_at desc, case_id desc
        limit ${query.limit + 1}`;
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return c.json(
        {
          cases: page.map((row) => ({
            caseId: row.case_id,
            workflowId: row.workflow_id,
            type: row.type,
            status: row.status,
            priority: row.priority,
            customerId: row.customer_id,
            summary: row.summary,
            slaBreached: row.sla_breached,
            nextDeadlineAt: row.next_deadline_at?.toISOString() ?? null,
            openedAt: row.opened_at.toISOString(),
            updatedAt: row.updated_at.toISOString(),
          })),
          nextCursor: rows.length > query.limit && last ? encodeCursor(last.opened_at.toISOString(), last.case_id) : null,
        },
        200,
      );
    })
    .openapi(getCase, async (c) => {
      const { caseId } = c.req.valid('param');
      try {
        return c.json(await readCaseState(deps.temporal, caseId), 200);
      } catch (error) {
        // D2: a closed case outlives its workflow's retention in Temporal; its last state stays in the read model.
        if (!(error instanceof ApiError) || error.status !== 404) throw error;
        const [row] = await deps.sql<{ state: CaseState }[]>`select state from cases where case_id = ${caseId}`;
        if (!row) throw error;
        c.header('X-Pledge-State-Source', 'read-model');
        return c.json(row.state, 200);
      }
    })
    .openapi(listEvents, async (c) => {
      const { caseId } = c.req.valid('param');
      const rows = await deps.sql`
        select step, type, actor_id, actor_role, occurred_at, data from case_events where case_id = ${caseId} order by step`;
      if (rows.length === 0) throw new ApiError(404, 'case_not_found', `no case ${caseId}`);
      return c.json(
        {
          caseId,
          events: rows.map((row) => ({
            step: row.step,
            type: row.type,
            actor: { id: row.actor_id, role: row.actor_role },
            occurredAt: row.occurred_at.toISOString(),
            data: row.data,
          })),
        },
        200,
      );
    })
    .openapi(act, async (c) => {
      const { caseId, action } = c.req.valid('param');
      const body = c.req.valid('json') ?? {};
      const type = caseTypeOfCaseId(caseId);
      const table = type ? actionTables[type] : undefined;
      if (!type || !table) throw new ApiError(404, 'case_not_found', `no case ${caseId}`);
      const actor = c.get('actor');
      const early = checkAction(table, { action, input: body.input, actorRole: actor.role });
      if (!early.ok) {
        const status = early.kind === 'forbidden' ? 403 : 422;
        const fields = early.kind === 'unknown-action' ? [{ field: 'action', message: early.message }] : early.fields;
        throw new ApiError(status, early.kind === 'forbidden' ? 'forbidden' : 'invalid_request', early.message, fields);
      }
      return c.json(await actOnCase(deps.temporal, caseId, { action, input: early.input, actor }), 200);
    });
}

function encodeCursor(openedAt: string, caseId: string): string {
  return Buffer.from(JSON.stringify([openedAt, caseId])).toString('base64url');
}

function decodeCursor(cursor: string): { openedAt: string; caseId: string } {
  try {
    const [openedAt, caseId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    if (typeof openedAt === 'string' && typeof caseId === 'string') return { openedAt, caseId };
  } catch {
    // fall through to the 422 below
  }
  throw new ApiError(422, 'invalid_request', 'invalid cursor', [{ field: 'query.cursor', message: 'pass nextCursor from the previous page unchanged' }]);
}
