import { z } from '@hono/zod-openapi';
import { complaintDetailsSchema, incidentDetailsSchema } from '../domain/case-details';
import { caseTypes } from '../domain/case-types';
import { claimDetailsSchema } from '../domain/claim';

export const deadlineSchema = z
  .object({
    name: z.string().openapi({ example: 'firstResponse' }),
    dueAt: z.string().nullable(),
    state: z.enum(['pending', 'paused', 'met', 'breached', 'cancelled']),
    calendarVersion: z.string().optional(),
    provisional: z.boolean().optional(),
    warnAt: z.string().nullable(),
    metAt: z.string().nullable(),
    breachedAt: z.string().nullable(),
    pausedMinutes: z.number(),
    policyVersion: z.string(),
  })
  .openapi('Deadline');

export const caseStateSchema = z
  .object({
    caseId: z.string().openapi({ example: 'CMP-2026-000042' }),
    workflowId: z.string().openapi({ example: 'complaint-CMP-2026-000042' }),
    type: z.enum(caseTypes),
    status: z.string(),
    priority: z.string().nullable(),
    customerId: z.string().nullable(),
    summary: z.string(),
    openedAt: z.string(),
    updatedAt: z.string(),
    slaBreached: z.boolean(),
    deadlines: z.array(deadlineSchema),
    nextStep: z.string().nullable(),
    expectedCompletionAt: z.string().nullable(),
    allowedActions: z.array(z.string()),
    details: z
      .union([complaintDetailsSchema.openapi('ComplaintDetails'), incidentDetailsSchema.openapi('IncidentDetails'), claimDetailsSchema.openapi('ClaimDetails')])
      .openapi({ description: "What the case's type shows: ComplaintDetails, IncidentDetails or ClaimDetails (a compensation claim)" }),
  })
  .openapi('CaseState');

export const caseIdParams = z.object({
  caseId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'caseId', in: 'path' }, example: 'CMP-2026-000042' }),
});

export const bearer = [{ bearerAuth: [] }];
