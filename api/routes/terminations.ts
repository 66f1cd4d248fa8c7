import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { findRecordedCaseState } from '../../db/cases';
import { latestCustomerExport, readCustomerExport, recordExportDownload } from '../../db/customer-exports';
import { findCustomerStanding, findOpenTermination, listOverdueTerminations } from '../../db/customer-lifecycle';
import { findIdempotencyKey } from '../../db/idempotency-keys';
import type { Sql } from '../../db/sql';
import { findTrackingCode } from '../../db/tracking-codes';
import type { Actor } from '../../domain/actors';
import { caseTypeOfCaseId } from '../../domain/case-types';
import { checkEffectiveAt, defaultTerminationPolicy, terminationIntakeSchema, terminationPolicyOverridesSchema, type TerminationPolicy } from '../../domain/termination';
import { normalizeTrackingCode } from '../../domain/tracking';
import type { TerminationInput } from '../../workflows/termination';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { policySection } from '../../config';
import { ApiError, errorResponses } from '../errors';
import { openCase } from '../open-case';
import { newRouter } from '../router';
import { bearer, caseIdParams, caseStateSchema } from '../schemas';

// Terminations of service (T1–T7): intake, the export downloads (staff key or the user's tracking
// code), and the supervisors' list of terminations whose steps after the effective date are late.

/**
 * The termination figures: the shipped defaults, or the `termination` section of PLEDGE_POLICY_FILE
 * (`{"termination":{"version":"acme-trm/1","providerNoticeDays":45}}`). Pinned into each case.
 */
export function terminationPolicy(source: NodeJS.ProcessEnv = process.env): TerminationPolicy {
  return policySection('termination', terminationPolicyOverridesSchema, defaultTerminationPolicy, source);
}

/** T4: a terminated customer can no longer open new cases (complaints, claims, …): 409 naming the customer. */
export async function refuseTerminatedCustomer(sql: Sql, customerId: string): Promise<void> {
  const standing = await findCustomerStanding(sql, customerId);
  if (standing?.status !== 'terminated') return;
  const message = `customer ${customerId} was terminated on ${standing.terminatedAt ?? 'an earlier date'} and can no longer open new cases (T4)`;
  throw new ApiError(409, 'customer_terminated', message, [{ field: 'customerId', message }]);
}

const createTermination = createRoute({
  method: 'post',
  path: '/v1/terminations',
  tags: ['terminations'],
  summary: 'Terminate a customer’s service: provider-initiated at least 30 days after the notice (T1), or the user’s own at the date they choose (T5)',
  description:
    'The notice goes out at once (reason, effective date, what to do, contacts: T2); reminders 7 and 1 days before; until the date the user may `request-export` and staff may `withdraw` (T3); at the date a final backup, deactivation and release of services (T4); personal data deleted 30 days later unless a legal hold stands (T6).',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: {
    headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional().openapi({ description: 'Retries with the same key return the same termination' }) }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: terminationIntakeSchema.openapi('TerminationIntake', { example: { customerId: 'cust-000002', initiatedBy: 'customer', reason: 'Moving abroad', contacts: { phone: '10000' } } }),
        },
      },
    },
  },
  responses: {
    201: { description: 'The termination as recorded at intake: the notice sent, reminders and the effective date scheduled', content: { 'application/json': { schema: caseStateSchema } } },
    ...errorResponses([409, 422]),
  },
});

const overdueSchema = z
  .object({
    caseId: z.string(),
    customerId: z.string(),
    status: z.string(),
    step: z.enum(['deactivation', 'deletion']),
    dueAt: z.string(),
    overdueMinutes: z.number().int(),
    legalHold: z.string().nullable().openapi({ description: 'T6: the reason of a legal hold the deletion waits for' }),
    failure: z.unknown().openapi({ description: 'The failed step the case retries, if any' }),
  })
  .openapi('OverdueTermination');

const listOverdue = createRoute({
  method: 'get',
  path: '/v1/terminations/overdue',
  tags: ['terminations'],
  summary: 'Terminations whose steps after the effective date are overdue: the date passed but the account is active (T4), or deletion due but not done (T6)',
  security: bearer,
  middleware: [requireRole('supervisor', 'auditor')] as const,
  request: {
    query: z.object({
      graceMinutes: z.coerce.number().int().min(0).max(10_080).default(60).openapi({ description: 'How late a step must be to be listed' }),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
    }),
  },
  responses: { 200: { description: 'Oldest due first', content: { 'application/json': { schema: z.object({ terminations: z.array(overdueSchema) }) } } }, ...errorResponses([401, 403, 422]) },
});

const exportQuery = z.object({
  n: z.coerce.number().int().min(1).max(2_147_483_647).optional().openapi({ description: 'Which export of the case; the newest when left out' }),
});

const exportDocumentSchema = z
  .object({
    format: z.literal('pledge-customer-export/1'),
    caseId: z.string(),
    n: z.number().int(),
    purpose: z.enum(['requested', 'final']),
    customerId: z.string(),
    createdAt: z.string(),
    customer: z.record(z.string(), z.unknown()),
    cases: z.array(z.record(z.string(), z.unknown())),
    caseEvents: z.array(z.record(z.string(), z.unknown())),
    notifications: z.array(z.record(z.string(), z.unknown())),
    ledger: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi('CustomerExport', { description: 'Everything Pledge holds about one customer: their record, cases, case events, messages and ledger' });

const downloadResponses = {
  200: { description: 'The export file as written (its SHA-256 in X-Pledge-Export-SHA256)', content: { 'application/json': { schema: exportDocumentSchema } } },
};

const staffExport = createRoute({
  method: 'get',
  path: '/v1/cases/{caseId}/export',
  tags: ['terminations'],
  summary: 'Download an export of the customer’s data made by a termination (T3, T4, T7); each download is recorded',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor', 'auditor')] as const,
  request: { params: caseIdParams, query: exportQuery },
  responses: { ...downloadResponses, ...errorResponses([401, 403, 404]) },
});

const trackExport = createRoute({
  method: 'get',
  path: '/v1/track/{code}/export',
  tags: ['tracking'],
  summary: 'The user downloads the export of their data with the tracking code of their termination (T3); no staff key',
  description: 'Unknown and revoked codes, codes of other cases and a termination without an export yet are 404; once the personal data is deleted (T6), 410.',
  security: [],
  request: { params: z.object({ code: z.string().openapi({ param: { name: 'code', in: 'path' } }) }), query: exportQuery },
  responses: { ...downloadResponses, ...errorResponses([404, 410]) },
});

export function terminationRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(createTermination, async (c) => {
      const intake = c.req.valid('json');
      const idempotencyKey = c.req.valid('header')['idempotency-key'];
      const policy = terminationPolicy();
      // A retry of a request already taken is answered as it was (openCase), whatever changed since.
      const retried = idempotencyKey ? await findIdempotencyKey(deps.sql, 'termination', idempotencyKey) : undefined;
      const checked = checkEffectiveAt(intake, Date.now(), policy);
      if (!retried) {
        if (!checked.ok) throw new ApiError(422, 'invalid_request', checked.message, [{ field: 'effectiveAt', message: checked.message }]);
        const standing = await findCustomerStanding(deps.sql, intake.customerId);
        if (!standing) throw new ApiError(422, 'invalid_request', 'unknown customer', [{ field: 'customerId', message: `no customer ${intake.customerId}; create it with PUT /v1/customers/{id}` }]);
        await refuseTerminatedCustomer(deps.sql, intake.customerId);
        const running = await findOpenTermination(deps.sql, intake.customerId);
        if (running) {
          const message = `customer ${intake.customerId} already has a termination (${running.caseId}, ${running.status})`;
          throw new ApiError(409, 'termination_exists', message, [{ field: 'customerId', message }]);
        }
      }
      const effectiveAt = new Date(checked.ok ? checked.effectiveAtMs : Date.parse(intake.effectiveAt ?? new Date().toISOString())).toISOString();
      const opened = await openCase(
        { temporal: deps.temporal, sql: deps.sql, taskQueue: deps.taskQueue, timeZone: deps.policies.timeZone },
        {
          type: 'termination',
          body: intake,
          idempotencyKey,
          customerId: intake.customerId,
          priority: null,
          title: `Termination (${intake.initiatedBy}) at ${effectiveAt}: ${intake.reason}`,
          buildInput: (caseId): TerminationInput => ({
            caseId,
            customerId: intake.customerId,
            initiatedBy: intake.initiatedBy,
            reason: intake.reason,
            effectiveAt,
            contacts: intake.contacts ?? policy.contacts,
            openedBy: c.get('actor'),
            policy,
            timeZone: deps.policies.timeZone,
          }),
        },
      );
      if (opened.replayed) c.header('Idempotent-Replayed', 'true');
      return c.json(opened.state, 201);
    })
    .openapi(listOverdue, async (c) => {
      const query = c.req.valid('query');
      return c.json({ terminations: await listOverdueTerminations(deps.sql, { graceMinutes: query.graceMinutes, limit: query.limit }) }, 200);
    })
    .openapi(staffExport, async (c) => {
      const { caseId } = c.req.valid('param');
      if (caseTypeOfCaseId(caseId) !== 'termination') throw new ApiError(404, 'not_found', `${caseId} is not a termination: only terminations have exports`);
      // The file goes out byte for byte as written (its SHA-256 must match), not re-serialised by c.json.
      return sendExport(c, deps.sql, caseId, c.req.valid('query').n, c.get('actor')) as never;
    });
}

/**
 * The user's download, by the tracking code of their termination (C8, T3): public like the other
 * tracking routes (api/routes/track.ts, isPublicTrackingRequest), also at `/track/{code}/export`
 * next to the page their messages link to. Registered before trackRoutes.
 */
export function terminationTrackingRoutes(deps: ApiDeps) {
  const router = newRouter();
  async function download(c: Context, raw: string, n: number | undefined): Promise<Response> {
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Robots-Tag', 'noindex, nofollow');
    const code = normalizeTrackingCode(raw);
    const found = code ? await findTrackingCode(deps.sql, code) : undefined;
    if (!found || found.revokedAt !== null || caseTypeOfCaseId(found.caseId) !== 'termination') throw new ApiError(404, 'not_found', 'no such tracking code');
    const recorded = await findRecordedCaseState(deps.sql, found.caseId);
    if (recorded?.customerId !== found.customerId) throw new ApiError(404, 'not_found', 'no such tracking code');
    if (recorded.status === 'closed') {
      throw new ApiError(410, 'gone', 'your personal data was deleted after the termination (T6); the final backup is kept for the record and can be asked for through our contacts');
    }
    return sendExport(c, deps.sql, found.caseId, n, { id: found.customerId, role: 'customer' });
  }
  router.openapi(trackExport, (c) => download(c, c.req.valid('param').code, c.req.valid('query').n) as never);
  router.get('/track/:code/export', (c) => {
    const parsed = exportQuery.safeParse(c.req.query());
    return download(c, c.req.param('code'), parsed.success ? parsed.data.n : undefined);
  });
  return router;
}

/** The export file (checked against its recorded SHA-256), its download recorded (T7). */
async function sendExport(c: Context, sql: Sql, caseId: string, n: number | undefined, actor: Actor): Promise<Response> {
  const record = await latestCustomerExport(sql, caseId, n);
  if (!record) throw new ApiError(404, 'export_not_found', n === undefined ? `${caseId} has no export yet: request one with the request-export action` : `${caseId} has no export ${n}`);
  const bytes = await readCustomerExport(record);
  await recordExportDownload(sql, { exportId: record.id, actorId: actor.id, actorRole: actor.role });
  return c.body(new Uint8Array(bytes), 200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Disposition': `attachment; filename="${record.caseId}-${record.n}.json"`,
    'X-Pledge-Export-SHA256': record.sha256,
    'Cache-Control': 'no-store',
  });
}
