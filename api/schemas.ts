import { z } from '@hono/zod-openapi';
import { complaintDetailsSchema, incidentDetailsSchema } from '../domain/case-details';
import { caseTypes, formatCaseId, type CaseType } from '../domain/case-types';
import { claimDetailsSchema } from '../domain/claim';
import { dataRequestDetailsSchema } from '../domain/data-request';
import { renewalDetailsSchema } from '../domain/renewal';
import { serviceChangeDetailsSchema } from '../domain/service-change';
import { terminationDetailsSchema } from '../domain/termination';

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
      .union([
        complaintDetailsSchema.openapi('ComplaintDetails'),
        incidentDetailsSchema.openapi('IncidentDetails'),
        claimDetailsSchema.openapi('ClaimDetails'),
        serviceChangeDetailsSchema.openapi('ServiceChangeDetails'),
        renewalDetailsSchema.openapi('RenewalDetails'),
        terminationDetailsSchema.openapi('TerminationDetails'),
        dataRequestDetailsSchema.openapi('DataRequestDetails'),
      ])
      .openapi({
        description:
          "What the case's type shows: ComplaintDetails, IncidentDetails, ClaimDetails (a compensation claim), ServiceChangeDetails or RenewalDetails (both service-change cases), TerminationDetails or DataRequestDetails",
      }),
  })
  .openapi('CaseState');

/** Case numbers (CMP-2026-000042) of the given types, as a pattern; ASCII digits only, as the API reads them. */
export function caseNumberPattern(types: readonly CaseType[]): string {
  const prefixes = types.map((type) => formatCaseId(type, 2000, 0).slice(0, 3));
  return `^(${prefixes.join('|')})-[0-9]{4}-[0-9]{6,}$`;
}

/** A case number in a path. Declared with its pattern; one that names no case type is answered 404 like an unknown case. */
export const caseIdParams = z.object({
  caseId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'caseId', in: 'path' }, example: 'CMP-2026-000042', pattern: caseNumberPattern(caseTypes) }),
});

export const bearer = [{ bearerAuth: [] }];
