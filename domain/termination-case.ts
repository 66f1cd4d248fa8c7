import { systemActor, type Actor } from './actors';
import { allowedActions, type ActionCheck } from './case-actions';
import { isoOrNull } from './case-clocks';
import { event, joinSteps, noStep, type CaseContext, type CaseDefinition, type CaseStateBase, type EffectOutcome, type Step } from './case-definition';
import type { CaseState, DeadlineView } from './case-state';
import type { NotificationRequest, StaffNotificationRequest, StepEvent } from './messages';
import type { TemplateId } from './notification-templates';
import {
  contactLine,
  deletionDueAtMs,
  effectiveAtForNotice,
  messageTime,
  reminderSchedule,
  terminationActions,
  type TerminationAction,
  type TerminationContacts,
  type TerminationDetails,
  type TerminationInitiator,
  type TerminationPolicy,
  type TerminationStatus,
} from './termination';

export interface TerminationInput {
  caseId: string;
  customerId: string;
  initiatedBy: TerminationInitiator;
  reason: string;
  /** What intake accepted (T1, T5); the case moves a provider's date only if it opens too late for the full notice. */
  effectiveAt: string;
  contacts: TerminationContacts;
  openedBy: Actor;
  /** Pinned at intake (T1, T3, T6 figures). */
  policy: TerminationPolicy;
  timeZone: string;
}

export interface TerminationOutcome {
  caseId: string;
  status: TerminationStatus;
  deactivatedAt: string | null;
  deletedAt: string | null;
}

export type ExportPurpose = 'requested' | 'final';

/** The side effects a termination asks for, each an activity keyed so a retry does it once. */
export type TerminationEffect =
  | { kind: 'export'; caseId: string; customerId: string; n: number; purpose: ExportPurpose; at: string; requestedBy: string }
  | { kind: 'deactivate'; caseId: string; customerId: string; at: string }
  | { kind: 'provision'; idempotencyKey: string; caseId: string; customerId: string; releasedServices: string[]; effectiveAt: string }
  | { kind: 'legal-hold'; caseId: string; customerId: string; hold: boolean; reason: string; by: string; at: string }
  | { kind: 'delete-personal-data'; caseId: string; customerId: string; at: string };

/** What the activities answer, as the case reads them. */
export interface ExportResult {
  n: number;
  path: string;
  sha256: string;
  sizeBytes: number;
  createdAt: string;
}
export interface DeactivateResult {
  terminatedAt: string;
  releasedServices: string[];
}
export interface ProvisionResult {
  outcome: 'sent' | 'skipped';
  detail: string;
}
export type DeletionResult = { deleted: true; deletedAt: string; fields: string[] } | { deleted: false; heldReason: string };

/** The duties at and after the effective date that are retried after a failure. */
type RetriedStage = 'final-export' | 'deactivate' | 'delete';

export interface TerminationState extends CaseStateBase {
  customerId: string;
  initiatedBy: TerminationInitiator;
  reason: string;
  contacts: TerminationContacts;
  policy: TerminationPolicy;
  openedAtMs: number;
  status: TerminationStatus;
  requestedEffectiveAtMs: number;
  effectiveAtMs: number;
  deletionDueAtMs: number;
  reminders: { daysBefore: number; dueAtMs: number; sentAtMs: number | null; skipped: boolean }[];
  /** Export numbers handed out (requested and final), so each file keeps its own number whatever fails. */
  exportsStarted: number;
  exports: (ExportResult & { purpose: ExportPurpose; requestedBy: string })[];
  finalExportN: number | null;
  deactivation: { atMs: number; releasedServices: string[]; provisioning: 'pending' | 'sent' | 'skipped' | 'failed'; provisioningDetail: string | null } | null;
  deletion: { deletedAtMs: number | null; heldSinceMs: number | null; heldReason: string | null; nextAttemptAtMs: number | null; fields: string[] };
  legalHold: { reason: string; by: string; atMs: number } | null;
  withdrawal: { reason: string; by: string; atMs: number } | null;
  failure: { stage: RetriedStage; attempts: number; error: string; retryAtMs: number } | null;
}

const dayMs = 24 * 3600_000;
/** A failed duty is tried again after 15 min, doubling up to a day (the activity itself retried for up to a day first). */
const retryBaseMs = 15 * 60_000;
/** A deletion held by the customer record (not this case's own hold) is looked at again this often. */
const heldRecheckMs = 7 * dayMs;
/** No working-day deadlines here; the runtime's calendar slot stays empty. */
const noCalendar = { version: 'not used (calendar days)', years: {} };

/**
 * A termination of service (T1–T7). The notice states reason, date, what to do and contacts (T2);
 * reminders 7 and 1 days before and exports on request until the date, or a withdrawal (T3); at
 * the date a final backup, deactivation and release of services, the provisioning system told (T4);
 * personal data deleted 30 days later unless a legal hold stands (T6); the case's own records stay (T7).
 */
export const terminationCase: CaseDefinition<TerminationInput & { workflowId: string }, TerminationState, TerminationEffect, never, TerminationAction> = {
  type: 'termination',
  actions: terminationActions,

  open(input, ctx) {
    const requestedMs = Date.parse(input.effectiveAt);
    const effectiveAtMs = effectiveAtForNotice(input.initiatedBy, requestedMs, ctx.nowMs, input.policy);
    const s: TerminationState = {
      ...(ctx.rules ? { rules: ctx.rules } : {}),
      caseId: input.caseId,
      workflowId: input.workflowId,
      clocks: {},
      calendar: noCalendar,
      timeZone: input.timeZone,
      updatedAtMs: ctx.nowMs,
      customerId: input.customerId,
      initiatedBy: input.initiatedBy,
      reason: input.reason,
      contacts: input.contacts,
      policy: input.policy,
      openedAtMs: ctx.nowMs,
      status: 'scheduled',
      requestedEffectiveAtMs: requestedMs,
      effectiveAtMs,
      deletionDueAtMs: deletionDueAtMs(effectiveAtMs, input.policy),
      reminders: reminderSchedule(ctx.nowMs, effectiveAtMs, input.policy).map((reminder) => ({ ...reminder, sentAtMs: null, skipped: false })),
      exportsStarted: 0,
      exports: [],
      finalExportN: null,
      deactivation: null,
      deletion: { deletedAtMs: null, heldSinceMs: null, heldReason: null, nextAttemptAtMs: null, fields: [] },
      legalHold: null,
      withdrawal: null,
      failure: null,
    };
    s.deletion.nextAttemptAtMs = s.deletionDueAtMs;
    const opened = event('termination.opened', input.openedBy, ctx, {
      initiatedBy: input.initiatedBy,
      reason: input.reason,
      requestedEffectiveAt: input.effectiveAt,
      contacts: input.contacts,
      policyVersion: input.policy.version,
    });
    const moved =
      effectiveAtMs !== requestedMs && input.initiatedBy === 'provider'
        ? [
            event('termination.effective-date-moved', systemActor, ctx, {
              from: input.effectiveAt,
              to: iso(effectiveAtMs),
              why: `T1: at least ${input.policy.providerNoticeDays} days after the notice`,
            }),
          ]
        : [];
    const notice = event(
      'termination.notice-sent',
      systemActor,
      ctx,
      { effectiveAt: iso(effectiveAtMs), reminders: s.reminders.map((reminder) => ({ daysBefore: reminder.daysBefore, dueAt: iso(reminder.dueAtMs) })), deletionDueAt: iso(s.deletionDueAtMs) },
      tell(s, 'notice', 'termination.notice', { reason: s.reason, effectiveAt: messageTime(effectiveAtMs, s.timeZone), deletionDays: String(s.policy.deletionAfterDays) }),
    );
    return { state: s, events: [opened, ...moved, notice] };
  },

  refine(s, request, checked, ctx): ActionCheck {
    if (!checked.ok) return checked;
    if (request.action === 'withdraw' && ctx.nowMs >= s.effectiveAtMs)
      return { ok: false, kind: 'refused', message: `the effective date ${iso(s.effectiveAtMs)} has passed; a termination is withdrawn before it (T3)` };
    if (request.action === 'legal-hold' && s.legalHold) return { ok: false, kind: 'refused', message: `a legal hold already stands (${s.legalHold.reason}); release it first` };
    if (request.action === 'release-hold' && !s.legalHold) return { ok: false, kind: 'refused', message: 'no legal hold stands on this termination' };
    return checked;
  },

  decide(s, request, ctx) {
    const { actor } = request;
    s.updatedAtMs = ctx.nowMs;
    switch (request.action) {
      case 'request-export': {
        const n = ++s.exportsStarted;
        const requested = event('termination.export-requested', actor, ctx, { n, note: request.input.note ?? null });
        return { events: [requested], effects: [exportEffect(s, n, 'requested', actor, ctx)] };
      }
      case 'withdraw': {
        s.status = 'withdrawn';
        s.failure = null;
        s.withdrawal = { reason: request.input.reason, by: actor.id, atMs: ctx.nowMs };
        const unsent = s.reminders.filter((reminder) => reminder.sentAtMs === null && !reminder.skipped).map((reminder) => reminder.daysBefore);
        const withdrawn = event(
          'termination.withdrawn',
          actor,
          ctx,
          { reason: request.input.reason, effectiveAt: iso(s.effectiveAtMs), remindersCancelled: unsent },
          tell(s, 'withdrawn', 'termination.withdrawn', { reason: request.input.reason }),
        );
        return { events: [withdrawn] };
      }
      case 'note':
        return { events: [event('termination.note', actor, ctx, { text: request.input.text })] };
      case 'legal-hold': {
        s.legalHold = { reason: request.input.reason, by: actor.id, atMs: ctx.nowMs };
        const placed = event('termination.legal-hold-placed', actor, ctx, { reason: request.input.reason });
        return { events: [placed], effects: [{ kind: 'legal-hold', caseId: s.caseId, customerId: s.customerId, hold: true, reason: request.input.reason, by: actor.id, at: iso(ctx.nowMs) }] };
      }
      case 'release-hold': {
        const held = s.legalHold!;
        s.legalHold = null;
        s.deletion.heldSinceMs = null;
        s.deletion.heldReason = null;
        // T6: a deletion that waited for the hold is retried at once.
        if (s.status === 'terminated' && s.deletion.deletedAtMs === null && ctx.nowMs >= s.deletionDueAtMs) s.deletion.nextAttemptAtMs = ctx.nowMs;
        const released = event('termination.legal-hold-released', actor, ctx, { reason: request.input.reason, heldSince: iso(held.atMs), heldFor: held.reason });
        return { events: [released], effects: [{ kind: 'legal-hold', caseId: s.caseId, customerId: s.customerId, hold: false, reason: request.input.reason, by: actor.id, at: iso(ctx.nowMs) }] };
      }
    }
  },

  onClock: () => noStep,

  nextWakeAtMs(s) {
    if (s.status === 'scheduled') {
      if (s.failure) return s.failure.retryAtMs;
      const reminder = s.reminders.find((entry) => entry.sentAtMs === null && !entry.skipped);
      return Math.min(reminder?.dueAtMs ?? Number.POSITIVE_INFINITY, s.effectiveAtMs);
    }
    if (s.status === 'terminated') {
      if (s.failure) return s.failure.retryAtMs;
      if (s.legalHold && s.deletion.heldSinceMs !== null) return undefined; // T6: waits for release-hold
      return s.deletion.nextAttemptAtMs ?? undefined;
    }
    return undefined;
  },

  onWake(s, ctx) {
    if (s.failure) {
      if (ctx.nowMs < s.failure.retryAtMs) return noStep;
      return retry(s, s.failure.stage, ctx);
    }
    if (s.status === 'scheduled') {
      const reminded = remindersDue(s, ctx);
      if (ctx.nowMs < s.effectiveAtMs) return reminded;
      return joinSteps(reminded, effectiveDateReached(s, ctx));
    }
    if (s.status === 'terminated' && s.deletion.nextAttemptAtMs !== null && ctx.nowMs >= s.deletion.nextAttemptAtMs) return deletionDue(s, ctx);
    return noStep;
  },

  onEffectDone(s, effect, outcome, ctx) {
    s.updatedAtMs = ctx.nowMs;
    switch (effect.kind) {
      case 'export':
        return outcome.ok ? exported(s, effect, outcome.result as ExportResult, ctx) : exportFailed(s, effect, outcome, ctx);
      case 'deactivate':
        return outcome.ok ? deactivated(s, outcome.result as DeactivateResult, ctx) : failed(s, 'deactivate', outcome, ctx);
      case 'provision':
        return provisioned(s, outcome, ctx);
      case 'legal-hold':
        return outcome.ok ? noStep : holdFailed(s, effect, outcome, ctx);
      case 'delete-personal-data':
        return outcome.ok ? deletionDone(s, outcome.result as DeletionResult, ctx) : failed(s, 'delete', outcome, ctx);
    }
  },

  view(s) {
    const details: TerminationDetails = {
      initiatedBy: s.initiatedBy,
      reason: s.reason,
      contacts: s.contacts,
      policyVersion: s.policy.version,
      noticeAt: iso(s.openedAtMs),
      requestedEffectiveAt: iso(s.requestedEffectiveAtMs),
      effectiveAt: iso(s.effectiveAtMs),
      reminders: s.reminders.map((reminder) => ({ daysBefore: reminder.daysBefore, dueAt: iso(reminder.dueAtMs), sentAt: isoOrNull(reminder.sentAtMs), skipped: reminder.skipped })),
      exports: s.exports.map((entry) => ({ ...entry })),
      deactivation: s.deactivation
        ? {
            deactivatedAt: iso(s.deactivation.atMs),
            releasedServices: s.deactivation.releasedServices,
            provisioning: s.deactivation.provisioning,
            provisioningDetail: s.deactivation.provisioningDetail,
          }
        : null,
      deletionDueAt: iso(s.deletionDueAtMs),
      deletion: { deletedAt: isoOrNull(s.deletion.deletedAtMs), heldSince: isoOrNull(s.deletion.heldSinceMs), heldReason: s.deletion.heldReason, fields: s.deletion.fields },
      legalHold: s.legalHold ? { reason: s.legalHold.reason, by: s.legalHold.by, at: iso(s.legalHold.atMs) } : null,
      withdrawal: s.withdrawal ? { reason: s.withdrawal.reason, by: s.withdrawal.by, at: iso(s.withdrawal.atMs) } : null,
      failure: s.failure ? { stage: s.failure.stage, attempts: s.failure.attempts, error: s.failure.error, retryAt: iso(s.failure.retryAtMs) } : null,
    };
    return {
      caseId: s.caseId,
      workflowId: s.workflowId,
      type: 'termination',
      status: s.status,
      priority: null,
      customerId: s.customerId,
      summary: `Termination (${s.initiatedBy}): ${s.reason}`.slice(0, 200),
      openedAt: iso(s.openedAtMs),
      updatedAt: iso(s.updatedAtMs),
      // A duty at or after the effective date that failed is late until it is done.
      slaBreached: s.failure !== null,
      deadlines: deadlines(s),
      nextStep: nextStep(s),
      expectedCompletionAt: s.status === 'scheduled' ? iso(s.effectiveAtMs) : s.status === 'terminated' ? iso(s.deletionDueAtMs) : null,
      allowedActions: allowedActions(terminationActions, s.status),
      // domain/case-details.ts lists the detail shapes of the types that landed before this one.
      details: details as unknown as CaseState['details'],
    } satisfies CaseState;
  },

  isClosed: (s) => s.status === 'closed' || s.status === 'withdrawn',
};

export function terminationOutcome(s: TerminationState): TerminationOutcome {
  return { caseId: s.caseId, status: s.status, deactivatedAt: s.deactivation ? iso(s.deactivation.atMs) : null, deletedAt: isoOrNull(s.deletion.deletedAtMs) };
}

/** T3: the reminders due now; when several are (the case woke late), only the latest goes out. */
function remindersDue(s: TerminationState, ctx: CaseContext): Step<TerminationEffect> {
  const due = s.reminders.filter((reminder) => reminder.sentAtMs === null && !reminder.skipped && reminder.dueAtMs <= ctx.nowMs);
  if (due.length === 0) return noStep;
  s.updatedAtMs = ctx.nowMs;
  const events: StepEvent[] = [];
  const latest = due.at(-1)!;
  for (const reminder of due) {
    if (reminder !== latest || ctx.nowMs >= s.effectiveAtMs) {
      reminder.skipped = true;
      events.push(
        event('termination.reminder-skipped', systemActor, ctx, { daysBefore: reminder.daysBefore, dueAt: iso(reminder.dueAtMs), why: 'a later reminder or the date itself is already due' }),
      );
      continue;
    }
    reminder.sentAtMs = ctx.nowMs;
    const daysLeft = String(Math.max(1, Math.round((s.effectiveAtMs - ctx.nowMs) / dayMs)));
    events.push(
      event(
        'termination.reminder-sent',
        systemActor,
        ctx,
        { daysBefore: reminder.daysBefore, dueAt: iso(reminder.dueAtMs), effectiveAt: iso(s.effectiveAtMs) },
        tell(s, `reminder-${reminder.daysBefore}`, 'termination.reminder', { effectiveAt: messageTime(s.effectiveAtMs, s.timeZone), daysLeft }),
      ),
    );
  }
  return { events };
}

/** T4: the effective date: the final backup first, then deactivation (chained in onEffectDone). */
function effectiveDateReached(s: TerminationState, ctx: CaseContext): Step<TerminationEffect> {
  s.updatedAtMs = ctx.nowMs;
  const n = ++s.exportsStarted;
  s.finalExportN = n;
  const reached = event('termination.effective-date-reached', systemActor, ctx, { effectiveAt: iso(s.effectiveAtMs), finalExport: n });
  return { events: [reached], effects: [exportEffect(s, n, 'final', systemActor, ctx)] };
}

function retry(s: TerminationState, stage: RetriedStage, ctx: CaseContext): Step<TerminationEffect> {
  const attempt = s.failure!.attempts + 1;
  const retrying = event('termination.step-retried', systemActor, ctx, { stage, attempt });
  if (stage === 'final-export') return { events: [retrying], effects: [exportEffect(s, s.finalExportN!, 'final', systemActor, ctx)] };
  if (stage === 'deactivate') return { events: [retrying], effects: [deactivateEffect(s)] };
  return { events: [retrying], effects: [{ kind: 'delete-personal-data', caseId: s.caseId, customerId: s.customerId, at: iso(ctx.nowMs) }] };
}

function exported(s: TerminationState, effect: Extract<TerminationEffect, { kind: 'export' }>, result: ExportResult, ctx: CaseContext): Step<TerminationEffect> {
  s.exports = [...s.exports, { ...result, purpose: effect.purpose, requestedBy: effect.requestedBy }];
  const data = { n: result.n, purpose: effect.purpose, path: result.path, sha256: result.sha256, sizeBytes: result.sizeBytes, createdAt: result.createdAt };
  if (effect.purpose === 'requested') {
    const params = { n: String(result.n), sizeBytes: String(result.sizeBytes), sha256: result.sha256, createdAt: messageTime(Date.parse(result.createdAt), s.timeZone) };
    return { events: [event('termination.export-created', systemActor, ctx, data, tell(s, `export-${result.n}`, 'termination.export-ready', params))] };
  }
  // T4: the final backup is kept; deactivation follows.
  s.failure = null;
  return { events: [event('termination.final-backup-kept', systemActor, ctx, data)], effects: [deactivateEffect(s)] };
}

function exportFailed(s: TerminationState, effect: Extract<TerminationEffect, { kind: 'export' }>, outcome: Extract<EffectOutcome, { ok: false }>, ctx: CaseContext): Step<TerminationEffect> {
  if (effect.purpose === 'final') return failed(s, 'final-export', outcome, ctx);
  const message = staffMessage(s, `export-failed-${effect.n}`, `${s.caseId}: the requested data export ${effect.n} failed`, `${outcome.message.slice(0, 500)}. Request it again once fixed (T3).`, ctx);
  return { events: [event('termination.export-failed', systemActor, ctx, { n: effect.n, error: outcome.message.slice(0, 1000) }, { staffNotifications: [message] })] };
}

/** T4: deactivated and services released; the user is told, the provisioning system next (in the background). */
function deactivated(s: TerminationState, result: DeactivateResult, ctx: CaseContext): Step<TerminationEffect> {
  s.status = 'terminated';
  s.failure = null;
  s.deactivation = { atMs: Date.parse(result.terminatedAt), releasedServices: result.releasedServices, provisioning: 'pending', provisioningDetail: null };
  const deactivatedEvent = event('termination.account-deactivated', systemActor, ctx, { customerId: s.customerId, terminatedAt: result.terminatedAt });
  const released = event('termination.services-released', systemActor, ctx, { services: result.releasedServices });
  const effective = event(
    'termination.effective',
    systemActor,
    ctx,
    { effectiveAt: iso(s.effectiveAtMs), deletionDueAt: iso(s.deletionDueAtMs) },
    tell(s, 'effective', 'termination.effective', {
      effectiveAt: messageTime(s.effectiveAtMs, s.timeZone),
      deletionAt: messageTime(s.deletionDueAtMs, s.timeZone),
      releasedServices: result.releasedServices.length > 0 ? result.releasedServices.join(', ') : '—',
    }),
  );
  const provision: TerminationEffect = {
    kind: 'provision',
    idempotencyKey: `${s.workflowId}:provisioning`,
    caseId: s.caseId,
    customerId: s.customerId,
    releasedServices: result.releasedServices,
    effectiveAt: iso(s.effectiveAtMs),
  };
  return { events: [deactivatedEvent, released, effective], effects: [provision] };
}

function provisioned(s: TerminationState, outcome: EffectOutcome, ctx: CaseContext): Step<TerminationEffect> {
  if (!s.deactivation) return noStep;
  if (outcome.ok) {
    const result = outcome.result as ProvisionResult;
    s.deactivation = { ...s.deactivation, provisioning: result.outcome, provisioningDetail: result.detail };
    return { events: [event(`termination.provisioning-${result.outcome}`, systemActor, ctx, { detail: result.detail })] };
  }
  s.deactivation = { ...s.deactivation, provisioning: 'failed', provisioningDetail: outcome.message.slice(0, 500) };
  const message = staffMessage(
    s,
    `provisioning-failed-${outcome.attempt}`,
    `${s.caseId}: the provisioning system was not told of the termination`,
    `Attempt ${outcome.attempt}: ${outcome.message.slice(0, 500)}. Released services: ${s.deactivation.releasedServices.join(', ') || '—'} (T4).`,
    ctx,
  );
  return {
    events: [
      event('termination.provisioning-failed', systemActor, ctx, { attempt: outcome.attempt, retrying: outcome.retryable, error: outcome.message.slice(0, 1000) }, { staffNotifications: [message] }),
    ],
  };
}

/** T6: deletion is due: held by this case's legal hold (wait for release), else asked of the customer record. */
function deletionDue(s: TerminationState, ctx: CaseContext): Step<TerminationEffect> {
  if (s.legalHold) return s.deletion.heldSinceMs !== null ? noStep : held(s, s.legalHold.reason, ctx);
  s.deletion.nextAttemptAtMs = null;
  return { events: [], effects: [{ kind: 'delete-personal-data', caseId: s.caseId, customerId: s.customerId, at: iso(ctx.nowMs) }] };
}

function deletionDone(s: TerminationState, result: DeletionResult, ctx: CaseContext): Step<TerminationEffect> {
  s.failure = null;
  if (!result.deleted) {
    // A hold on the customer record (placed elsewhere): looked at again in a week, or on release-hold.
    s.deletion.nextAttemptAtMs = ctx.nowMs + heldRecheckMs;
    if (s.deletion.heldSinceMs !== null && s.deletion.heldReason === result.heldReason) return noStep;
    return held(s, result.heldReason, ctx);
  }
  s.status = 'closed';
  s.deletion = { ...s.deletion, deletedAtMs: Date.parse(result.deletedAt), nextAttemptAtMs: null, fields: result.fields };
  return { events: [event('termination.personal-data-deleted', systemActor, ctx, { customerId: s.customerId, deletedAt: result.deletedAt, fields: result.fields, dueAt: iso(s.deletionDueAtMs) })] };
}

function held(s: TerminationState, reason: string, ctx: CaseContext): Step<TerminationEffect> {
  s.deletion.heldSinceMs ??= ctx.nowMs;
  s.deletion.heldReason = reason;
  const message = staffMessage(
    s,
    `deletion-held-${ctx.step}`,
    `${s.caseId}: deletion of personal data held`,
    `Customer ${s.customerId}: deletion due ${iso(s.deletionDueAtMs)} waits for a legal hold: ${reason} (T6).`,
    ctx,
  );
  return { events: [event('termination.deletion-held', systemActor, ctx, { reason, dueAt: iso(s.deletionDueAtMs) }, { staffNotifications: [message] })] };
}

function holdFailed(s: TerminationState, effect: Extract<TerminationEffect, { kind: 'legal-hold' }>, outcome: Extract<EffectOutcome, { ok: false }>, ctx: CaseContext): Step<TerminationEffect> {
  // The customer record decides whether deletion may run: the case follows what was really written.
  s.legalHold = effect.hold ? null : { reason: effect.reason, by: effect.by, atMs: Date.parse(effect.at) };
  const what = effect.hold ? 'placed' : 'released';
  const message = staffMessage(s, `legal-hold-failed-${ctx.step}`, `${s.caseId}: the legal hold could not be ${what}`, `${outcome.message.slice(0, 500)}. Try again.`, ctx);
  return { events: [event('termination.legal-hold-failed', systemActor, ctx, { hold: effect.hold, error: outcome.message.slice(0, 1000) }, { staffNotifications: [message] })] };
}

/** A duty at or after the effective date failed: recorded, supervisors told, tried again later (shown as late meanwhile). */
function failed(s: TerminationState, stage: RetriedStage, outcome: Extract<EffectOutcome, { ok: false }>, ctx: CaseContext): Step<TerminationEffect> {
  const attempts = (s.failure?.stage === stage ? s.failure.attempts : 0) + 1;
  const retryAtMs = ctx.nowMs + Math.min(retryBaseMs * 2 ** (attempts - 1), dayMs);
  s.failure = { stage, attempts, error: outcome.message.slice(0, 1000), retryAtMs };
  const message = staffMessage(s, `${stage}-failed-${attempts}`, `${s.caseId}: ${stage} failed`, `${outcome.message.slice(0, 500)}. Tried again at ${iso(retryAtMs)} (T4/T6).`, ctx);
  return { events: [event('termination.step-failed', systemActor, ctx, { stage, attempts, error: outcome.message.slice(0, 1000), retryAt: iso(retryAtMs) }, { staffNotifications: [message] })] };
}

function exportEffect(s: TerminationState, n: number, purpose: ExportPurpose, actor: Actor, ctx: CaseContext): TerminationEffect {
  return { kind: 'export', caseId: s.caseId, customerId: s.customerId, n, purpose, at: iso(purpose === 'final' ? Math.max(ctx.nowMs, s.effectiveAtMs) : ctx.nowMs), requestedBy: actor.id };
}

function deactivateEffect(s: TerminationState): TerminationEffect {
  // terminated_at is the effective date itself, however late the step runs.
  return { kind: 'deactivate', caseId: s.caseId, customerId: s.customerId, at: iso(s.effectiveAtMs) };
}

function deadlines(s: TerminationState): DeadlineView[] {
  const base = { warnAt: null, breachedAt: null, pausedMinutes: 0, policyVersion: s.policy.version };
  const withdrawn = s.status === 'withdrawn';
  const effective: DeadlineView = {
    ...base,
    name: 'effective',
    dueAt: iso(s.effectiveAtMs),
    state: s.deactivation ? 'met' : withdrawn ? 'cancelled' : s.failure ? 'breached' : 'pending',
    metAt: s.deactivation ? iso(Math.max(s.deactivation.atMs, s.effectiveAtMs)) : null,
  };
  const deletion: DeadlineView = {
    ...base,
    name: 'deletion',
    dueAt: iso(s.deletionDueAtMs),
    state: s.deletion.deletedAtMs !== null ? 'met' : withdrawn ? 'cancelled' : s.deletion.heldSinceMs !== null || s.legalHold ? 'paused' : s.failure?.stage === 'delete' ? 'breached' : 'pending',
    metAt: isoOrNull(s.deletion.deletedAtMs),
  };
  return [effective, deletion];
}

function nextStep(s: TerminationState): string | null {
  switch (s.status) {
    case 'scheduled':
      return s.failure
        ? `The ${s.failure.stage} step failed; tried again at ${iso(s.failure.retryAtMs)}`
        : `Service ends at ${iso(s.effectiveAtMs)}; the user may export their data until then; staff may withdraw`;
    case 'terminated':
      if (s.failure) return `The ${s.failure.stage} step failed; tried again at ${iso(s.failure.retryAtMs)}`;
      if (s.legalHold || s.deletion.heldSinceMs !== null) return `Personal data deletion (due ${iso(s.deletionDueAtMs)}) waits for a legal hold to be released`;
      return `Account deactivated; personal data is deleted at ${iso(s.deletionDueAtMs)}`;
    case 'closed':
    case 'withdrawn':
      return null;
  }
}

function tell(s: TerminationState, step: string, templateId: TemplateId, params: Record<string, string>): { notifications: NotificationRequest[] } {
  return {
    notifications: [{ idempotencyKey: `${s.workflowId}:${step}`, customerId: s.customerId, caseId: s.caseId, templateId, params: { caseId: s.caseId, contacts: contactLine(s.contacts), ...params } }],
  };
}

function staffMessage(s: TerminationState, key: string, subject: string, body: string, ctx: CaseContext): StaffNotificationRequest {
  return {
    idempotencyKey: `${s.workflowId}:${key}`,
    role: 'supervisor',
    kind: `termination.${key.replace(/-\d+$/, '')}`,
    subject,
    body,
    occurredAt: iso(ctx.nowMs),
    deliverAfter: iso(ctx.nowMs),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
