import { createRoute, z } from '@hono/zod-openapi';
import { actionTables } from '../../domain/action-tables';
import { checkAction } from '../../domain/case-actions';
import { listCaseEvents } from '../../db/case-events';
import { findRecordedCaseState, listCases } from '../../db/cases';
import { caseTypeOfCaseId, caseTypes } from '../../domain/case-types';
import { priorities } from '../../domain/priority';
import { actionBodySchema, actionCaseIdSchema, actionNeedsInput, actionsByName, claimActionKey, idempotencyKeyHeader, type NamedActionRules } from '../actions';
import type { Sql } from '../../db/sql';
import { requireRole } from '../auth';
import { actOnCase, readCaseState } from '../case-workflows';
import type { ApiDeps } from '../deps';
import { ApiError, errorResponses } from '../errors';
import { newRouter } from '../router';
import { bearer, caseIdParams, caseStateSchema } from '../schemas';

const readers = requireRole('agent', 'supervisor', 'auditor');

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

/**
 * A page's position: the last case's openedAt in milliseconds since 1970 (up to 13 digits: before
 * 2286) and its case number. Every string of this shape is a position, so the pattern in
 * /openapi.json says exactly which cursors are accepted.
 */
const cursorPattern = /^([0-9]{1,13})_([A-Za-z0-9-]{1,64})$/;
/** An empty cursor is the first page, as no cursor. */
const cursorParameterPattern = `^$|${cursorPattern.source}`;

const listCasesRoute = createRoute({
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
      cursor: z
        .string()
        .max(200)
        .optional()
        .openapi({ description: 'nextCursor of the previous page: `<openedAt in ms since 1970>_<case number>`', pattern: cursorParameterPattern, example: '1795888657490_CMP-2026-000042' }),
    }),
  },
  responses: {
    200: { description: 'A page of cases', content: { 'application/json': { schema: z.object({ cases: z.array(caseSummarySchema), nextCursor: z.string().nullable() }) } } },
    ...errorResponses([401, 403, 422]),
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
  responses: { 200: { description: 'The case', content: { 'application/json': { schema: caseStateSchema } } }, ...errorResponses([401, 403, 404]) },
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
  responses: {
    200: { description: 'Events in order', content: { 'application/json': { schema: z.object({ caseId: z.string(), events: z.array(eventSchema) }) } } },
    ...errorResponses([401, 403, 404]),
  },
});

/** One operation per action name, its body the union of what each case type's action takes. */
const staffRolesOf = (rules: NamedActionRules) => (['agent', 'supervisor'] as const).filter((role) => rules.some((rule) => rule.roles.includes(role)));

const actionRoutes = Object.entries(actionsByName()).map(([name, rules]) =>
  createRoute({
    method: 'post',
    path: `/v1/cases/{caseId}/actions/${name}`,
    operationId: `act_${name.replaceAll('-', '_')}`,
    tags: ['actions'],
    summary: rules.map((rule) => `${rule.type}: ${rule.describe}`).join(' · '),
    description: rules.map((rule) => `${rule.type} — allowed for ${rule.roles.join(', ')} when ${rule.from.join(' or ')}`).join('\n\n'),
    security: bearer,
    // The staff roles some case type lets take this action; each type's own table narrows it further.
    middleware: [requireRole(...staffRolesOf(rules))] as const,
    request: {
      params: z.object({ caseId: actionCaseIdSchema(rules) }),
      headers: idempotencyKeyHeader,
      body: { required: actionNeedsInput(rules), content: { 'application/json': { schema: actionBodySchema(name, rules) } } },
    },
    responses: { 200: { description: 'The case after the action', content: { 'application/json': { schema: caseStateSchema } } }, ...errorResponses([401, 403, 404, 409, 422, 500]) },
  }),
);

// Not in /openapi.json: every request it takes is refused (the named routes above are the actions).
const unknownAction = createRoute({
  method: 'post',
  path: '/v1/cases/{caseId}/actions/{action}',
  hide: true,
  tags: ['actions'],
  summary: 'Any other action name is refused with 422 and the list of known actions',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: {
    params: caseIdParams.extend({
      action: z
        .string()
        .min(1)
        .max(40)
        .openapi({ param: { name: 'action', in: 'path' } }),
    }),
  },
  responses: errorResponses([401, 403, 404, 422]),
});

export function caseRoutes(deps: ApiDeps) {
  const router = newRouter()
    .openapi(listCasesRoute, async (c) => {
      const query = c.req.valid('query');
      const after = query.cursor ? decodeCursor(query.cursor) : undefined;
      const page = await listCases(deps.sql, {
        ...(query.type ? { type: query.type } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(query.priority ? { priority: query.priority } : {}),
        ...(query.customerId ? { customerId: query.customerId } : {}),
        ...(query.breached ? { breached: query.breached === 'true' } : {}),
        ...(after ? { after } : {}),
        limit: query.limit,
      });
      return c.json({ cases: page.cases, nextCursor: page.next ? encodeCursor(page.next.openedAt, page.next.caseId) : null }, 200);
    })
    .openapi(getCase, async (c) => {
      const { caseId } = c.req.valid('param');
      try {
        return c.json(await readCaseState(deps.temporal, caseId), 200);
      } catch (error) {
        // D2: a closed case outlives its workflow's retention in Temporal; its last state stays in the read model.
        if (!(error instanceof ApiError) || error.status !== 404) throw error;
        const recorded = await findRecordedCaseState(deps.sql, caseId);
        if (!recorded) throw error;
        c.header('X-Pledge-State-Source', 'read-model');
        return c.json(recorded, 200);
      }
    })
    .openapi(listEvents, async (c) => {
      const { caseId } = c.req.valid('param');
      const events = await listCaseEvents(deps.sql, caseId);
      if (events.length === 0) throw new ApiError(404, 'case_not_found', `no case ${caseId}`);
      return c.json({ caseId, events }, 200);
    });
  for (const route of actionRoutes) {
    const name = route.path.split('/').at(-1)!;
    router.openapi(route, async (c) => {
      const { caseId } = c.req.valid('param');
      const body = (c.req.valid('json') ?? {}) as { input?: unknown };
      const idempotencyKey = c.req.valid('header')['idempotency-key'];
      const table = actionTableOf(caseId);
      const actor = c.get('actor');
      const early = checkAction(table, { action: name, input: body.input, actorRole: actor.role });
      if (!early.ok) {
        const status = early.kind === 'forbidden' ? 403 : 422;
        const fields = early.kind === 'unknown-action' ? [{ field: 'action', message: early.message }] : early.fields;
        throw new ApiError(status, early.kind === 'forbidden' ? 'forbidden' : 'invalid_request', early.message, fields);
      }
      if (name === 'merge') await checkMergeTarget(deps.sql, caseId, early.input);
      const updateId = idempotencyKey
        ? await claimActionKey(deps.sql, { scope: `action:${caseId}`, caseId, key: idempotencyKey, request: { action: name, input: early.input }, updateIdPrefix: 'idempotency:' })
        : undefined;
      return c.json(await actOnCase(deps.temporal, caseId, { action: name, input: early.input, actor }, updateId), 200);
    });
  }
  // Registered after the named actions, so only a name none of them matches lands here.
  router.openapi(unknownAction, async (c) => {
    const { caseId, action } = c.req.valid('param');
    const table = actionTableOf(caseId);
    throw new ApiError(422, 'invalid_request', `unknown action '${action}'; known: ${Object.keys(table).join(', ')}`, [{ field: 'action', message: 'not an action of this case type' }]);
  });
  return router;
}

/** O2/P5: an incident merges only into another incident that is open (as last recorded); one that closes meanwhile refuses it visibly (absorb, domain/incident-case.ts). */
async function checkMergeTarget(sql: Sql, caseId: string, input: Record<string, unknown>): Promise<void> {
  const into = String(input.into);
  const target = into === caseId ? undefined : await findRecordedCaseState(sql, into);
  const problem =
    into === caseId
      ? 'an incident cannot be merged into itself'
      : !target || target.type !== 'incident'
        ? `no incident ${into}`
        : target.status !== 'open'
          ? `${into} is ${target.status}, not open`
          : undefined;
  if (problem) throw new ApiError(422, 'invalid_request', `cannot merge ${caseId} into ${into}: ${problem}`, [{ field: 'input.into', message: problem }]);
}

function actionTableOf(caseId: string) {
  const type = caseTypeOfCaseId(caseId);
  const table = type ? actionTables[type] : undefined;
  if (!type || !table) throw new ApiError(404, 'case_not_found', `no case ${caseId}`);
  return table;
}

function encodeCursor(openedAt: string, caseId: string): string {
  return `${Date.parse(openedAt)}_${caseId}`;
}

function decodeCursor(cursor: string): { openedAt: string; caseId: string } {
  const match = cursorPattern.exec(cursor);
  if (!match) throw new ApiError(422, 'invalid_request', 'invalid cursor', [{ field: 'query.cursor', message: 'pass nextCursor from the previous page unchanged' }]);
  return { openedAt: new Date(Number(match[1])).toISOString(), caseId: match[2]! };
}
