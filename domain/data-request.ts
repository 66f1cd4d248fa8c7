import { z } from 'zod';
import { nonBlank, type ActionTable, type ActionUnion } from './case-actions';
import { pastInstant } from './instants';

// Data-subject requests (D3): a user asks to see, correct or delete the personal data Pledge holds
// about them; the provider answers within 15 working days. Pure: the API and the case share it.

export const dataRequestKinds = ['access', 'correction', 'deletion'] as const;
export type DataRequestKind = (typeof dataRequestKinds)[number];

/**
 * awaiting-verification: the user's identity is not yet confirmed (nothing is done before it is);
 * in-progress: the export, correction or deletion is being carried out (or retried after a failure);
 * deferred: a deletion waits until the user's open cases no longer need the data (the user was told when);
 * completed: done and the user told; refused: not done, the user told why (legal hold, staff decision).
 */
export const dataRequestStatuses = ['awaiting-verification', 'in-progress', 'deferred', 'completed', 'refused'] as const;
export type DataRequestStatus = (typeof dataRequestStatuses)[number];

export const verificationMethods = ['id-document', 'account-login', 'sms-code', 'in-person', 'video-call', 'other'] as const;

/** The data-request figures of a deployment; the version is pinned into each case when it opens. */
export interface DataRequestPolicy {
  version: string;
  /** D3: the answer is due this many working days after the request was received. */
  dueWorkingDays: number;
  /** C9: staff are warned at this share of the time. */
  warnAtFraction: number;
  /** A deferred deletion whose blocking cases give no expected completion is looked at again after this many days. */
  deferralRecheckDays: number;
  /** A deferred deletion is tried again no sooner than this many hours later (overdue cases do not make it spin). */
  minimumDeferralHours: number;
}

export const defaultDataRequestPolicy: DataRequestPolicy = { version: 'data-request/2026.1', dueWorkingDays: 15, warnAtFraction: 0.8, deferralRecheckDays: 7, minimumDeferralHours: 24 };

/** A deployment's overrides (PLEDGE_POLICY_FILE, key `dataRequest`); the version is required. */
export const dataRequestPolicyOverridesSchema = z.object({
  version: z.string().min(1),
  dueWorkingDays: z.number().int().min(1).max(15, 'D3: at most 15 working days').optional(),
  warnAtFraction: z.number().gt(0).lt(1).optional(),
  deferralRecheckDays: z.number().int().min(1).max(90).optional(),
  minimumDeferralHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .optional(),
});

const text = (max: number) => z.string().trim().min(1).meta(nonBlank).max(max);

/** Who the requester proved to be, and how; recorded as its own event (D1, D3). */
export const verificationSchema = z
  .object({
    status: z.enum(['verified', 'pending']).default('verified').describe('pending: identity checks started but not finished; `verify` completes them'),
    method: z.enum(verificationMethods),
    reference: text(200).describe('What was checked: document type and last digits, the login session, the code sent'),
    verifiedBy: text(120).optional().describe('The staff member who confirmed the identity'),
  })
  .refine((verification) => verification.status === 'pending' || verification.verifiedBy !== undefined, { message: 'say who verified the identity', path: ['verifiedBy'] })
  .meta({ anyOf: [{ required: ['status'], properties: { status: { const: 'pending' } } }, { required: ['verifiedBy'] }] });
export type Verification = z.infer<typeof verificationSchema>;

/** The customer fields a correction may change (D3): the personal data Pledge holds. */
export const correctableFields = ['name', 'email', 'phone'] as const;
export type CorrectableField = (typeof correctableFields)[number];

export const customerChangesSchema = z
  .object({
    name: text(200).optional(),
    email: z.email().max(200).nullable().optional(),
    phone: z
      .string()
      .regex(/^\+[1-9][0-9]{6,14}$/, 'E.164, e.g. +8613800138000')
      .nullable()
      .optional(),
  })
  .strict()
  .refine((changes) => Object.values(changes).some((value) => value !== undefined), { message: `name at least one of ${correctableFields.join(', ')}` })
  .meta({ minProperties: 1 });
export type CustomerChanges = z.infer<typeof customerChangesSchema>;

/** POST /v1/data-requests. */
export const dataRequestIntakeSchema = z
  .object({
    customerId: z.string().min(1).max(64),
    kind: z.enum(dataRequestKinds),
    verification: verificationSchema,
    /** Correction only: the new values. */
    changes: customerChangesSchema.optional(),
    /** When the user made the request, if before now (a letter, a call logged later); D3 counts from here. */
    receivedAt: pastInstant(90).optional(),
    note: z.string().trim().max(2000).optional(),
  })
  .refine((intake) => intake.kind !== 'correction' || intake.changes !== undefined, { message: 'a correction says what to change', path: ['changes'] })
  .refine((intake) => intake.kind === 'correction' || intake.changes === undefined, { message: 'only a correction takes changes', path: ['changes'] })
  .meta({
    oneOf: [
      { required: ['kind', 'changes'], properties: { kind: { const: 'correction' } } },
      { properties: { kind: { enum: dataRequestKinds.filter((kind) => kind !== 'correction') }, changes: false } },
    ],
  });
export type DataRequestIntake = z.infer<typeof dataRequestIntakeSchema>;

/** One changed field, as the correction event records it (D1: old → new). */
export interface FieldChange {
  field: CorrectableField;
  from: string | null;
  to: string | null;
}

/** An open case of the customer that still needs their data, as the deletion found it. */
export interface BlockingCase {
  caseId: string;
  type: string;
  status: string;
  expectedCompletionAt: string | null;
}

const hourMs = 3600_000;
const dayMs = 24 * hourMs;

/**
 * D3: when a deletion blocked by open cases is tried again: when the last of them is expected to
 * complete; a case that gives no expected completion is looked at again after `deferralRecheckDays`;
 * never sooner than `minimumDeferralHours` (an overdue case would otherwise make it spin).
 */
export function deferDeletionUntilMs(blocking: readonly BlockingCase[], nowMs: number, policy: Pick<DataRequestPolicy, 'deferralRecheckDays' | 'minimumDeferralHours'>): number {
  const expected = blocking.map((entry) => (entry.expectedCompletionAt === null ? nowMs + policy.deferralRecheckDays * dayMs : Date.parse(entry.expectedCompletionAt)));
  return Math.max(nowMs + policy.minimumDeferralHours * hourMs, ...expected);
}

/** Effects (export, correction, deletion) are tried this many times before the case waits for staff (`complete`). */
export const dataRequestEffectAttempts = 3;

const staff = ['agent', 'supervisor'] as const;
const supervisor = ['supervisor'] as const;
const open = ['awaiting-verification', 'in-progress', 'deferred'] as const;

export const dataRequestActions = {
  verify: {
    roles: staff,
    from: ['awaiting-verification'],
    input: z.object({ method: z.enum(verificationMethods), reference: text(200), verifiedBy: text(120) }),
    describe: 'the requester’s identity is confirmed (method, what was checked, by whom); the request is then carried out (D3)',
  },
  complete: {
    roles: staff,
    from: ['in-progress', 'deferred'],
    input: z.object({ note: z.string().trim().max(2000).optional() }),
    describe: 'carry the request out now: after a step that failed, or a deferred deletion whose blocking cases ended early; the outcome is recorded and told as usual',
  },
  refuse: {
    roles: supervisor,
    from: open,
    input: z.object({ reason: text(2000) }),
    describe: 'refuse the request (identity not confirmed, manifestly unfounded); the reason is told to the user (D3)',
  },
  note: {
    roles: staff,
    from: open,
    input: z.object({ text: text(4000) }),
    describe: 'internal note, not shown to the user',
  },
} satisfies ActionTable<DataRequestStatus>;

export type DataRequestAction = ActionUnion<typeof dataRequestActions>;

/** What a data request shows in `details`. */
export const dataRequestDetailsSchema = z.object({
  kind: z.enum(dataRequestKinds),
  policyVersion: z.string(),
  receivedAt: z.string(),
  verification: z.object({ status: z.enum(['verified', 'pending']), method: z.string(), reference: z.string(), verifiedBy: z.string().nullable(), verifiedAt: z.string().nullable() }),
  changesRequested: z.array(z.string()),
  export: z.object({ n: z.number().int(), path: z.string(), sha256: z.string(), sizeBytes: z.number().int(), createdAt: z.string() }).nullable(),
  correction: z.object({ changes: z.array(z.object({ field: z.string(), from: z.string().nullable(), to: z.string().nullable() })), correctedAt: z.string() }).nullable(),
  deletion: z.object({ deletedAt: z.string(), fields: z.array(z.string()), notificationsRedacted: z.number().int(), casesPurged: z.number().int(), exportFilesRemoved: z.number().int() }).nullable(),
  deferral: z.object({ reason: z.string(), until: z.string(), since: z.string(), times: z.number().int(), blockingCases: z.array(z.string()) }).nullable(),
  refusal: z.object({ reason: z.string(), by: z.string(), at: z.string() }).nullable(),
  failure: z.object({ attempts: z.number().int(), error: z.string(), waitingForStaff: z.boolean() }).nullable(),
  completedAt: z.string().nullable(),
});
export type DataRequestDetails = z.infer<typeof dataRequestDetailsSchema>;
