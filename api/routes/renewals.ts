import { createRoute, z } from '@hono/zod-openapi';
import { customerExists } from '../../db/customers';
import { defaultRenewalPolicy, renewalIntakeSchema, renewalStartMs, type RenewalInput } from '../../domain/renewal';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { openCase } from '../open-case';
import { newRouter } from '../router';
import { bearer, caseStateSchema } from '../schemas';
import { pinnedIncidentTerms } from './incidents';

const createRenewalNotice = createRoute({
  method: 'post',
  path: '/v1/renewal-notices',
  tags: ['service-changes'],
  summary: 'Schedule renewal and fee notices (N4) for one customer or a segment: sent on their channels 30 and 7 days before the renewal date (or the days given), each send recorded',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: {
    headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional().openapi({ description: 'Retries with the same key return the same notice' }) }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: renewalIntakeSchema.openapi('RenewalNoticeIntake', {
            example: {
              customerId: 'cust-000001',
              service: 'Broadband 500M',
              fees: '¥99.00 per month',
              term: '12 months',
              conditions: 'Cancel any time before the renewal date',
              contacts: 'Call 10000',
              renewalDate: '2030-01-01',
            },
          }),
        },
      },
    },
  },
  responses: {
    201: { description: 'The renewal notice case (a service-change case whose details say kind: renewal) with its planned sends', content: { 'application/json': { schema: caseStateSchema } } },
    422: { description: 'Invalid field', content: { 'application/json': { schema: errorBodySchema } } },
  },
});

export function renewalRoutes(deps: ApiDeps) {
  return newRouter().openapi(createRenewalNotice, async (c) => {
    const intake = c.req.valid('json');
    const { timeZone } = deps.policies;
    if (renewalStartMs(intake.renewalDate, timeZone) <= Date.now()) {
      throw new ApiError(422, 'invalid_request', 'the renewal date has come', [{ field: 'renewalDate', message: `must be a day after today (${timeZone})` }]);
    }
    if (intake.customerId !== undefined && !(await customerExists(deps.sql, intake.customerId))) {
      throw new ApiError(422, 'invalid_request', 'unknown customer', [{ field: 'customerId', message: `no customer ${intake.customerId}` }]);
    }
    const { calendar } = await pinnedIncidentTerms(deps);
    const opened = await openCase(
      { temporal: deps.temporal, sql: deps.sql, taskQueue: deps.taskQueue, timeZone },
      {
        type: 'service-change',
        workflowType: 'renewalNotice',
        body: intake,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        customerId: intake.customerId ?? null,
        priority: null,
        title: `Renewal of ${intake.service} on ${intake.renewalDate}`,
        buildInput: (caseId): RenewalInput => ({
          caseId,
          audience: intake.customerId !== undefined ? { customerId: intake.customerId } : { segment: intake.segment! },
          service: intake.service,
          fees: intake.fees,
          term: intake.term,
          conditions: intake.conditions,
          contacts: intake.contacts,
          renewalDate: intake.renewalDate,
          openedBy: c.get('actor'),
          policy: { ...defaultRenewalPolicy, daysBefore: intake.daysBefore ?? defaultRenewalPolicy.daysBefore },
          timeZone,
          calendar,
        }),
      },
    );
    if (opened.replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(opened.state, 201);
  });
}
