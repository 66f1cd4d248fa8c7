import { DateTime } from 'luxon';
import { z } from 'zod';
import { systemActor, type Actor } from './actors';
import { allowedActions, type ActionTable, type ActionUnion, nonBlank, someItems } from './case-actions';
import { isoOrNull } from './case-clocks';
import { event, joinSteps, noStep, type CaseContext, type CaseDefinition, type CaseStateBase, type EffectOutcome, type Step } from './case-definition';
import type { CaseState } from './case-state';
import type { IncidentScope } from './incident';
import type { StaffNotificationRequest } from './messages';
import type { ChangeFanout, ChangeFanoutTotals } from './service-change';
import type { WorkingCalendar } from './working-calendar';

// Renewal and fee notices (std §6.3, N4): the service, fees, term and conditions, sent ahead of the
// renewal date on the user's channels, each send recorded.

/** Pinned into each renewal notice when it opens. */
export interface RenewalPolicy {
  version: string;
  /** N4: how many days before the renewal date a notice goes out (each one a send). */
  daysBefore: number[];
  /** Local time (provider zone) of each send, so a notice never goes out at midnight. */
  sendAtLocalTime: string;
  fanoutPageSize: number;
}

export const defaultRenewalPolicy: RenewalPolicy = { version: 'renewal/2026.1', daysBefore: [30, 7], sendAtLocalTime: '10:00', fanoutPageSize: 1000 };

const text = (max: number) => z.string().trim().min(1).meta(nonBlank).max(max);
const segmentSchema = z
  .object({ services: z.array(z.string().trim().min(1).meta(nonBlank).max(64)).max(50).default([]), regions: z.array(z.string().trim().min(1).meta(nonBlank).max(64)).max(200).default([]) })
  .refine((segment) => segment.services.length > 0 || segment.regions.length > 0, { message: 'name at least one service or region', path: ['services'] })
  .meta(someItems('services', 'regions'));

/** POST /v1/renewal-notices: one customer or a segment, and what their notice states (N4). */
export const renewalIntakeSchema = z
  .object({
    customerId: z.string().min(1).max(64).optional().describe('One customer; or give a segment'),
    segment: segmentSchema.optional().describe('Every customer with one of these services in one of these regions'),
    service: text(200),
    fees: text(500).describe("As users should read them, e.g. '¥99.00 per month'"),
    term: text(500),
    conditions: text(4000),
    contacts: text(500),
    renewalDate: z.iso.date().describe('The day the service renews, in the provider time zone'),
    daysBefore: z
      .array(z.number().int().min(1).max(365))
      .min(1)
      .max(10)
      .refine((days) => new Set(days).size === days.length, 'each day once')
      .meta({ uniqueItems: true })
      .optional()
      .describe('Days before the renewal date a notice goes out; default [30, 7]'),
  })
  .refine((notice) => (notice.customerId === undefined) !== (notice.segment === undefined), { message: 'give either customerId or segment', path: ['customerId'] })
  .meta({ oneOf: [{ required: ['customerId'] }, { required: ['segment'] }] });
export type RenewalIntake = z.infer<typeof renewalIntakeSchema>;

export const renewalStatuses = ['scheduled', 'completed', 'cancelled'] as const;
export type RenewalStatus = (typeof renewalStatuses)[number];

const staff = ['agent', 'supervisor'] as const;

export const renewalActions = {
  cancel: {
    roles: staff,
    from: ['scheduled'],
    input: z.object({ reason: text(2000) }),
    describe: 'withdraw the renewal notice: no further sends; users already told are told it is withdrawn',
  },
  note: {
    roles: staff,
    from: ['scheduled'],
    input: z.object({ text: text(4000) }),
    describe: 'internal note, not shown to users',
  },
} satisfies ActionTable<RenewalStatus>;
export type RenewalAction = ActionUnion<typeof renewalActions>;

/** The start of the renewal day in the provider's zone. */
export function renewalStartMs(renewalDate: string, timeZone: string): number {
  return DateTime.fromISO(renewalDate, { zone: timeZone }).startOf('day').toMillis();
}

/** N4: when each notice goes out: `daysBefore` days before the renewal date, at the local send time; earliest first. */
export function renewalSendTimes(renewalDate: string, daysBefore: readonly number[], timeZone: string, sendAtLocalTime: string): { daysBefore: number; dueAtMs: number }[] {
  const [hour, minute] = sendAtLocalTime.split(':').map(Number) as [number, number];
  const day = DateTime.fromISO(renewalDate, { zone: timeZone }).startOf('day');
  return [...new Set(daysBefore)].sort((a, b) => b - a).map((days) => ({ daysBefore: days, dueAtMs: day.minus({ days }).set({ hour, minute, second: 0, millisecond: 0 }).toMillis() }));
}

/** Whole calendar days (provider zone) from `atMs` to the renewal date. */
export function daysUntil(renewalDate: string, atMs: number, timeZone: string): number {
  const day = DateTime.fromISO(renewalDate, { zone: timeZone }).startOf('day');
  return Math.round(day.diff(DateTime.fromMillis(atMs, { zone: timeZone }).startOf('day'), 'days').days);
}

export interface RenewalInput {
  caseId: string;
  audience: { customerId: string } | { segment: IncidentScope };
  service: string;
  fees: string;
  term: string;
  conditions: string;
  contacts: string;
  renewalDate: string;
  openedBy: Actor;
  /** Pinned at intake, with the request's `daysBefore` in place of the default. */
  policy: RenewalPolicy;
  timeZone: string;
  calendar: WorkingCalendar;
}

export type RenewalEffect = { kind: 'fanout'; fanout: ChangeFanout; recipientsKey: string };

export interface RenewalState extends CaseStateBase {
  audience: RenewalInput['audience'];
  service: string;
  fees: string;
  term: string;
  conditions: string;
  contacts: string;
  renewalDate: string;
  renewsAtMs: number;
  policy: RenewalPolicy;
  status: RenewalStatus;
  openedAtMs: number;
  /** N4: each planned send; one that fell due while another went out is covered by it (`coveredAtMs`). */
  sends: { daysBefore: number; dueAtMs: number; sentAtMs: number | null; late: boolean; customers: number | null; notificationsQueued: number | null }[];
  cancellation: { atMs: number; by: string; reason: string } | null;
  fanoutsQueued: number;
  fanoutFailures: { number: number; attempt: number; error: string; retrying: boolean }[];
}

export const renewalDetailsSchema = z.object({
  kind: z.literal('renewal'),
  audience: z.union([z.object({ customerId: z.string() }), z.object({ segment: z.object({ services: z.array(z.string()), regions: z.array(z.string()) }) })]),
  service: z.string(),
  fees: z.string(),
  term: z.string(),
  conditions: z.string(),
  contacts: z.string(),
  renewalDate: z.string(),
  sends: z.array(
    z.object({
      daysBefore: z.number(),
      dueAt: z.string(),
      sentAt: z.string().nullable(),
      late: z.boolean(),
      customers: z.number().nullable().describe('N4: users this send was queued for'),
      notificationsQueued: z.number().nullable(),
    }),
  ),
  cancellation: z.object({ at: z.string(), by: z.string(), reason: z.string() }).nullable(),
  fanoutFailures: z.array(z.object({ number: z.number(), attempt: z.number(), error: z.string(), retrying: z.boolean() })),
  policyVersion: z.string(),
});
export type RenewalDetails = z.infer<typeof renewalDetailsSchema>;

const fanoutAttempts = 3;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A renewal notice (N4) on the case runtime: one durable timer per send (default 30 and 7 days
 * before the renewal date), each send a fan-out to the customer or segment, recorded as an event
 * with its outbox rows; the case closes on the renewal date. A `service-change` case (CHG-…)
 * whose details say `kind: 'renewal'`.
 */
export const renewalCase: CaseDefinition<RenewalInput & { workflowId: string }, RenewalState, RenewalEffect, never, RenewalAction> = {
  type: 'service-change',
  actions: renewalActions,

  open(input, ctx) {
    const s: RenewalState = {
      caseId: input.caseId,
      workflowId: input.workflowId,
      clocks: {},
      calendar: input.calendar,
      timeZone: input.timeZone,
      updatedAtMs: ctx.nowMs,
      audience: input.audience,
      service: input.service,
      fees: input.fees,
      term: input.term,
      conditions: input.conditions,
      contacts: input.contacts,
      renewalDate: input.renewalDate,
      renewsAtMs: renewalStartMs(input.renewalDate, input.timeZone),
      policy: input.policy,
      status: 'scheduled',
      openedAtMs: ctx.nowMs,
      sends: renewalSendTimes(input.renewalDate, input.policy.daysBefore, input.timeZone, input.policy.sendAtLocalTime).map((send) => ({
        ...send,
        sentAtMs: null,
        late: false,
        customers: null,
        notificationsQueued: null,
      })),
      cancellation: null,
      fanoutsQueued: 0,
      fanoutFailures: [],
    };
    const opened = event('renewal.opened', input.openedBy, ctx, {
      audience: input.audience,
      service: input.service,
      fees: input.fees,
      term: input.term,
      conditions: input.conditions,
      contacts: input.contacts,
      renewalDate: input.renewalDate,
      sends: s.sends.map((send) => ({ daysBefore: send.daysBefore, dueAt: iso(send.dueAtMs) })),
      policyVersion: input.policy.version,
    });
    return { state: s, events: [opened] };
  },

  decide(s, request, ctx) {
    const { actor } = request;
    s.updatedAtMs = ctx.nowMs;
    switch (request.action) {
      case 'cancel': {
        s.status = 'cancelled';
        s.cancellation = { atMs: ctx.nowMs, by: actor.id, reason: request.input.reason };
        const told = s.sends.some((send) => send.sentAtMs !== null);
        const cancelled = event('renewal.cancelled', actor, ctx, { reason: request.input.reason, usersTold: told });
        if (!told) return { events: [cancelled] };
        const params = { caseId: s.caseId, service: s.service, reason: request.input.reason, contacts: s.contacts };
        return { events: [cancelled], effects: [fanout(s, 'renewal-cancelled', 'renewal.cancelled', `${s.workflowId}:renewal-cancelled`, params)] };
      }
      case 'note':
        return { events: [event('renewal.note', actor, ctx, { text: request.input.text })] };
    }
  },

  onClock: () => noStep,

  nextWakeAtMs(s) {
    if (s.status !== 'scheduled') return undefined;
    const next = s.sends.find((send) => send.sentAtMs === null);
    return next ? Math.min(next.dueAtMs, s.renewsAtMs) : s.renewsAtMs;
  },

  onWake(s, ctx) {
    if (s.status !== 'scheduled') return noStep;
    const steps: Step<RenewalEffect>[] = [];
    // Sends that fell due together (opened late, or the worker was away) go out as one notice, never several at once.
    const due = s.sends.filter((send) => send.sentAtMs === null && send.dueAtMs <= ctx.nowMs);
    if (due.length > 0 && ctx.nowMs < s.renewsAtMs) {
      s.updatedAtMs = ctx.nowMs;
      const latest = due.at(-1)!;
      for (const send of due) {
        send.sentAtMs = ctx.nowMs;
        send.late = ctx.nowMs - send.dueAtMs >= 60_000;
      }
      const daysLeft = daysUntil(s.renewalDate, ctx.nowMs, s.timeZone);
      const params = { caseId: s.caseId, service: s.service, fees: s.fees, term: s.term, conditions: s.conditions, contacts: s.contacts, daysLeft: String(daysLeft) };
      const sent = event('renewal.sent', systemActor, ctx, {
        daysBefore: latest.daysBefore,
        dueAt: iso(latest.dueAtMs),
        late: latest.late,
        covers: due.map((send) => send.daysBefore),
        daysLeft,
      });
      steps.push({ events: [sent], effects: [fanout(s, 'renewal', 'renewal.notice', `${s.workflowId}:renewal-${latest.daysBefore}`, params)] });
    }
    if (ctx.nowMs >= s.renewsAtMs) {
      s.updatedAtMs = ctx.nowMs;
      s.status = 'completed';
      const unsent = s.sends.filter((send) => send.sentAtMs === null).map((send) => send.daysBefore);
      steps.push({ events: [event('renewal.completed', systemActor, ctx, { renewalDate: s.renewalDate, unsent })] });
    }
    return joinSteps(...steps);
  },

  onEffectDone(s, effect, outcome, ctx) {
    s.updatedAtMs = ctx.nowMs;
    return fanoutDone(s, effect.fanout, outcome, ctx);
  },

  view(s) {
    const details: RenewalDetails = {
      kind: 'renewal',
      audience: s.audience,
      service: s.service,
      fees: s.fees,
      term: s.term,
      conditions: s.conditions,
      contacts: s.contacts,
      renewalDate: s.renewalDate,
      sends: s.sends.map((send) => ({
        daysBefore: send.daysBefore,
        dueAt: iso(send.dueAtMs),
        sentAt: isoOrNull(send.sentAtMs),
        late: send.late,
        customers: send.customers,
        notificationsQueued: send.notificationsQueued,
      })),
      cancellation: s.cancellation ? { at: iso(s.cancellation.atMs), by: s.cancellation.by, reason: s.cancellation.reason } : null,
      fanoutFailures: s.fanoutFailures,
      policyVersion: s.policy.version,
    };
    const next = s.sends.find((send) => send.sentAtMs === null);
    return {
      caseId: s.caseId,
      workflowId: s.workflowId,
      type: 'service-change',
      status: s.status,
      priority: null,
      customerId: 'customerId' in s.audience ? s.audience.customerId : null,
      summary: `Renewal of ${s.service} on ${s.renewalDate}`.slice(0, 200),
      openedAt: iso(s.openedAtMs),
      updatedAt: iso(s.updatedAtMs),
      slaBreached: false,
      deadlines: [],
      nextStep: s.status !== 'scheduled' ? null : next ? `The ${next.daysBefore}-day notice goes out at ${iso(next.dueAtMs)}` : `Every notice went out; the case closes on ${s.renewalDate}`,
      expectedCompletionAt: s.status === 'scheduled' ? iso(s.renewsAtMs) : null,
      allowedActions: allowedActions(renewalActions, s.status),
      // The case details union (domain/case-details.ts) does not list renewals yet; their schema is renewalDetailsSchema.
      details: details as unknown as CaseState['details'],
    } satisfies CaseState;
  },

  isClosed: (s) => s.status !== 'scheduled',
};

function fanout(s: RenewalState, kind: ChangeFanout['kind'], templateId: ChangeFanout['templateId'], keyPrefix: string, params: Record<string, string>): RenewalEffect {
  const number = ++s.fanoutsQueued;
  return {
    kind: 'fanout',
    recipientsKey: `${s.workflowId}:fanout-${number}`,
    fanout: {
      number,
      kind,
      templateId,
      keyPrefix,
      audience: 'customerId' in s.audience ? { customerId: s.audience.customerId } : { scopes: [s.audience.segment] },
      params,
      instants: {},
      dates: { renewalDate: s.renewalDate },
    },
  };
}

function fanoutDone(s: RenewalState, sent: ChangeFanout, outcome: EffectOutcome, ctx: CaseContext): Step<RenewalEffect> {
  if (!outcome.ok) {
    const retrying = outcome.retryable && outcome.attempt < fanoutAttempts;
    s.fanoutFailures = [...s.fanoutFailures, { number: sent.number, attempt: outcome.attempt, error: outcome.message.slice(0, 500), retrying }].slice(-20);
    const message: StaffNotificationRequest = {
      idempotencyKey: `${s.workflowId}:fanout-${sent.number}-failed-${outcome.attempt}`,
      role: 'supervisor',
      kind: 'renewal.fanout-failed',
      subject: `${s.caseId}: renewal notice not delivered`,
      body: `The ${sent.kind} of ${s.caseId} failed on attempt ${outcome.attempt}: ${outcome.message.slice(0, 500)}. ${retrying ? 'It will be retried.' : 'It is not retried: tell the users by hand.'}`,
      occurredAt: iso(ctx.nowMs),
      deliverAfter: iso(ctx.nowMs),
    };
    return {
      events: [event('renewal.fanout-failed', systemActor, ctx, { number: sent.number, attempt: outcome.attempt, error: outcome.message.slice(0, 1000), retrying }, { staffNotifications: [message] })],
    };
  }
  const { customers, notificationsQueued, pages, durationMs } = outcome.result as ChangeFanoutTotals;
  if (sent.kind === 'renewal') {
    for (const send of s.sends) if (sent.keyPrefix.endsWith(`:renewal-${send.daysBefore}`)) Object.assign(send, { customers, notificationsQueued });
  }
  // N4: each send recorded with who it was queued for.
  return {
    events: [
      event('renewal.notified', systemActor, ctx, { number: sent.number, kind: sent.kind, template: sent.templateId, keyPrefix: sent.keyPrefix, customers, notificationsQueued, pages, durationMs }),
    ],
  };
}
