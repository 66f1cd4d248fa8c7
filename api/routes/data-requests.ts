import { createRoute, z } from '@hono/zod-openapi';
import type { Context, Next } from 'hono';
import { loadWorkingCalendar } from '../../config/calendar';
import { findRecordedCaseState } from '../../db/cases';
import { latestCustomerExport, readCustomerExport, recordExportDownload } from '../../db/customer-exports';
import { findCustomerStanding } from '../../db/customer-lifecycle';
import { findOpenDataRequest } from '../../db/data-requests';
import { findIdempotencyKey } from '../../db/idempotency-keys';
import type { Sql } from '../../db/sql';
import { findTrackingCode } from '../../db/tracking-codes';
import type { Actor } from '../../domain/actors';
import { caseTypeOfCaseId } from '../../domain/case-types';
import { dataRequestIntakeSchema, dataRequestPolicyOverridesSchema, defaultDataRequestPolicy, type DataRequestPolicy } from '../../domain/data-request';
import { normalizeTrackingCode } from '../../domain/tracking';
import { calendarForYears } from '../../domain/working-calendar';
import type { DataRequestInput } from '../../workflows/data-request';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { policySection } from '../../config';
import { ApiError, errorResponses } from '../errors';
import { openCase } from '../open-case';
import { newRouter } from '../router';
import { bearer, caseIdParams, caseStateSchema } from '../schemas';
import { yearIn } from './incidents';

// Data-subject requests (D3): intake, and the download of an access request's export by staff or
// by the user with the request's tracking code (as a termination's export is downloaded).

/** The D3 figures: the shipped defaults, or the `dataRequest` section of PLEDGE_POLICY_FILE; pinned into each case. */
export function dataRequestPolicy(source: NodeJS.ProcessEnv = process.env): DataRequestPolicy {
  return policySection('dataRequest', dataRequestPolicyOverridesSchema, defaultDataRequestPolicy, source);
}

const createDataRequest = createRoute({
  method: 'post',
  path: '/v1/data-requests',
  tags: ['data requests'],
  summary: 'A user asks to access, correct or delete their personal data (D3): answered within 15 working days',
  description:
    'The requester’s identity check is recorded (`verification`; `status: pending` waits for the `verify` action). `access` exports the user’s data (download with the tracking code + `/export`); `correction` changes the customer’s name, e-mail or phone and records old → new; `deletion` anonymises the customer — refused while a legal hold stands, deferred (with the reason and date, told to the user) while their open cases still need the data.',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: {
    headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional().openapi({ description: 'Retries with the same key return the same request' }) }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: dataRequestIntakeSchema.openapi('DataRequestIntake', {
            example: { customerId: 'cust-000001', kind: 'access', verification: { method: 'id-document', reference: 'ID card ending 1234', verifiedBy: 'agent-7' } },
          }),
        },
      },
    },
  },
  responses: {
    201: { description: 'The request as recorded at intake, with its D3 deadline', content: { 'application/json': { schema: caseStateSchema } } },
    ...errorResponses([409, 422]),
  },
});

const downloadResponses = {
  200: {
    description: 'The export file as written (its SHA-256 in X-Pledge-Export-SHA256)',
    content: { 'application/json': { schema: z.record(z.string(), z.unknown()).openapi('DataRequestExport') } },
  },
};

const staffExport = createRoute({
  method: 'get',
  path: '/v1/data-requests/{caseId}/export',
  tags: ['data requests'],
  summary: 'Download the export an access request made (D3); each download is recorded',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor', 'auditor')] as const,
  request: { params: caseIdParams },
  responses: { ...downloadResponses, ...errorResponses([401, 403, 404, 410]) },
});

export function dataRequestRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(createDataRequest, async (c) => {
      const intake = c.req.valid('json');
      const idempotencyKey = c.req.valid('header')['idempotency-key'];
      // A retry of a request already taken is answered as it was (openCase), whatever changed since.
      const retried = idempotencyKey ? await findIdempotencyKey(deps.sql, 'data-request', idempotencyKey) : undefined;
      if (!retried) await checkIntake(deps.sql, intake.customerId, intake.kind);
      const policy = dataRequestPolicy();
      const receivedAtMs = intake.receivedAt ? Date.parse(intake.receivedAt) : Date.now();
      const year = yearIn(deps.policies.timeZone, receivedAtMs);
      const calendar = calendarForYears(await loadWorkingCalendar(deps.sql), year - 1, year + 1);
      const opened = await openCase(
        { temporal: deps.temporal, sql: deps.sql, taskQueue: deps.taskQueue, timeZone: deps.policies.timeZone },
        {
          type: 'data-request',
          workflowType: 'dataRequest',
          body: intake,
          idempotencyKey,
          customerId: intake.customerId,
          priority: null,
          // D5: no personal data in the line the Temporal UI lists.
          title: `Data request (${intake.kind})`,
          buildInput: (caseId): DataRequestInput => ({
            caseId,
            customerId: intake.customerId,
            kind: intake.kind,
            verification: intake.verification,
            changes: intake.changes ?? null,
            ...(intake.receivedAt ? { receivedAt: intake.receivedAt } : {}),
            note: intake.note ?? null,
            openedBy: c.get('actor'),
            policy,
            timeZone: deps.policies.timeZone,
            calendar,
          }),
        },
      );
      if (opened.replayed) c.header('Idempotent-Replayed', 'true');
      return c.json(opened.state, 201);
    })
    .openapi(staffExport, async (c) => {
      const { caseId } = c.req.valid('param');
      if (caseTypeOfCaseId(caseId) !== 'data-request') throw new ApiError(404, 'not_found', `${caseId} is not a data request`);
      // The file goes out byte for byte as written (its SHA-256 must match), not re-serialised by c.json.
      return sendExport(c, deps.sql, caseId, c.get('actor')) as never;
    });
}

/** Intake refusals: an unknown customer (422), a correction of deleted data, a second open request of the same kind (409). */
async function checkIntake(sql: Sql, customerId: string, kind: 'access' | 'correction' | 'deletion'): Promise<void> {
  const standing = await findCustomerStanding(sql, customerId);
  if (!standing) throw new ApiError(422, 'invalid_request', 'unknown customer', [{ field: 'customerId', message: `no customer ${customerId}` }]);
  if (kind === 'correction' && standing.anonymisedAt) {
    const message = `the personal data of customer ${customerId} was deleted on ${standing.anonymisedAt}; there is nothing left to correct`;
    throw new ApiError(409, 'customer_anonymised', message, [{ field: 'customerId', message }]);
  }
  const running = await findOpenDataRequest(sql, customerId, kind);
  if (running) {
    const message = `customer ${customerId} already has an open ${kind} request (${running.caseId}, ${running.status})`;
    throw new ApiError(409, 'data_request_exists', message, [{ field: 'kind', message }]);
  }
}

/**
 * The user's download, by the tracking code of their access request (C8, D3), at the same paths as a
 * termination's (`/v1/track/{code}/export`, `/track/{code}/export`): a code of another case type is
 * passed on to the termination routes, registered after these.
 */
export function dataRequestTrackingRoutes(deps: ApiDeps) {
  const router = newRouter();
  const download = async (c: Context, next: Next) => {
    const code = normalizeTrackingCode(c.req.param('code') ?? '');
    const found = code ? await findTrackingCode(deps.sql, code) : undefined;
    if (!found || caseTypeOfCaseId(found.caseId) !== 'data-request') {
      await next();
      return;
    }
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Robots-Tag', 'noindex, nofollow');
    const recorded = found.revokedAt === null ? await findRecordedCaseState(deps.sql, found.caseId) : undefined;
    if (recorded?.customerId !== found.customerId) throw new ApiError(404, 'not_found', 'no such tracking code');
    return sendExport(c, deps.sql, found.caseId, { id: found.customerId, role: 'customer' });
  };
  router.get('/v1/track/:code/export', download);
  router.get('/track/:code/export', download);
  return router;
}

/** The export file (checked against its recorded SHA-256), its download recorded (D1); 410 once deletion removed it. */
async function sendExport(c: Context, sql: Sql, caseId: string, actor: Actor): Promise<Response> {
  const record = await latestCustomerExport(sql, caseId);
  if (!record) throw new ApiError(404, 'export_not_found', `${caseId} has no export: only a completed access request has one`);
  let bytes: Buffer;
  try {
    bytes = await readCustomerExport(record);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new ApiError(410, 'gone', `the export of ${caseId} was removed when the personal data was deleted (D3) or passed retention (D2); its record and SHA-256 are kept`);
  }
  await recordExportDownload(sql, { exportId: record.id, actorId: actor.id, actorRole: actor.role });
  return c.body(new Uint8Array(bytes), 200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Disposition': `attachment; filename="${record.caseId}-${record.n}.json"`,
    'X-Pledge-Export-SHA256': record.sha256,
    'Cache-Control': 'no-store',
  });
}
