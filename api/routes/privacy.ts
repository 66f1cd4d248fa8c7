import { createRoute, z } from '@hono/zod-openapi';
import { consentHistory, currentConsents, recordConsentAnswers, type ConsentRecord } from '../../db/consents';
import { customerExists } from '../../db/customers';
import { findLegalHold, liftLegalHold, placeLegalHold } from '../../db/legal-holds';
import { listPurgeRuns } from '../../db/purge';
import { consentAnswers, consentChangeSchema } from '../../domain/consent';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorResponses } from '../errors';
import { newRouter } from '../router';
import { bearer } from '../schemas';
import { nonBlank } from '../../domain/case-actions';

// Privacy (D2, D4): consent per purpose and channel with its history; legal holds, which stop the
// retention purge and refuse deletion; the retention purge's runs.

const customerIdParams = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash and underscore, at most 64')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'cust-000001' }),
});

const consentRecordSchema = z
  .object({ purpose: z.string(), channel: z.string(), granted: z.boolean(), source: z.string(), recordedAt: z.string(), recordedBy: z.string().nullable() })
  .openapi('ConsentRecord');

const consentsSchema = z
  .object({
    customerId: z.string(),
    consents: z.record(z.string(), z.record(z.string(), consentRecordSchema.omit({ purpose: true, channel: true }))).openapi({
      description: 'The answers in force: purpose → channel → answer. `service-notices` decides which channels Pledge’s own messages use.',
    }),
    history: z.array(consentRecordSchema).openapi({ description: 'Every answer, newest first (append-only)' }),
  })
  .openapi('CustomerConsents');

const putConsents = createRoute({
  method: 'put',
  path: '/v1/customers/{id}/consents',
  tags: ['privacy'],
  summary: 'Record the customer’s consent per purpose and channel, with its source (D4); only changed answers are recorded',
  description:
    'Answers not named stay as they are. `service-notices` answers are the per-channel consents the outbox reads: without it a channel is not used, except for legally required notices (outage, termination, service-change notices), which go out anyway and say so.',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: {
    params: customerIdParams,
    body: {
      required: true,
      content: {
        'application/json': {
          schema: consentChangeSchema.openapi('ConsentChange', { example: { source: 'signup form v3', consents: { 'service-notices': { sms: true, email: true }, marketing: { email: false } } } }),
        },
      },
    },
  },
  responses: {
    200: { description: 'The consents in force and their history', content: { 'application/json': { schema: consentsSchema.extend({ changed: z.array(consentRecordSchema) }) } } },
    ...errorResponses([401, 403, 404, 422]),
  },
});

const getConsents = createRoute({
  method: 'get',
  path: '/v1/customers/{id}/consents',
  tags: ['privacy'],
  summary: 'The customer’s consents in force and every answer they gave (D4)',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor', 'auditor')] as const,
  request: { params: customerIdParams },
  responses: { 200: { description: 'Consents', content: { 'application/json': { schema: consentsSchema } } }, ...errorResponses([401, 403, 404]) },
});

const legalHoldSchema = z
  .object({
    customerId: z.string(),
    held: z.boolean(),
    reason: z.string().nullable(),
    since: z.string().nullable(),
    history: z.array(z.object({ action: z.enum(['placed', 'lifted']), reason: z.string(), actor: z.object({ id: z.string(), role: z.string() }), at: z.string() })),
  })
  .openapi('LegalHold');

const reasonBody = z.object({ reason: z.string().trim().min(1).meta(nonBlank).max(2000) }).openapi('LegalHoldReason');

const putLegalHold = createRoute({
  method: 'put',
  path: '/v1/customers/{id}/legal-hold',
  tags: ['privacy'],
  summary: 'Place a legal hold on the customer’s data (D2): the retention purge skips their cases and deletion requests are refused; recorded with the reason',
  security: bearer,
  middleware: [requireRole('supervisor', 'auditor')] as const,
  request: { params: customerIdParams, body: { required: true, content: { 'application/json': { schema: reasonBody } } } },
  responses: { 200: { description: 'The hold in force and its history', content: { 'application/json': { schema: legalHoldSchema } } }, ...errorResponses([401, 403, 404, 422]) },
});

const deleteLegalHold = createRoute({
  method: 'delete',
  path: '/v1/customers/{id}/legal-hold',
  tags: ['privacy'],
  summary: 'Lift the legal hold (D2), recorded with the reason (a JSON body `{ "reason": … }`)',
  security: bearer,
  middleware: [requireRole('supervisor', 'auditor')] as const,
  request: { params: customerIdParams, body: { required: true, content: { 'application/json': { schema: reasonBody } } } },
  responses: { 200: { description: 'Lifted', content: { 'application/json': { schema: legalHoldSchema } } }, ...errorResponses([401, 403, 404, 409, 422]) },
});

const getLegalHold = createRoute({
  method: 'get',
  path: '/v1/customers/{id}/legal-hold',
  tags: ['privacy'],
  summary: 'Whether a legal hold stands on the customer’s data, and every hold placed and lifted (D2)',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor', 'auditor')] as const,
  request: { params: customerIdParams },
  responses: { 200: { description: 'The hold', content: { 'application/json': { schema: legalHoldSchema } } }, ...errorResponses([401, 403, 404]) },
});

const purgeRunSchema = z
  .object({
    id: z.number(),
    runKey: z.string(),
    policyVersion: z.string(),
    retentionYears: z.number(),
    cutoff: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    casesPurged: z.number(),
    notificationsRedacted: z.number(),
    exportFilesRemoved: z.number(),
    heldCases: z.number().openapi({ description: 'Cases past retention kept because their customer is under a legal hold' }),
  })
  .openapi('PurgeRun');

const listRuns = createRoute({
  method: 'get',
  path: '/v1/privacy/purge-runs',
  tags: ['privacy'],
  summary: 'The retention purge’s runs, newest first, with their counts (D2)',
  security: bearer,
  middleware: [requireRole('supervisor', 'auditor')] as const,
  request: { query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(30) }) },
  responses: { 200: { description: 'Runs', content: { 'application/json': { schema: z.object({ runs: z.array(purgeRunSchema) }) } } }, ...errorResponses([401, 403, 422]) },
});

const notFound = (id: string) => new ApiError(404, 'customer_not_found', `no customer ${id}`);

function consentView(customerId: string, inForce: ConsentRecord[], history: ConsentRecord[]) {
  const consents: Record<string, Record<string, Omit<ConsentRecord, 'purpose' | 'channel'>>> = {};
  for (const { purpose, channel, ...answer } of inForce) (consents[purpose] ??= {})[channel] = answer;
  return { customerId, consents, history };
}

export function privacyRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(putConsents, async (c) => {
      const { id } = c.req.valid('param');
      const change = c.req.valid('json');
      const at = new Date().toISOString();
      const recorded = await recordConsentAnswers(deps.sql, { customerId: id, answers: consentAnswers(change), source: change.source, actor: c.get('actor'), at });
      if (!recorded) throw notFound(id);
      const view = consentView(id, await currentConsents(deps.sql, id), await consentHistory(deps.sql, id, 200));
      const changed = recorded.changed.map((answer) => ({ ...answer, source: change.source, recordedAt: at, recordedBy: c.get('actor').id }));
      return c.json({ ...view, changed }, 200);
    })
    .openapi(getConsents, async (c) => {
      const { id } = c.req.valid('param');
      if (!(await customerExists(deps.sql, id))) throw notFound(id);
      return c.json(consentView(id, await currentConsents(deps.sql, id), await consentHistory(deps.sql, id, 200)), 200);
    })
    .openapi(putLegalHold, async (c) => {
      const { id } = c.req.valid('param');
      const placed = await placeLegalHold(deps.sql, { customerId: id, reason: c.req.valid('json').reason, actor: c.get('actor') });
      if (!placed) throw notFound(id);
      return c.json(placed.hold, 200);
    })
    .openapi(deleteLegalHold, async (c) => {
      const { id } = c.req.valid('param');
      const lifted = await liftLegalHold(deps.sql, { customerId: id, reason: c.req.valid('json').reason, actor: c.get('actor') });
      if (!lifted) throw notFound(id);
      if (!lifted.lifted) throw new ApiError(409, 'no_legal_hold', `no legal hold stands on customer ${id}`);
      return c.json(lifted.hold, 200);
    })
    .openapi(getLegalHold, async (c) => {
      const { id } = c.req.valid('param');
      const hold = await findLegalHold(deps.sql, id);
      if (!hold) throw notFound(id);
      return c.json(hold, 200);
    })
    .openapi(listRuns, async (c) => c.json({ runs: await listPurgeRuns(deps.sql, c.req.valid('query').limit) }, 200));
}
