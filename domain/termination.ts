import { DateTime } from 'luxon';
import { z } from 'zod';
import { nonBlank, type ActionTable, type ActionUnion } from './case-actions';
import { clockSkewToleranceMs } from './instants';

// Termination of service (T1–T7): who may end a service and when, what the notice must say, and
// what happens at and after the effective date. Pure: the API and the case use the same rules.

export const terminationInitiators = ['provider', 'customer'] as const;
export type TerminationInitiator = (typeof terminationInitiators)[number];

/**
 * scheduled: notice given, the user may export until the effective date (T3);
 * terminated: account deactivated and resources released (T4), personal data not yet deleted;
 * closed: personal data deleted (T6), the termination's own records kept (T7);
 * withdrawn: the provider took it back before the date (T3).
 */
export const terminationStatuses = ['scheduled', 'terminated', 'closed', 'withdrawn'] as const;
export type TerminationStatus = (typeof terminationStatuses)[number];

/** How users reach the provider about the termination (T2); shown in every message. */
export const terminationContactsSchema = z
  .object({
    phone: z.string().trim().min(1).meta(nonBlank).max(40).optional(),
    email: z.email().max(200).optional(),
    url: z.url().max(500).optional(),
  })
  .refine((contacts) => contacts.phone !== undefined || contacts.email !== undefined || contacts.url !== undefined, { message: 'give at least one of phone, email or url' })
  .meta({ anyOf: [{ required: ['phone'] }, { required: ['email'] }, { required: ['url'] }] });
export type TerminationContacts = z.infer<typeof terminationContactsSchema>;

/** The termination figures of a deployment; the version is pinned into each case when it opens. */
export interface TerminationPolicy {
  version: string;
  /** T1: a provider-initiated termination takes effect at least this many days after its notice. */
  providerNoticeDays: number;
  /** T3: reminders this many days before the effective date. */
  reminderDaysBefore: number[];
  /** T6: personal data is deleted this many days after the effective date (unless a legal hold stands). */
  deletionAfterDays: number;
  /** An effective date further ahead than this is refused (a typo, not a plan). */
  maxDaysAhead: number;
  /** T2: the contacts a notice names when the request gives none. */
  contacts: TerminationContacts;
}

export const defaultTerminationPolicy: TerminationPolicy = {
  version: 'termination/2026.1',
  providerNoticeDays: 30,
  reminderDaysBefore: [7, 1],
  deletionAfterDays: 30,
  maxDaysAhead: 400,
  contacts: { phone: '10000', email: 'care@isp.example', url: 'https://isp.example/help' },
};

/** A deployment's overrides (PLEDGE_POLICY_FILE, key `termination`); the version is required. */
export const terminationPolicyOverridesSchema = z.object({
  version: z.string().min(1),
  providerNoticeDays: z.number().int().positive().optional(),
  reminderDaysBefore: z.array(z.number().positive()).max(5).optional(),
  deletionAfterDays: z.number().int().positive().optional(),
  maxDaysAhead: z.number().int().positive().optional(),
  contacts: terminationContactsSchema.optional(),
});

/** POST /v1/terminations. */
export const terminationIntakeSchema = z
  .object({
    customerId: z.string().min(1).max(64),
    initiatedBy: z.enum(terminationInitiators),
    reason: z.string().trim().min(1).meta(nonBlank).max(2000),
    /** Provider: at least 30 days after the notice (T1). Customer: any time they choose, now when left out (T5). */
    effectiveAt: z.iso.datetime({ offset: true }).optional(),
    contacts: terminationContactsSchema.optional(),
  })
  .refine((intake) => intake.initiatedBy === 'customer' || intake.effectiveAt !== undefined, {
    message: 'a provider-initiated termination needs its effective date, at least 30 days after the notice (T1)',
    path: ['effectiveAt'],
  })
  .meta({ anyOf: [{ properties: { initiatedBy: { const: 'customer' } } }, { required: ['effectiveAt'] }] });
export type TerminationIntake = z.infer<typeof terminationIntakeSchema>;

const dayMs = 24 * 3600_000;
const minuteMs = 60_000;

/** T1: the earliest instant a provider-initiated termination may take effect, for a notice sent at `noticeAtMs` (rounded up to the minute). */
export function earliestProviderEffectiveAtMs(noticeAtMs: number, policy: Pick<TerminationPolicy, 'providerNoticeDays'>): number {
  return Math.ceil((noticeAtMs + policy.providerNoticeDays * dayMs) / minuteMs) * minuteMs;
}

export type EffectiveDateCheck = { ok: true; effectiveAtMs: number } | { ok: false; message: string; earliestAtMs?: number };

/**
 * T1, T5: when a termination may take effect, checked at intake with the notice going out now.
 * The provider gives at least `providerNoticeDays` of notice; the user chooses any date from now on.
 */
export function checkEffectiveAt(request: { initiatedBy: TerminationInitiator; effectiveAt?: string | undefined }, noticeAtMs: number, policy: TerminationPolicy): EffectiveDateCheck {
  const requestedMs = request.effectiveAt === undefined ? undefined : Date.parse(request.effectiveAt);
  const latestMs = noticeAtMs + policy.maxDaysAhead * dayMs;
  if (requestedMs !== undefined && requestedMs > latestMs) {
    return { ok: false, message: `must be within ${policy.maxDaysAhead} days: on or before ${new Date(latestMs).toISOString()}` };
  }
  if (request.initiatedBy === 'customer') {
    if (requestedMs === undefined) return { ok: true, effectiveAtMs: noticeAtMs };
    if (requestedMs < noticeAtMs - clockSkewToleranceMs) return { ok: false, message: 'must not lie in the past: the user may end their service now or at a later date (T5)' };
    return { ok: true, effectiveAtMs: Math.max(requestedMs, noticeAtMs) };
  }
  if (requestedMs === undefined) return { ok: false, message: `a provider-initiated termination needs its effective date (T1)` };
  // The exact instant 30 days after "now" moves while a request travels; a minute's grace.
  const earliestAtMs = earliestProviderEffectiveAtMs(noticeAtMs, policy);
  if (requestedMs < noticeAtMs + policy.providerNoticeDays * dayMs - minuteMs) {
    return {
      ok: false,
      earliestAtMs,
      message: `a provider-initiated termination takes effect at least ${policy.providerNoticeDays} days after its notice (T1): the earliest allowed is ${new Date(earliestAtMs).toISOString()}`,
    };
  }
  return { ok: true, effectiveAtMs: requestedMs };
}

/**
 * T1 when the case opens: the notice goes out now. If the case opens later than intake checked (a
 * worker picked it up late), a provider's date moves so the full notice period still holds.
 */
export function effectiveAtForNotice(initiatedBy: TerminationInitiator, requestedAtMs: number, noticeAtMs: number, policy: TerminationPolicy): number {
  if (initiatedBy === 'customer') return Math.max(requestedAtMs, noticeAtMs);
  const earliest = noticeAtMs + policy.providerNoticeDays * dayMs;
  return requestedAtMs >= earliest - clockSkewToleranceMs ? requestedAtMs : earliestProviderEffectiveAtMs(noticeAtMs, policy);
}

/** T3: the reminders a notice at `noticeAtMs` can still give before `effectiveAtMs` (one whose time has passed is not scheduled). */
export function reminderSchedule(noticeAtMs: number, effectiveAtMs: number, policy: Pick<TerminationPolicy, 'reminderDaysBefore'>): { daysBefore: number; dueAtMs: number }[] {
  return [...new Set(policy.reminderDaysBefore)]
    .sort((a, b) => b - a)
    .map((daysBefore) => ({ daysBefore, dueAtMs: effectiveAtMs - daysBefore * dayMs }))
    .filter((reminder) => reminder.dueAtMs > noticeAtMs);
}

/** T6: when personal data is deleted. */
export function deletionDueAtMs(effectiveAtMs: number, policy: Pick<TerminationPolicy, 'deletionAfterDays'>): number {
  return effectiveAtMs + policy.deletionAfterDays * dayMs;
}

/** T2: the contacts as one line, the same in every locale ("10000 · care@isp.example · https://…"). */
export function contactLine(contacts: TerminationContacts): string {
  return [contacts.phone, contacts.email, contacts.url].filter((part): part is string => part !== undefined).join(' · ');
}

/** An instant as messages show it, the same in every locale: "2026-12-31 00:00 (Asia/Shanghai)". */
export function messageTime(atMs: number, timeZone: string): string {
  return `${DateTime.fromMillis(atMs, { zone: timeZone }).toFormat('yyyy-MM-dd HH:mm')} (${timeZone})`;
}

const staff = ['agent', 'supervisor'] as const;
const supervisor = ['supervisor'] as const;
const open = ['scheduled', 'terminated'] as const;
const text = (max = 2000) => z.string().trim().min(1).meta(nonBlank).max(max);

export const terminationActions = {
  'request-export': {
    roles: ['agent', 'supervisor', 'customer'],
    from: ['scheduled'],
    input: z.object({ note: z.string().trim().max(500).optional() }),
    describe: 'export the customer’s data (personal data, cases, messages, ledger) as a JSON file, downloadable with the tracking code or a staff key (T3)',
  },
  withdraw: {
    roles: staff,
    from: ['scheduled'],
    input: z.object({ reason: text() }),
    describe: 'the provider withdraws the termination before its effective date; the user is told and nothing further happens (T3)',
  },
  note: {
    roles: staff,
    from: open,
    input: z.object({ text: text(4000) }),
    describe: 'internal note, not shown to the user',
  },
  'legal-hold': {
    roles: supervisor,
    from: open,
    input: z.object({ reason: text() }),
    describe: 'a legal hold on the customer’s personal data: deletion waits until it is released (T6)',
  },
  'release-hold': {
    roles: supervisor,
    from: open,
    input: z.object({ reason: text() }),
    describe: 'release the legal hold; personal data due for deletion is deleted at once (T6)',
  },
} satisfies ActionTable<TerminationStatus>;

export type TerminationAction = ActionUnion<typeof terminationActions>;

/** What a termination shows in `details`. */
export const terminationDetailsSchema = z.object({
  initiatedBy: z.enum(terminationInitiators),
  reason: z.string(),
  contacts: z.object({ phone: z.string().optional(), email: z.string().optional(), url: z.string().optional() }),
  policyVersion: z.string(),
  noticeAt: z.string(),
  requestedEffectiveAt: z.string(),
  effectiveAt: z.string(),
  reminders: z.array(z.object({ daysBefore: z.number(), dueAt: z.string(), sentAt: z.string().nullable(), skipped: z.boolean() })),
  exports: z.array(
    z.object({ n: z.number().int(), purpose: z.enum(['requested', 'final']), path: z.string(), sha256: z.string(), sizeBytes: z.number().int(), createdAt: z.string(), requestedBy: z.string() }),
  ),
  deactivation: z
    .object({ deactivatedAt: z.string(), releasedServices: z.array(z.string()), provisioning: z.enum(['pending', 'sent', 'skipped', 'failed']), provisioningDetail: z.string().nullable() })
    .nullable(),
  deletionDueAt: z.string(),
  deletion: z.object({ deletedAt: z.string().nullable(), heldSince: z.string().nullable(), heldReason: z.string().nullable(), fields: z.array(z.string()) }),
  legalHold: z.object({ reason: z.string(), by: z.string(), at: z.string() }).nullable(),
  withdrawal: z.object({ reason: z.string(), by: z.string(), at: z.string() }).nullable(),
  failure: z.object({ stage: z.string(), attempts: z.number().int(), error: z.string(), retryAt: z.string() }).nullable(),
});
export type TerminationDetails = z.infer<typeof terminationDetailsSchema>;
