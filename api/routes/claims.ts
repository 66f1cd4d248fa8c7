import { createRoute } from '@hono/zod-openapi';
import { readClaimFacts } from '../../activities/claims';
import type { Actor } from '../../domain/actors';
import { claimIntakeSchema, type ClaimIntake } from '../../domain/claim';
import type { ClaimInput } from '../../workflows/compensation';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { openCase, type OpenedCase } from '../open-case';
import { newRouter } from '../router';
import { bearer, caseStateSchema } from '../schemas';
import { pinnedIncidentTerms } from './incidents';
import { refuseTerminatedCustomer } from './terminations';
import { z } from '@hono/zod-openapi';

const createClaim = createRoute({
  method: 'post',
  path: '/v1/compensation-claims',
  tags: ['compensation'],
  summary: 'A user claims compensation (P3): refused with the reason outside the window, paid at once below the approval threshold, otherwise decided by a supervisor within 5 working days',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: {
    headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional().openapi({ description: 'Retries with the same key return the same claim' }) }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: claimIntakeSchema.openapi('ClaimIntake', {
            example: { customerId: 'cust-000001', reason: 'No service for a day', requestedRemedy: { kind: 'service-credit', amount: 500 }, eventAt: '2026-11-27T08:00:00Z' },
          }),
        },
      },
    },
  },
  responses: {
    201: {
      description: 'The claim as recorded at intake: refused, approved and being paid, or awaiting approval with its decision deadline',
      content: { 'application/json': { schema: caseStateSchema } },
    },
    409: { description: 'The customer was terminated and can open no new case (T4)', content: { 'application/json': { schema: errorBodySchema } } },
    422: { description: 'Invalid field', content: { 'application/json': { schema: errorBodySchema } } },
  },
});

/**
 * P3: opens a claim with what the records know of the customer and the outage; the intake's
 * problems are 422s naming the field. `openedBy` is staff on the user's behalf, or the user (D1).
 */
export async function openClaim(deps: ApiDeps, intake: ClaimIntake, options: { openedBy: Actor; idempotencyKey: string | undefined }): Promise<OpenedCase> {
  const terms = await pinnedIncidentTerms(deps);
  const facts = await readClaimFacts(deps.sql, { customerId: intake.customerId, incidentCaseId: intake.incidentId ?? null, capPeriodDays: terms.compensation.claimCapPerPeriod?.periodDays });
  if (!facts) throw new ApiError(422, 'invalid_request', 'unknown customer', [{ field: 'customerId', message: `no customer ${intake.customerId}` }]);
  await refuseTerminatedCustomer(deps.sql, intake.customerId);
  if (intake.incidentId && facts.incidentStatus === null) {
    throw new ApiError(422, 'invalid_request', 'unknown incident', [{ field: 'incidentId', message: `no incident ${intake.incidentId}` }]);
  }
  return openCase(
    { temporal: deps.temporal, sql: deps.sql, taskQueue: deps.taskQueue, timeZone: deps.policies.timeZone },
    {
      type: 'compensation',
      body: intake,
      idempotencyKey: options.idempotencyKey,
      customerId: intake.customerId,
      priority: null,
      title: `Claim${intake.incidentId ? ` for ${intake.incidentId}` : ''}: ${intake.reason}`,
      buildInput: (caseId): ClaimInput => ({
        caseId,
        customerId: intake.customerId,
        incidentId: intake.incidentId ?? null,
        eventAt: intake.eventAt ?? null,
        reason: intake.reason,
        requestedRemedy: intake.requestedRemedy,
        evidence: intake.evidence,
        facts: {
          plan: facts.plan,
          incidentStartedAt: facts.incidentStartedAt,
          incidentEndedAt: facts.incidentEndedAt,
          alreadyPaidCents: facts.alreadyPaidCents,
          paidInCapPeriodCents: facts.paidInCapPeriodCents,
        },
        openedBy: options.openedBy,
        policy: terms.compensation,
        timeZone: terms.timeZone,
        calendar: terms.calendar,
      }),
    },
  );
}

export function claimRoutes(deps: ApiDeps) {
  return newRouter().openapi(createClaim, async (c) => {
    const opened = await openClaim(deps, c.req.valid('json'), { openedBy: c.get('actor'), idempotencyKey: c.req.valid('header')['idempotency-key'] });
    if (opened.replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(opened.state, 201);
  });
}
