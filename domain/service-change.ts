import { z } from 'zod';
import type { ActorRole } from './actors';
import { nonBlank, someItems, type ActionTable, type ActionUnion } from './case-actions';
import type { IncidentScope } from './incident';
import { formatDateTime, type Locale, type TemplateId } from './notification-templates';
import { changeWords } from './templates/change';

// Service changes (std §6.1, N1–N3): what a change is, the 48-hour rule and what a notice says.

export const changeTypes = ['maintenance', 'upgrade', 'migration', 'tariff', 'terms', 'discontinuation', 'other'] as const;
export type ChangeType = (typeof changeTypes)[number];

export const serviceChangeStatuses = ['scheduled', 'in-progress', 'completed', 'cancelled', 'overran'] as const;
export type ServiceChangeStatus = (typeof serviceChangeStatuses)[number];

/** Pinned into each change when it opens, so it keeps the rules it was announced under. */
export interface ServiceChangePolicy {
  version: string;
  /** N1: users are told at least this long before the change takes effect. */
  noticeHours: number;
  /** N2: a reminder this long before it takes effect. */
  reminderHoursBefore: number;
  /** The downtime window warns staff at this share of its length. */
  warnAtFraction: number;
  /** Fan-out: customers per page (one transaction each). */
  fanoutPageSize: number;
}

export const defaultServiceChangePolicy: ServiceChangePolicy = {
  version: 'change/2026.1',
  noticeHours: 48,
  reminderHoursBefore: 24,
  warnAtFraction: 0.8,
  fanoutPageSize: 1000,
};

const hourMs = 3_600_000;
/** A time sent by a client may lie this far in our past (the request's own travel time). */
const pastToleranceMs = 60_000;

const instant = z.iso.datetime({ offset: true });
const text = (max: number) => z.string().trim().min(1).meta(nonBlank).max(max);

export const downtimeWindowSchema = z
  .object({ startsAt: instant, endsAt: instant })
  .refine((window) => Date.parse(window.endsAt) > Date.parse(window.startsAt), { message: 'must be after startsAt', path: ['endsAt'] });
export type DowntimeWindow = z.infer<typeof downtimeWindowSchema>;

/** N1: an emergency change shorter than the notice period; a supervisor's, with the reason users are told. */
export const emergencySchema = z.object({ justification: text(2000) });

const impactSchema = z
  .object({
    services: z.array(z.string().trim().min(1).meta(nonBlank).max(64)).max(50).default([]),
    regions: z.array(z.string().trim().min(1).meta(nonBlank).max(64)).max(200).default([]),
    /** The expected interruption; null when users lose no service (a tariff or terms change). */
    downtime: downtimeWindowSchema.nullable().default(null),
  })
  .refine((impact) => impact.services.length > 0 || impact.regions.length > 0, { message: 'name at least one service or region', path: ['services'] })
  .meta(someItems('services', 'regions'));

/** POST /v1/service-changes: a planned change and everything its notice must say (N2). */
export const serviceChangeIntakeSchema = z
  .object({
    changeType: z.enum(changeTypes),
    title: text(200),
    whatChanges: text(4000),
    impact: impactSchema,
    userAction: text(2000).describe("What users must do; say so when it is nothing ('Nothing: the change is automatic')"),
    contacts: text(500),
    appealChannel: text(500),
    effectiveAt: instant.describe('N1: at least 48 h after now (the notice goes out at once), unless a supervisor flags an emergency'),
    emergency: emergencySchema.optional().describe('N1: a supervisor only, with the justification users are told'),
  })
  .refine((change) => change.impact.downtime === null || Date.parse(change.impact.downtime.startsAt) >= Date.parse(change.effectiveAt), {
    message: 'the downtime cannot start before the change takes effect (effectiveAt)',
    path: ['impact', 'downtime', 'startsAt'],
  });
export type ServiceChangeIntake = z.infer<typeof serviceChangeIntakeSchema>;

export type NoticeCheck =
  | { ok: true; leadMinutes: number; earliestAtMs: number; emergency: { justification: string } | null }
  | { ok: false; kind: 'forbidden' | 'invalid-input'; field: string; message: string; earliestAtMs?: number };

/**
 * N1: a change takes effect at least `noticeHours` after its notice goes out (`noticeAtMs`: now,
 * since the notice goes out at once). Earlier only as an emergency, flagged by a supervisor with a
 * justification; an emergency that was not needed is not recorded as one. `field` names the
 * effective time in the request, for the 422.
 */
export function checkNoticePeriod(request: {
  effectiveAtMs: number;
  noticeAtMs: number;
  policy: Pick<ServiceChangePolicy, 'noticeHours'>;
  emergency?: { justification: string } | undefined;
  role: ActorRole;
  field: string;
  emergencyField: string;
}): NoticeCheck {
  const { effectiveAtMs, noticeAtMs, policy, emergency } = request;
  if (emergency && request.role !== 'supervisor') {
    return { ok: false, kind: 'forbidden', field: request.emergencyField, message: `only a supervisor may flag an emergency change (N1); the ${request.role} role may not` };
  }
  const earliestAtMs = earliestEffectiveAtMs(noticeAtMs, policy);
  const leadMinutes = Math.floor((effectiveAtMs - noticeAtMs) / 60_000);
  if (effectiveAtMs >= earliestAtMs) return { ok: true, leadMinutes, earliestAtMs, emergency: null };
  if (effectiveAtMs < noticeAtMs - pastToleranceMs) {
    return { ok: false, kind: 'invalid-input', field: request.field, message: `must not lie in the past (now is ${new Date(noticeAtMs).toISOString()})`, earliestAtMs };
  }
  if (emergency) return { ok: true, leadMinutes: Math.max(0, leadMinutes), earliestAtMs, emergency };
  return {
    ok: false,
    kind: 'invalid-input',
    field: request.field,
    earliestAtMs,
    message:
      `must be at least ${policy.noticeHours} h after the notice goes out (N1): the earliest allowed is ${new Date(earliestAtMs).toISOString()}; ` +
      'a supervisor may flag an emergency with a justification',
  };
}

/**
 * N1: the earliest a change announced at `noticeAtMs` may take effect: the notice period counted from
 * the notice's minute rounded up, so it is never less than 48 h and the time named in a refusal is a
 * whole minute (e.g. 2026-11-18T01:31:00.000Z) that stays valid until the clock turns that minute.
 */
export function earliestEffectiveAtMs(noticeAtMs: number, policy: Pick<ServiceChangePolicy, 'noticeHours'>): number {
  return Math.ceil(noticeAtMs / 60_000) * 60_000 + policy.noticeHours * hourMs;
}

/** N2: the reminder's time, or null when the notice itself went out within the reminder period (an emergency). */
export function reminderDueAtMs(effectiveAtMs: number, noticeAtMs: number, policy: Pick<ServiceChangePolicy, 'reminderHoursBefore'>): number | null {
  const dueAtMs = effectiveAtMs - policy.reminderHoursBefore * hourMs;
  return dueAtMs > noticeAtMs ? dueAtMs : null;
}

/** A reschedule without a new window keeps the old window's length and offset from the effective time. */
export function shiftedWindow(window: { startsAtMs: number; endsAtMs: number } | null, byMs: number): { startsAtMs: number; endsAtMs: number } | null {
  return window === null ? null : { startsAtMs: window.startsAtMs + byMs, endsAtMs: window.endsAtMs + byMs };
}

const staff = ['agent', 'supervisor'] as const;

export const serviceChangeActions = {
  reschedule: {
    roles: staff,
    from: ['scheduled'],
    input: z.object({
      effectiveAt: instant,
      /** A new downtime window; left out, the old one moves with the effective time. */
      downtime: downtimeWindowSchema.nullable().optional(),
      reason: text(2000),
      emergency: emergencySchema.optional(),
    }),
    describe: 'move the change (N1 again from now: at least 48 h ahead unless a supervisor flags an emergency); users are told and the reminder moves',
  },
  cancel: {
    roles: staff,
    from: ['scheduled', 'in-progress'],
    input: z.object({ reason: text(2000) }),
    describe: 'call the change off; users are told their service stays as it is',
  },
  complete: {
    roles: staff,
    from: ['in-progress'],
    input: z.object({ summary: z.string().trim().max(2000).default('') }),
    describe: 'the change is done inside its window; users get the "done" notice',
  },
  note: {
    roles: staff,
    from: ['scheduled', 'in-progress'],
    input: z.object({ text: text(4000) }),
    describe: 'internal note, not shown to users',
  },
} satisfies ActionTable<ServiceChangeStatus>;

export type ServiceChangeAction = ActionUnion<typeof serviceChangeActions>;

export function serviceChangeNextStep(status: ServiceChangeStatus, hasDowntime: boolean): string | null {
  switch (status) {
    case 'scheduled':
      return 'Users were told; they are reminded the day before, and the change starts at its effective time';
    case 'in-progress':
      return hasDowntime ? 'Ops carry out the change and mark it complete before the downtime window ends, or it becomes an incident' : 'Ops mark the change complete';
    case 'completed':
    case 'cancelled':
    case 'overran':
      return null;
  }
}

/** Which message a fan-out sends, each with its own template and notification key prefix. */
export type ChangeMessageKind = 'notice' | 'reminder' | 'rescheduled' | 'cancelled' | 'done' | 'renewal' | 'renewal-cancelled';

/**
 * One message to every user of an audience (N3, N4): sent by an activity that pages through the
 * recipients fixed when it starts. `params` are the same for every user; `instants` (ISO) and the
 * change's `impact` are written in each user's locale and zone.
 */
export interface ChangeFanout {
  /** Numbered when queued: the recipient snapshot's key derives from it. */
  number: number;
  kind: ChangeMessageKind;
  templateId: TemplateId;
  /** Notification keys are `<keyPrefix>:<customerId>` (then the channel): one message per user, whatever retries happen. */
  keyPrefix: string;
  audience: { scopes: IncidentScope[] } | { customerId: string };
  params: Record<string, string>;
  instants: Record<string, string>;
  /** Dates (YYYY-MM-DD) written in each user's locale. */
  dates?: Record<string, string>;
  impact?: { changeType: ChangeType; services: string[]; regions: string[]; downtime: { startsAt: string; endsAt: string } | null };
}

export interface ChangeFanoutTotals {
  customers: number;
  notificationsQueued: number;
  pages: number;
  durationMs: number;
}

const dateFormats: Record<Locale, Intl.DateTimeFormatOptions> = { 'zh-CN': { year: 'numeric', month: 'long', day: 'numeric' }, en: { year: 'numeric', month: 'short', day: 'numeric' } };

/** The params of a fan-out message for one user's locale (N2: type, scope and downtime in their words). */
export function changeMessageParams(fanout: Pick<ChangeFanout, 'params' | 'instants' | 'dates' | 'impact'>, locale: Locale, timeZone: string): Record<string, string> {
  const words = changeWords[locale];
  const params: Record<string, string> = { ...fanout.params };
  for (const [name, iso] of Object.entries(fanout.instants)) params[name] = formatDateTime(iso, locale, timeZone);
  for (const [name, date] of Object.entries(fanout.dates ?? {})) {
    params[name] = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'zh-CN', { ...dateFormats[locale], timeZone: 'UTC' }).format(new Date(`${date}T00:00:00Z`));
  }
  if (fanout.impact) {
    const { impact } = fanout;
    params.changeType = words.changeTypes[impact.changeType] ?? impact.changeType;
    params.services = impact.services.length > 0 ? impact.services.join(words.listSeparator) : words.anyService;
    params.regions = impact.regions.length > 0 ? impact.regions.join(words.listSeparator) : words.anyRegion;
    params.downtime = impact.downtime ? words.downtime(formatDateTime(impact.downtime.startsAt, locale, timeZone), formatDateTime(impact.downtime.endsAt, locale, timeZone)) : words.noDowntime;
  }
  return params;
}

const isoInstant = z.string();
const fanoutKinds = ['notice', 'reminder', 'rescheduled', 'cancelled', 'done', 'renewal', 'renewal-cancelled'] as const;
const fanoutRecord = z.object({
  number: z.number().int(),
  kind: z.enum(fanoutKinds),
  at: isoInstant,
  customers: z.number(),
  notificationsQueued: z.number(),
  pages: z.number(),
  durationMs: z.number(),
});
const fanoutFailure = z.object({ number: z.number().int(), kind: z.enum(fanoutKinds), attempt: z.number().int(), error: z.string(), retrying: z.boolean() });

/** What a planned change shows in `details` (GET /v1/cases/{id}): the notice's content (N2), its timing (N1, N2) and who was told (N3). */
export const serviceChangeDetailsSchema = z.object({
  kind: z.literal('change'),
  changeType: z.enum(changeTypes),
  title: z.string(),
  whatChanges: z.string(),
  impact: z.object({ services: z.array(z.string()), regions: z.array(z.string()), downtime: z.object({ startsAt: isoInstant, endsAt: isoInstant }).nullable() }),
  userAction: z.string(),
  contacts: z.string(),
  appealChannel: z.string(),
  effectiveAt: isoInstant,
  notice: z.object({
    sentAt: isoInstant,
    leadMinutes: z.number(),
    short: z.boolean().describe('N1: the notice went out later than the API accepted it (by a minute or more), escalated'),
    customers: z.number().nullable().describe('N3: users the notice was queued for'),
  }),
  emergency: z.boolean().describe('N1: the notice period was cut short by a supervisor at least once'),
  emergencies: z.array(z.object({ at: isoInstant, by: z.string(), justification: z.string(), leadMinutes: z.number(), on: z.enum(['intake', 'reschedule']) })),
  reminder: z.object({ dueAt: isoInstant.nullable(), sentAt: isoInstant.nullable(), missed: z.boolean() }),
  reschedules: z.array(z.object({ at: isoInstant, by: z.string(), from: isoInstant, to: isoInstant, reason: z.string() })),
  completion: z.object({ at: isoInstant, by: z.string(), summary: z.string(), auto: z.boolean() }).nullable(),
  cancellation: z.object({ at: isoInstant, by: z.string(), reason: z.string() }).nullable(),
  overrun: z.object({ at: isoInstant, windowEndedAt: isoInstant, incidentId: z.string().nullable(), error: z.string().nullable() }).nullable(),
  fanouts: z.array(fanoutRecord),
  fanoutFailures: z.array(fanoutFailure),
  policyVersion: z.string(),
});
export type ServiceChangeDetails = z.infer<typeof serviceChangeDetailsSchema>;
