import { createRoute, z } from '@hono/zod-openapi';
import { loadWorkingCalendar } from '../../config/calendar';
import { classifyComplaintPriority, complaintIntakeSchema, complaintPriorityRefusal } from '../../domain/complaint';
import { calendarForYears } from '../../domain/working-calendar';
import type { ComplaintInput } from '../../workflows/complaint';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { openCase } from '../open-case';
import { newRouter } from '../router';
import { customerExists } from '../../db/customers';
import { refuseTerminatedCustomer } from './terminations';
import { bearer, caseStateSchema } from '../schemas';

const createComplaint = createRoute({
  method: 'post',
  path: '/v1/complaints',
  tags: ['complaints'],
  summary: 'Open a complaint (C1): the case number is given at once and its clocks start',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: {
    headers: z.object({
      'idempotency-key': z.string().min(1).max(200).optional().openapi({ description: 'Retries with the same key return the same case' }),
    }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: complaintIntakeSchema.openapi('ComplaintIntake', {
            example: { customerId: 'cust-000001', channel: 'web', category: 'network-quality', summary: 'No signal since this morning' },
          }),
        },
      },
    },
  },
  responses: {
    201: {
      description: 'Opened: the case as recorded at intake, its deadlines running (or the same case again for a repeated Idempotency-Key)',
      content: { 'application/json': { schema: caseStateSchema } },
    },
    409: { description: 'The customer was terminated and can open no new case (T4)', content: { 'application/json': { schema: errorBodySchema } } },
    422: { description: 'Invalid field', content: { 'application/json': { schema: errorBodySchema } } },
  },
});

export function complaintRoutes(deps: ApiDeps) {
  return newRouter().openapi(createComplaint, async (c) => {
    const intake = c.req.valid('json');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    if (!(await customerExists(deps.sql, intake.customerId)))
      throw new ApiError(422, 'invalid_request', 'unknown customer', [{ field: 'customerId', message: `no customer ${intake.customerId}; create it with PUT /v1/customers/{id}` }]);
    await refuseTerminatedCustomer(deps.sql, intake.customerId);

    const refused = complaintPriorityRefusal(intake.category, intake.priority);
    if (refused) throw new ApiError(422, 'invalid_request', refused, [{ field: 'priority', message: `${refused}; leave it out or send P1` }]);
    const { priority, reason } = classifyComplaintPriority(intake.category, intake.priority);
    // Pinned into the case: the years its working-day deadlines can reach.
    const intakeYear = new Date(intake.receivedAt ?? Date.now()).getUTCFullYear();
    const calendar = calendarForYears(await loadWorkingCalendar(deps.sql), intakeYear - 1, intakeYear + 1);
    const opened = await openCase(
      { temporal: deps.temporal, sql: deps.sql, taskQueue: deps.taskQueue, timeZone: deps.policies.timeZone },
      {
        type: 'complaint',
        body: intake,
        idempotencyKey,
        customerId: intake.customerId,
        priority,
        title: intake.summary,
        buildInput: (caseId): ComplaintInput => ({
          caseId,
          customerId: intake.customerId,
          channel: intake.channel,
          category: intake.category,
          priority,
          priorityReason: reason,
          major: intake.major,
          summary: intake.summary,
          description: intake.description,
          receivedAt: intake.receivedAt,
          openedBy: c.get('actor'),
          policy: deps.policies.complaintSla,
          timeZone: deps.policies.timeZone,
          calendar,
        }),
      },
    );
    if (opened.replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(opened.state, 201);
  });
}
