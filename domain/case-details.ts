import { z } from 'zod';
import type { ClaimDetails } from './claim';
import { complaintCategories } from './complaint';
import { incidentSources } from './incident';

/**
 * What each case type shows in `details` (the `state` query, GET /v1/cases/{id}, the read model):
 * declared once, so the views are checked against it and /openapi.json can say what a case holds.
 */
const instant = z.string();
const nullableInstant = instant.nullable();

export const complaintDetailsSchema = z.object({
  channel: z.string(),
  category: z.enum(complaintCategories),
  major: z.boolean(),
  priorityReason: z.string(),
  assignee: z.string().nullable(),
  pausedFor: z.object({ reason: z.string(), since: instant }).nullable(),
  resolution: z.string().nullable(),
  resolvedAt: nullableInstant,
  disputeAndReopenUntil: nullableInstant,
  rating: z.object({ rating: z.number().int(), comment: z.string().nullable() }).nullable(),
  arbitration: z.object({ decision: z.enum(['uphold', 'overturn']), reasons: z.string() }).nullable(),
  referral: z.object({ body: z.string(), reference: z.string() }).nullable(),
  reopenCount: z.number().int(),
  timeZone: z.string(),
});
export type ComplaintDetails = z.infer<typeof complaintDetailsSchema>;

const fanoutKind = z.enum(['outage-notice', 'update', 'recovery', 'correction']);
const scope = z.object({ services: z.array(z.string()), regions: z.array(z.string()) });

export const incidentDetailsSchema = z.object({
  source: z.enum(incidentSources),
  dedupKey: z.string().nullable(),
  description: z.string(),
  startedAt: instant,
  endedAt: nullableInstant,
  outageMinutes: z.number().nullable(),
  severitySource: z.enum(['staff', 'labels', 'default']),
  scope,
  scopeSource: z.enum(['staff', 'labels']),
  affectedCount: z.number().int(),
  affectedQuery: z.string(),
  alerts: z.object({ total: z.number().int(), firing: z.number().int(), resolved: z.number().int() }),
  unchangedAlertBatches: z.number().int(),
  notice: z.object({
    message: z.string(),
    dueAt: nullableInstant,
    autoPublishAt: nullableInstant,
    publishedAt: nullableInstant,
    publishedBy: z.string().nullable(),
    auto: z.boolean().nullable(),
    late: z.boolean().nullable(),
    latenessMinutes: z.number().nullable(),
    supersededByRecovery: z.boolean(),
  }),
  updates: z.array(z.object({ at: instant, by: z.string(), message: z.string(), notifiedUsers: z.boolean() })),
  nextUpdateReminderAt: nullableInstant,
  resolution: z.object({ summary: z.string(), by: z.string(), via: z.enum(['alerts', 'manual']) }).nullable(),
  recovery: z.object({
    customers: z.number(),
    notificationsQueued: z.number(),
    remediesPaid: z.number(),
    remedyAmountCents: z.number(),
    completedAt: nullableInstant,
    remediesPending: z.number().optional().describe('P4: remedies above the approval threshold waiting for approve-remedies'),
    remedyPendingAmountCents: z.number().optional(),
  }),
  review: z.object({ dueAt: nullableInstant, submittedAt: nullableInstant, summary: z.string().nullable(), rootCause: z.string().nullable(), followUps: z.array(z.string()) }),
  policyVersion: z.string(),
  compensationPolicyVersion: z.string(),
  fanouts: z.array(
    z.object({
      kind: fanoutKind,
      customers: z.number(),
      notificationsQueued: z.number(),
      remediesPaid: z.number(),
      remedyAmountCents: z.number(),
      pages: z.number(),
      runs: z.number(),
      durationMs: z.number(),
      maxRunHistoryLength: z.number(),
    }),
  ),
  fanoutFailures: z.array(z.object({ number: z.number().int(), kind: fanoutKind, attempt: z.number().int(), error: z.string(), retrying: z.boolean() })),
  dismissal: z.object({ reason: z.string(), by: z.string(), at: instant, correction: z.boolean() }).nullable(),
  /** O2/P5: the incident this one was merged into (it closed then); `failed` when the target could not be told. */
  mergedInto: z.object({ caseId: z.string(), reason: z.string(), by: z.string(), at: instant, failed: z.boolean() }).nullable(),
  /** O2/P5: the incidents merged into this one. */
  mergedFrom: z.array(z.string()),
});
export type IncidentDetails = z.infer<typeof incidentDetailsSchema>;

/** The details of any case type. */
export type CaseDetails = ComplaintDetails | IncidentDetails | ClaimDetails;
