import { createRoute, z } from '@hono/zod-openapi';
import { findIdempotencyKey } from '../../db/idempotency-keys';
import { checkNoticePeriod, defaultServiceChangePolicy, serviceChangeIntakeSchema } from '../../domain/service-change';
import type { ServiceChangeInput } from '../../workflows/service-change';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { openCase } from '../open-case';
import { newRouter } from '../router';
import { bearer, caseStateSchema } from '../schemas';
import { pinnedIncidentTerms } from './incidents';

const createServiceChange = createRoute({
  method: 'post',
  path: '/v1/service-changes',
  tags: ['service-changes'],
  summary: 'Announce a planned service change (N1–N3): every affected user is told at once and reminded 24 h before; effectiveAt must be at least 48 h away unless a supervisor flags an emergency',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: {
    headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional().openapi({ description: 'Retries with the same key return the same change' }) }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: serviceChangeIntakeSchema.openapi('ServiceChangeIntake', {
            example: {
              changeType: 'maintenance',
              title: 'Core router upgrade',
              whatChanges: 'The core routers of Pudong get new software',
              impact: { services: ['broadband'], regions: ['shanghai-pudong'], downtime: { startsAt: '2030-01-15T02:00:00+08:00', endsAt: '2030-01-15T04:00:00+08:00' } },
              userAction: 'Nothing: the change is automatic',
              contacts: 'Call 10000',
              appealChannel: 'https://isp.example/appeal',
              effectiveAt: '2030-01-15T02:00:00+08:00',
            },
          }),
        },
      },
    },
  },
  responses: {
    201: { description: 'The change as recorded at intake (status scheduled; the notice is on its way to the affected users)', content: { 'application/json': { schema: caseStateSchema } } },
    403: { description: 'An emergency flagged by someone who is not a supervisor', content: { 'application/json': { schema: errorBodySchema } } },
    422: { description: 'Invalid field; an effectiveAt less than 48 h away names the earliest allowed time', content: { 'application/json': { schema: errorBodySchema } } },
  },
});

export function serviceChangeRoutes(deps: ApiDeps) {
  return newRouter().openapi(createServiceChange, async (c) => {
    const intake = c.req.valid('json');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const actor = c.get('actor');
    const policy = defaultServiceChangePolicy;
    // N1 counts from now, when the notice goes out; a retry of a change already opened answers with that change.
    const retried = idempotencyKey ? await findIdempotencyKey(deps.sql, 'service-change', idempotencyKey) : undefined;
    const check = checkNoticePeriod({
      effectiveAtMs: Date.parse(intake.effectiveAt),
      noticeAtMs: Date.now(),
      policy,
      emergency: intake.emergency,
      role: actor.role,
      field: 'effectiveAt',
      emergencyField: 'emergency',
    });
    if (!check.ok && !retried) {
      if (check.kind === 'forbidden') throw new ApiError(403, 'forbidden', check.message, [{ field: check.field, message: check.message }]);
      throw new ApiError(422, 'invalid_request', `effectiveAt is too early: ${check.message}`, [{ field: check.field, message: check.message }]);
    }
    const terms = await pinnedIncidentTerms(deps);
    const opened = await openCase(
      { temporal: deps.temporal, sql: deps.sql, taskQueue: deps.taskQueue, timeZone: deps.policies.timeZone },
      {
        type: 'service-change',
        workflowType: 'serviceChange',
        body: intake,
        idempotencyKey,
        customerId: null,
        priority: null,
        title: intake.title,
        buildInput: (caseId): ServiceChangeInput => ({
          caseId,
          changeType: intake.changeType,
          title: intake.title,
          whatChanges: intake.whatChanges,
          impact: intake.impact,
          userAction: intake.userAction,
          contacts: intake.contacts,
          appealChannel: intake.appealChannel,
          effectiveAt: intake.effectiveAt,
          emergency: check.ok ? check.emergency : null,
          openedBy: actor,
          policy,
          incidentTerms: { policy: terms.policy, compensation: terms.compensation },
          timeZone: terms.timeZone,
          calendar: terms.calendar,
        }),
      },
    );
    if (opened.replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(opened.state, 201);
  });
}
