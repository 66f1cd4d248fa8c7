import { systemActor, type Actor } from './actors';
import { allowedActions, type ActionCheck } from './case-actions';
import { clockStartedEvent, clockViews, isoOrNull, meetClocks, rescheduleProvisionalClocks, workingDaysClock } from './case-clocks';
import { event, noStep, type CaseContext, type CaseDefinition, type CaseStateBase, type EffectOutcome, type Step } from './case-definition';
import type { CaseState } from './case-state';
import {
  correctableFields,
  dataRequestActions,
  dataRequestEffectAttempts,
  deferDeletionUntilMs,
  type BlockingCase,
  type CustomerChanges,
  type DataRequestAction,
  type DataRequestDetails,
  type DataRequestKind,
  type DataRequestPolicy,
  type DataRequestStatus,
  type FieldChange,
  type Verification,
} from './data-request';
import type { NotificationRequest, StaffNotificationRequest, StepEvent } from './messages';
import type { TemplateId } from './notification-templates';
import type { ClockEvent } from './sla-clock';
import { messageTime } from './termination';
import type { ExportResult } from './termination-case';
import type { WorkingCalendar } from './working-calendar';

export interface DataRequestInput {
  caseId: string;
  customerId: string;
  kind: DataRequestKind;
  verification: Verification;
  /** Correction only. */
  changes: CustomerChanges | null;
  /** When the user asked, if before the case opened; D3 counts from here. */
  receivedAt?: string;
  note: string | null;
  openedBy: Actor;
  /** Pinned at intake: the D3 figures, the calendar and the zone its working days are counted in. */
  policy: DataRequestPolicy;
  timeZone: string;
  calendar: WorkingCalendar;
}

export interface DataRequestOutcome {
  caseId: string;
  kind: DataRequestKind;
  status: DataRequestStatus;
  completedAt: string | null;
}

/** The side effects a data request asks for, each an activity keyed by the case so a retry does it once. */
export type DataRequestEffect =
  | { kind: 'export'; caseId: string; customerId: string; n: number; at: string }
  | { kind: 'correct'; caseId: string; customerId: string; changes: CustomerChanges; at: string; by: string }
  | { kind: 'erase'; caseId: string; customerId: string; at: string };

export type CorrectionResult = { outcome: 'corrected'; changes: FieldChange[]; correctedAt: string } | { outcome: 'refused'; reason: string };

export type ErasureResult =
  | { outcome: 'deleted'; deletedAt: string; fields: string[]; notificationsRedacted: number; casesPurged: number; exportFilesRemoved: number }
  /** A legal hold stands on the customer (D2): the reason is for staff, the user is told only that the law requires keeping the data. */
  | { outcome: 'held'; reason: string; since: string | null }
  /** Open cases of the customer still need the data (this request itself excluded). */
  | { outcome: 'deferred'; blocking: BlockingCase[] };

export interface DataRequestState extends CaseStateBase {
  customerId: string;
  kind: DataRequestKind;
  policy: DataRequestPolicy;
  status: DataRequestStatus;
  receivedAtMs: number;
  openedAtMs: number;
  verification: { status: 'verified' | 'pending'; method: string; reference: string; verifiedBy: string | null; verifiedAtMs: number | null };
  changes: CustomerChanges | null;
  /** An effect is running (in the background); `complete` waits for it. */
  running: boolean;
  /** Export numbers handed out (one per attempt at an access request), so a file keeps its number. */
  exportsStarted: number;
  export: ExportResult | null;
  correction: { changes: FieldChange[]; atMs: number } | null;
  deletion: { deletedAtMs: number; fields: string[]; notificationsRedacted: number; casesPurged: number; exportFilesRemoved: number } | null;
  deferral: { reason: string; untilMs: number; sinceMs: number; times: number; blockingCases: string[] } | null;
  refusal: { reason: string; by: string; atMs: number } | null;
  /** The last failed attempt; `waitingForStaff` once the runtime stopped retrying it. */
  failure: { attempts: number; error: string; waitingForStaff: boolean } | null;
  completedAtMs: number | null;
}

/** D3: the one clock of a data request: the answer to the user. */
const responseClock = 'response';

/**
 * A data-subject request (D3) on the case runtime. Intake records the request and how the
 * requester's identity was verified; the answer is due in 15 working days (warned at 80 %,
 * escalated to supervisors when breached). Access exports the user's data (the termination export),
 * correction changes the customer record and records old → new (D1), deletion anonymises it —
 * refused while a legal hold stands, deferred while open cases still need the data.
 */
export const dataRequestCase: CaseDefinition<DataRequestInput & { workflowId: string }, DataRequestState, DataRequestEffect, never, DataRequestAction> = {
  type: 'data-request',
  actions: dataRequestActions,

  open(input, ctx) {
    const receivedAtMs = input.receivedAt ? Math.min(Date.parse(input.receivedAt), ctx.nowMs) : ctx.nowMs;
    const verified = input.verification.status === 'verified';
    const s: DataRequestState = {
      ...(ctx.rules ? { rules: ctx.rules } : {}),
      caseId: input.caseId,
      workflowId: input.workflowId,
      clocks: {},
      calendar: input.calendar,
      timeZone: input.timeZone,
      updatedAtMs: ctx.nowMs,
      customerId: input.customerId,
      kind: input.kind,
      policy: input.policy,
      status: verified ? 'in-progress' : 'awaiting-verification',
      receivedAtMs,
      openedAtMs: ctx.nowMs,
      verification: {
        status: input.verification.status,
        method: input.verification.method,
        reference: input.verification.reference,
        verifiedBy: input.verification.verifiedBy ?? null,
        verifiedAtMs: verified ? ctx.nowMs : null,
      },
      changes: input.changes,
      running: false,
      exportsStarted: 0,
      export: null,
      correction: null,
      deletion: null,
      deferral: null,
      refusal: null,
      failure: null,
      completedAtMs: null,
    };
    const clock = workingDaysClock(responseClock, {
      policyVersion: input.policy.version,
      startedAtMs: receivedAtMs,
      workingDays: input.policy.dueWorkingDays,
      warnAtFraction: input.policy.warnAtFraction,
      calendar: input.calendar,
      timeZone: input.timeZone,
    });
    s.clocks[responseClock] = clock;
    const received = event(
      'data-request.received',
      input.openedBy,
      ctx,
      { kind: input.kind, receivedAt: iso(receivedAtMs), changesRequested: changedFieldNames(input.changes), note: input.note, policyVersion: input.policy.version },
      tell(s, 'received', 'data-request.received', { dueAt: messageTime(clock.dueAtMs, s.timeZone) }),
    );
    const identity = verified
      ? event('data-request.identity-verified', input.openedBy, ctx, { method: input.verification.method, reference: input.verification.reference, verifiedBy: input.verification.verifiedBy })
      : event('data-request.verification-pending', input.openedBy, ctx, { method: input.verification.method, reference: input.verification.reference });
    const events = [received, identity, clockStartedEvent(clock, ctx)];
    return verified ? { state: s, events, effects: [begin(s, ctx, input.openedBy)] } : { state: s, events };
  },

  refine(s, request, checked): ActionCheck {
    if (!checked.ok) return checked;
    if ((request.action === 'complete' || request.action === 'refuse') && s.running) return { ok: false, kind: 'refused', message: 'the request is being carried out now; wait for its outcome' };
    if (request.action === 'complete' && s.status === 'in-progress' && !s.failure) return { ok: false, kind: 'refused', message: 'nothing failed: the request is carried out by itself' };
    return checked;
  },

  decide(s, request, ctx) {
    const { actor } = request;
    s.updatedAtMs = ctx.nowMs;
    switch (request.action) {
      case 'verify': {
        s.status = 'in-progress';
        s.verification = { status: 'verified', method: request.input.method, reference: request.input.reference, verifiedBy: request.input.verifiedBy, verifiedAtMs: ctx.nowMs };
        const verified = event('data-request.identity-verified', actor, ctx, { method: request.input.method, reference: request.input.reference, verifiedBy: request.input.verifiedBy });
        return { events: [verified], effects: [begin(s, ctx, actor)] };
      }
      case 'complete': {
        s.status = 'in-progress';
        const retried = event('data-request.retried', actor, ctx, { note: request.input.note ?? null, after: s.failure ? 'failure' : 'deferral' });
        return { events: [retried], effects: [begin(s, ctx, actor)] };
      }
      case 'refuse':
        return refuse(s, { reason: request.input.reason, by: actor, toUser: { templateId: 'data-request.refused', reason: request.input.reason } }, ctx);
      case 'note':
        return { events: [event('data-request.note', actor, ctx, { text: request.input.text })] };
    }
  },

  onClock(s, clockEvent, ctx) {
    s.updatedAtMs = clockEvent.atMs;
    const breached = clockEvent.kind === 'breached';
    const subject = `${s.caseId}: the ${s.kind} request ${breached ? 'is overdue' : 'is due soon'} (D3)`;
    const message = staffMessage(s, `sla.${clockEvent.kind}:${clockEvent.clock}:${clockEvent.atMs}`, breached ? 'supervisor' : 'agent', subject, clockEvent);
    return {
      events: [event(breached ? 'sla.breached' : 'sla.warned', systemActor, ctx, { clock: clockEvent.clock, at: iso(clockEvent.atMs), escalatedTo: message.role }, { staffNotifications: [message] })],
    };
  },

  nextWakeAtMs: (s) => (s.status === 'deferred' && s.deferral ? s.deferral.untilMs : undefined),

  onWake(s, ctx) {
    if (s.status !== 'deferred' || !s.deferral || ctx.nowMs < s.deferral.untilMs) return noStep;
    s.status = 'in-progress';
    s.updatedAtMs = ctx.nowMs;
    const retried = event('data-request.retried', systemActor, ctx, { after: 'deferral', deferredUntil: iso(s.deferral.untilMs) });
    return { events: [retried], effects: [begin(s, ctx, systemActor)] };
  },

  onEffectDone(s, effect, outcome, ctx) {
    s.updatedAtMs = ctx.nowMs;
    s.running = false;
    if (!outcome.ok) return failed(s, effect, outcome, ctx);
    s.failure = null;
    switch (effect.kind) {
      case 'export':
        return exported(s, outcome.result as ExportResult, ctx);
      case 'correct':
        return corrected(s, outcome.result as CorrectionResult, ctx);
      case 'erase':
        return erased(s, outcome.result as ErasureResult, ctx);
    }
  },

  onCalendar(s, calendar, ctx) {
    s.calendar = calendar;
    return { events: rescheduleProvisionalClocks(s.clocks, calendar, s.timeZone, s.policy.warnAtFraction, ctx) };
  },

  view(s) {
    const details: DataRequestDetails = {
      kind: s.kind,
      policyVersion: s.policy.version,
      receivedAt: iso(s.receivedAtMs),
      verification: {
        status: s.verification.status,
        method: s.verification.method,
        reference: s.verification.reference,
        verifiedBy: s.verification.verifiedBy,
        verifiedAt: isoOrNull(s.verification.verifiedAtMs),
      },
      changesRequested: changedFieldNames(s.changes),
      export: s.export ? { ...s.export } : null,
      correction: s.correction ? { changes: s.correction.changes, correctedAt: iso(s.correction.atMs) } : null,
      deletion: s.deletion
        ? {
            deletedAt: iso(s.deletion.deletedAtMs),
            fields: s.deletion.fields,
            notificationsRedacted: s.deletion.notificationsRedacted,
            casesPurged: s.deletion.casesPurged,
            exportFilesRemoved: s.deletion.exportFilesRemoved,
          }
        : null,
      deferral: s.deferral ? { reason: s.deferral.reason, until: iso(s.deferral.untilMs), since: iso(s.deferral.sinceMs), times: s.deferral.times, blockingCases: s.deferral.blockingCases } : null,
      refusal: s.refusal ? { reason: s.refusal.reason, by: s.refusal.by, at: iso(s.refusal.atMs) } : null,
      failure: s.failure ? { ...s.failure } : null,
      completedAt: isoOrNull(s.completedAtMs),
    };
    const clock = s.clocks[responseClock];
    return {
      caseId: s.caseId,
      workflowId: s.workflowId,
      type: 'data-request',
      status: s.status,
      priority: null,
      customerId: s.customerId,
      // D5: no personal data in the summary (it is the read model's and the Temporal memo's line).
      summary: `Data request (${s.kind})`,
      openedAt: iso(s.openedAtMs),
      updatedAt: iso(s.updatedAtMs),
      slaBreached: Object.values(s.clocks).some((entry) => entry.breachedAtMs !== undefined),
      deadlines: clockViews(s.clocks),
      nextStep: nextStep(s),
      expectedCompletionAt:
        s.status === 'deferred' && s.deferral ? iso(s.deferral.untilMs) : clock && (clock.state === 'running' || clock.state === 'breached') && s.completedAtMs === null ? iso(clock.dueAtMs) : null,
      allowedActions: allowedActions(dataRequestActions, s.status),
      // domain/case-details.ts lists the detail shapes of the types that landed before this one.
      details: details as unknown as CaseState['details'],
    } satisfies CaseState;
  },

  isClosed: (s) => s.status === 'completed' || s.status === 'refused',
};

export function dataRequestOutcome(s: DataRequestState): DataRequestOutcome {
  return { caseId: s.caseId, kind: s.kind, status: s.status, completedAt: isoOrNull(s.completedAtMs) };
}

/** The effect that carries the request out now. */
function begin(s: DataRequestState, ctx: CaseContext, actor: Actor): DataRequestEffect {
  s.running = true;
  const at = iso(ctx.nowMs);
  switch (s.kind) {
    case 'access':
      return { kind: 'export', caseId: s.caseId, customerId: s.customerId, n: ++s.exportsStarted, at };
    case 'correction':
      return { kind: 'correct', caseId: s.caseId, customerId: s.customerId, changes: s.changes ?? {}, at, by: actor.id };
    case 'deletion':
      return { kind: 'erase', caseId: s.caseId, customerId: s.customerId, at };
  }
}

/** D3 (access): the export is ready; the user downloads it with the tracking code (`/export`) and is told so. */
function exported(s: DataRequestState, result: ExportResult, ctx: CaseContext): Step<DataRequestEffect> {
  s.export = result;
  const created = event('data-request.export-created', systemActor, ctx, { n: result.n, path: result.path, sha256: result.sha256, sizeBytes: result.sizeBytes, createdAt: result.createdAt });
  const params = { sizeBytes: String(result.sizeBytes), sha256: result.sha256, createdAt: messageTime(Date.parse(result.createdAt), s.timeZone) };
  return complete(s, [created], { step: `access-ready-${result.n}`, templateId: 'data-request.access-ready', params }, ctx);
}

/** D3 (correction), D1: the fields changed, old → new, in the record; the user is told which fields. */
function corrected(s: DataRequestState, result: CorrectionResult, ctx: CaseContext): Step<DataRequestEffect> {
  if (result.outcome === 'refused') return refuse(s, { reason: result.reason, by: systemActor, toUser: { templateId: 'data-request.refused', reason: result.reason } }, ctx);
  s.correction = { changes: result.changes, atMs: Date.parse(result.correctedAt) };
  const fields = result.changes.length > 0 ? result.changes.map((change) => change.field).join(', ') : '—';
  const done = event('data-request.corrected', systemActor, ctx, {
    changes: result.changes,
    unchanged: changedFieldNames(s.changes).filter((field) => !result.changes.some((change) => change.field === field)),
  });
  return complete(s, [done], { step: 'corrected', templateId: 'data-request.corrected', params: { fields } }, ctx);
}

/** D3 (deletion): deleted, refused under a legal hold, or deferred until the open cases end. */
function erased(s: DataRequestState, result: ErasureResult, ctx: CaseContext): Step<DataRequestEffect> {
  if (result.outcome === 'held') {
    return refuse(s, { reason: `legal hold: ${result.reason}`, by: systemActor, heldSince: result.since, toUser: { templateId: 'data-request.deletion-held' } }, ctx);
  }
  if (result.outcome === 'deferred') return deferred(s, result.blocking, ctx);
  s.deletion = {
    deletedAtMs: Date.parse(result.deletedAt),
    fields: result.fields,
    notificationsRedacted: result.notificationsRedacted,
    casesPurged: result.casesPurged,
    exportFilesRemoved: result.exportFilesRemoved,
  };
  const deleted = event('data-request.personal-data-deleted', systemActor, ctx, {
    customerId: s.customerId,
    deletedAt: result.deletedAt,
    fields: result.fields,
    notificationsRedacted: result.notificationsRedacted,
    casesPurged: result.casesPurged,
    exportFilesRemoved: result.exportFilesRemoved,
  });
  return complete(s, [deleted], { step: 'deleted', templateId: 'data-request.deleted', params: { deletedAt: messageTime(Date.parse(result.deletedAt), s.timeZone) } }, ctx);
}

/** The deletion waits for the open cases; the user is told why and until when (this answers D3 in time). */
function deferred(s: DataRequestState, blocking: BlockingCase[], ctx: CaseContext): Step<DataRequestEffect> {
  const untilMs = deferDeletionUntilMs(blocking, ctx.nowMs, s.policy);
  const reason = blocking.map((entry) => `${entry.caseId} (${entry.type}, ${entry.status})`).join(', ');
  const times = (s.deferral?.times ?? 0) + 1;
  s.status = 'deferred';
  s.deferral = { reason, untilMs, sinceMs: s.deferral?.sinceMs ?? ctx.nowMs, times, blockingCases: blocking.map((entry) => entry.caseId) };
  const deferredEvent = event(
    'data-request.deletion-deferred',
    systemActor,
    ctx,
    { blocking, until: iso(untilMs), times },
    tell(s, `deferred-${times}`, 'data-request.deletion-deferred', { reason, untilAt: messageTime(untilMs, s.timeZone) }),
  );
  return { events: [deferredEvent, ...meetClocks(s.clocks, [responseClock], ctx)] };
}

function complete(s: DataRequestState, events: StepEvent[], told: { step: string; templateId: TemplateId; params: Record<string, string> }, ctx: CaseContext): Step<DataRequestEffect> {
  s.status = 'completed';
  s.completedAtMs = ctx.nowMs;
  const completed = event(
    'data-request.completed',
    systemActor,
    ctx,
    { kind: s.kind, receivedAt: iso(s.receivedAtMs), dueAt: iso(s.clocks[responseClock]!.dueAtMs) },
    tell(s, told.step, told.templateId, told.params),
  );
  return { events: [...events, completed, ...meetClocks(s.clocks, [responseClock], ctx)] };
}

function refuse(
  s: DataRequestState,
  refusal: { reason: string; by: Actor; heldSince?: string | null; toUser: { templateId: 'data-request.refused'; reason: string } | { templateId: 'data-request.deletion-held' } },
  ctx: CaseContext,
): Step<DataRequestEffect> {
  s.status = 'refused';
  s.running = false;
  s.refusal = { reason: refusal.reason, by: refusal.by.id, atMs: ctx.nowMs };
  const params: Record<string, string> = 'reason' in refusal.toUser ? { reason: refusal.toUser.reason } : {};
  const refused = event(
    'data-request.refused',
    refusal.by,
    ctx,
    { reason: refusal.reason, ...(refusal.heldSince !== undefined ? { legalHoldSince: refusal.heldSince } : {}) },
    tell(s, 'refused', refusal.toUser.templateId, params),
  );
  return { events: [refused, ...meetClocks(s.clocks, [responseClock], ctx)] };
}

/** A step failed: recorded, supervisors told; the runtime retries it, then staff `complete` it once fixed. */
function failed(s: DataRequestState, effect: DataRequestEffect, outcome: Extract<EffectOutcome, { ok: false }>, ctx: CaseContext): Step<DataRequestEffect> {
  const retrying = outcome.retryable && outcome.attempt < dataRequestEffectAttempts;
  // The runtime tries the same effect again: it is running again from now.
  s.running = retrying;
  s.failure = { attempts: outcome.attempt, error: outcome.message.slice(0, 1000), waitingForStaff: !retrying };
  const subject = `${s.caseId}: the ${effect.kind} step of the ${s.kind} request failed`;
  const body = `Attempt ${outcome.attempt}: ${outcome.message.slice(0, 500)}. ${retrying ? 'Tried again automatically.' : 'Fix the cause, then `complete` the request (D3).'}`;
  const message: StaffNotificationRequest = { ...staffMessage(s, `failed-${ctx.step}`, 'supervisor', subject), body };
  return {
    events: [event('data-request.step-failed', systemActor, ctx, { step: effect.kind, attempt: outcome.attempt, retrying, error: outcome.message.slice(0, 1000) }, { staffNotifications: [message] })],
  };
}

function nextStep(s: DataRequestState): string | null {
  const due = s.clocks[responseClock];
  const by = due ? ` by ${iso(due.dueAtMs)}` : '';
  switch (s.status) {
    case 'awaiting-verification':
      return `Confirm the requester’s identity (verify), then the ${s.kind} is carried out${by}`;
    case 'in-progress':
      if (s.failure?.waitingForStaff) return `The ${s.kind} step failed (${s.failure.error}); fix the cause and complete the request${by}`;
      return `The ${s.kind} is being carried out${by}`;
    case 'deferred':
      return `Deletion deferred until ${iso(s.deferral!.untilMs)}: open cases still need the data (${s.deferral!.reason})`;
    case 'completed':
    case 'refused':
      return null;
  }
}

function changedFieldNames(changes: CustomerChanges | null): string[] {
  return changes ? correctableFields.filter((field) => changes[field] !== undefined) : [];
}

function tell(s: DataRequestState, step: string, templateId: TemplateId, params: Record<string, string>): { notifications: NotificationRequest[] } {
  return { notifications: [{ idempotencyKey: `${s.workflowId}:${step}`, customerId: s.customerId, caseId: s.caseId, templateId, params: { caseId: s.caseId, ...params } }] };
}

function staffMessage(s: DataRequestState, key: string, role: 'agent' | 'supervisor', subject: string, clockEvent?: ClockEvent): StaffNotificationRequest {
  const at = iso(clockEvent?.atMs ?? s.updatedAtMs);
  const due = s.clocks[responseClock];
  return {
    idempotencyKey: `${s.workflowId}:${key}`,
    role,
    kind: clockEvent ? `sla.${clockEvent.kind}` : `data-request.${key.replace(/-\d+$/, '')}`,
    subject,
    body: `${subject}: customer ${s.customerId}, received ${iso(s.receivedAtMs)}${due ? `, answer due ${iso(due.dueAtMs)}` : ''}, now ${s.status}.`,
    occurredAt: at,
    deliverAfter: at,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
