import { allHandlersFinished, condition, setHandler, workflowInfo } from '@temporalio/workflow';
import type { StaffNotificationRequest } from '../activities/case-records';
import type { NotificationRequest } from '../activities/outbox';
import { systemActor, type Actor } from '../domain/actors';
import { allowedActions, checkAction } from '../domain/case-actions';
import type { CaseAction, CaseState } from '../domain/case-state';
import {
  complaintActions,
  complaintClocks,
  complaintNextStep,
  type ComplaintCategory,
  type ComplaintStatus,
} from '../domain/complaint';
import type { TemplateId } from '../domain/notification-templates';
import { raisePriority, type Priority } from '../domain/priority';
import { staffDeliveryAtMs } from '../domain/quiet-hours';
import { cancelClock, meetClock, pauseClock, rescheduleClock, resumeClock, startClock, type ClockEvent, type SlaClock } from '../domain/sla-clock';
import type { ComplaintSlaPolicy } from '../domain/sla-policy';
import { addWorkingDays, type WorkingCalendar } from '../domain/working-calendar';
import { CaseJournal } from './case-journal';
import { actUpdate, allowedInputOrThrow, calendarUpdatedSignal, refuseAction, stateQuery } from './protocol';
import { SlaClocks } from './sla-clocks';

export interface ComplaintInput {
  caseId: string;
  customerId: string;
  channel: string;
  category: ComplaintCategory;
  priority: Priority;
  priorityReason: string;
  major: boolean;
  summary: string;
  description: string;
  /** When the user complained; the clocks run from here. Defaults to the workflow's start. */
  receivedAt?: string;
  openedBy: Actor;
  /** Pinned at intake so the case keeps the promises it was opened under. */
  policy: ComplaintSlaPolicy;
  timeZone: string;
  /** The working calendar for the years this case can reach, pinned at intake. */
  calendar: WorkingCalendar;
}

export interface ComplaintOutcome {
  caseId: string;
  status: ComplaintStatus;
  outcome: 'resolved' | 'withdrawn' | 'referred';
  slaBreached: boolean;
  rating: number | null;
}

const dayMs = 24 * 3600_000;

/**
 * A complaint from intake to closure (C1–C12): four SLA clocks that pause while the user is asked
 * for information, warn at 80 % and escalate at breach; rating, dispute, arbitration, referral and
 * reopening; closure by itself once the dispute and reopen windows have passed.
 */
export async function complaint(input: ComplaintInput): Promise<ComplaintOutcome> {
  const workflowId = workflowInfo().workflowId;
  const { policy, timeZone } = input;
  const receivedAtMs = input.receivedAt ? Date.parse(input.receivedAt) : Date.now();
  let calendar = input.calendar;
  let status = 'received' as ComplaintStatus;
  let statusBeforePause: ComplaintStatus = 'received';
  let priority = input.priority;
  let slaBreached = false;
  let updatedAtMs = Date.now();
  let revision = 0;
  let assignee: string | null = null;
  let rating = null as { rating: number; comment: string | null } | null;
  let resolution = null as { text: string; atMs: number } | null;
  let arbitration = null as { decision: 'uphold' | 'overturn'; reasons: string } | null;
  let referral = null as { body: string; reference: string } | null;
  let outcome = 'resolved' as ComplaintOutcome['outcome'];
  let reopenCount = 0;
  let pause = null as { reason: string; sinceMs: number } | null;
  let intakeRecorded = false;

  const clocks = new SlaClocks();
  const hoursClock = (name: string, minutes: number) =>
    startClock({ name, policyVersion: policy.version, startedAtMs: receivedAtMs, durationMs: minutes * 60_000, warnAtFraction: policy.warnAtFraction });
  const workingDaysClock = (name: string, fromMs: number, workingDays: number): SlaClock => {
    const due = addWorkingDays(calendar, fromMs, workingDays, timeZone);
    return startClock({
      name,
      policyVersion: policy.version,
      startedAtMs: fromMs,
      durationMs: due.dueAtMs - fromMs,
      warnAtFraction: policy.warnAtFraction,
      calendarVersion: due.calendarVersion,
      provisional: due.provisional,
    });
  };
  const workingDaysOf: Record<string, number> = {};
  const addWorkingDaysClock = (name: string, fromMs: number, workingDays: number) => {
    workingDaysOf[name] = workingDays;
    clocks.add(workingDaysClock(name, fromMs, workingDays));
  };
  clocks.add(hoursClock(complaintClocks.firstResponse, policy.firstResponseMinutes[priority]));
  if (input.major) clocks.add(hoursClock(complaintClocks.fullResponse, policy.majorFullResponseMinutes));
  addWorkingDaysClock(complaintClocks.preliminary, receivedAtMs, policy.preliminaryWorkingDays);
  addWorkingDaysClock(complaintClocks.result, receivedAtMs, policy.resultWorkingDays);
  let resultClock: string = complaintClocks.result;

  const windowEndsAtMs = (): number | undefined =>
    status === 'resolved' && resolution ? resolution.atMs + Math.max(policy.disputeWindowDays, policy.reopenWindowDays) * dayMs : undefined;

  const view = (): CaseState => {
    const deadlines = clocks.views();
    const resultDeadline = deadlines.find((deadline) => deadline.name === resultClock);
    const expectedCompletion =
      status === 'closed' ? null : status === 'resolved' ? windowEndsAtMs() : resultDeadline && resultDeadline.state !== 'met' ? Date.parse(resultDeadline.dueAt!) : undefined;
    return {
      caseId: input.caseId,
      workflowId,
      type: 'complaint',
      status,
      priority,
      customerId: input.customerId,
      summary: input.summary,
      openedAt: new Date(receivedAtMs).toISOString(),
      updatedAt: new Date(updatedAtMs).toISOString(),
      slaBreached,
      deadlines,
      nextStep: complaintNextStep(status),
      expectedCompletionAt: expectedCompletion ? new Date(expectedCompletion).toISOString() : null,
      allowedActions: allowedActions(complaintActions, status).filter((action) => refusal(action) === undefined),
      details: {
        channel: input.channel,
        category: input.category,
        major: input.major,
        priorityReason: input.priorityReason,
        assignee,
        pausedFor: pause ? { reason: pause.reason, since: new Date(pause.sinceMs).toISOString() } : null,
        resolution: resolution?.text ?? null,
        resolvedAt: resolution ? new Date(resolution.atMs).toISOString() : null,
        disputeAndReopenUntil: windowEndsAtMs() ? new Date(windowEndsAtMs()!).toISOString() : null,
        rating,
        arbitration,
        referral,
        reopenCount,
        timeZone,
      },
    };
  };

  const journal = new CaseJournal(view);
  const tellCustomer = (step: string, templateId: TemplateId, message?: string): NotificationRequest => ({
    idempotencyKey: `${workflowId}:${step}`,
    customerId: input.customerId,
    caseId: input.caseId,
    templateId,
    params: { caseId: input.caseId, summary: input.summary, ...(message === undefined ? {} : { message }) },
  });

  /** Time-dependent refusals the status table cannot express (C11, C12). */
  function refusal(action: string): string | undefined {
    const now = Date.now();
    if (action === 'dispute' && resolution && now > resolution.atMs + policy.disputeWindowDays * dayMs) {
      return `the ${policy.disputeWindowDays}-day dispute window ended at ${new Date(resolution.atMs + policy.disputeWindowDays * dayMs).toISOString()}`;
    }
    if (action === 'reopen' && resolution && now > resolution.atMs + policy.reopenWindowDays * dayMs) {
      return `the ${policy.reopenWindowDays}-day reopen window ended at ${new Date(resolution.atMs + policy.reopenWindowDays * dayMs).toISOString()}`;
    }
    if (action === 'refer-third-party' && arbitration?.decision !== 'uphold') {
      return 'a referral to a third party follows platform arbitration that upheld the result; dispute first';
    }
    return undefined;
  }

  function validate(request: CaseAction): Record<string, unknown> {
    const input = allowedInputOrThrow(checkAction(complaintActions, { action: request.action, input: request.input, actorRole: request.actor.role }, status));
    const refused = refusal(request.action);
    if (refused) refuseAction(`cannot ${request.action}: ${refused}`);
    return input;
  }

  /** Meets the named clocks that are still open; records each one met. */
  async function meet(names: string[], nowMs: number): Promise<void> {
    for (const name of names) {
      const clock = clocks.get(name);
      if (!clock || !meetClock(clock, nowMs)) continue;
      const late = clock.breachedAtMs !== undefined;
      await journal.record('sla.met', systemActor, { clock: name, dueAt: new Date(clock.dueAtMs).toISOString(), late });
    }
  }

  async function pauseClocks(reason: string, nowMs: number): Promise<void> {
    const paused = clocks.all().filter((clock) => pauseClock(clock, nowMs)).map((clock) => clock.name);
    pause = { reason, sinceMs: nowMs };
    await journal.record('sla.paused', systemActor, { reason, since: new Date(nowMs).toISOString(), clocks: paused });
  }

  async function resumeClocks(nowMs: number): Promise<void> {
    const resumed = clocks.all().map((clock) => ({ name: clock.name, pausedMs: resumeClock(clock, nowMs), clock })).filter((entry) => entry.clock.state === 'running' && entry.pausedMs > 0);
    const reason = pause?.reason ?? null;
    const pausedMs = pause ? nowMs - pause.sinceMs : 0;
    pause = null;
    await journal.record('sla.resumed', systemActor, {
      reason,
      pausedMs,
      pausedMinutes: Math.round(pausedMs / 60_000),
      clocks: resumed.map((entry) => ({ clock: entry.name, dueAt: new Date(entry.clock.dueAtMs).toISOString() })),
    });
  }

  function startResultClock(fromMs: number): void {
    resultClock = `${complaintClocks.result}-${reopenCount}`;
    addWorkingDaysClock(resultClock, fromMs, policy.resultWorkingDays);
  }

  setHandler(stateQuery, view);
  setHandler(calendarUpdatedSignal, (updated: WorkingCalendar) => {
    calendar = updated;
    revision++;
  });
  setHandler(
    actUpdate,
    async (request: CaseAction): Promise<CaseState> => {
      // Keeps the timeline in order: intake and its clocks are recorded before any action.
      await condition(() => intakeRecorded);
      const checked = validate(request);
      const now = Date.now();
      const text = (key: string) => String(checked[key] ?? '');
      const step = `${request.action}-${journal.lastStep + 1}`;
      updatedAtMs = now;
      revision++;
      switch (request.action) {
        case 'acknowledge':
          status = 'acknowledged';
          await journal.record('complaint.acknowledged', request.actor, { message: text('message') }, [tellCustomer(step, 'complaint.acknowledged', text('message'))]);
          await meet([complaintClocks.firstResponse], now);
          break;
        case 'assign':
          assignee = text('assignee');
          await journal.record('complaint.assigned', request.actor, { assignee });
          break;
        case 'note':
          await journal.record('complaint.note', request.actor, { text: text('text') });
          break;
        case 'request-info':
          statusBeforePause = status;
          status = 'awaiting-customer';
          // Asking the user is a response to them: it keeps the first-response promise.
          await journal.record('complaint.info-requested', request.actor, { question: text('question') }, [tellCustomer(step, 'complaint.info-requested', text('question'))]);
          await meet([complaintClocks.firstResponse], now);
          await pauseClocks('waiting for information from the user', now);
          break;
        case 'customer-reply':
          status = statusBeforePause;
          await journal.record('complaint.customer-replied', request.actor, { message: text('message') });
          await resumeClocks(now);
          break;
        case 'report-preliminary':
          status = 'preliminary-reported';
          await journal.record('complaint.preliminary-reported', request.actor, { finding: text('finding') }, [tellCustomer(step, 'complaint.preliminary', text('finding'))]);
          await meet([complaintClocks.firstResponse, complaintClocks.fullResponse, complaintClocks.preliminary], now);
          break;
        case 'resolve':
          status = 'resolved';
          resolution = { text: text('resolution'), atMs: now };
          await journal.record('complaint.resolved', request.actor, { resolution: resolution.text }, [tellCustomer(step, 'complaint.resolved', resolution.text)]);
          await meet([complaintClocks.firstResponse, complaintClocks.fullResponse, complaintClocks.preliminary, resultClock], now);
          break;
        case 'rate':
          rating = { rating: Number(checked.rating), comment: (checked.comment as string | undefined) ?? null };
          await journal.record('complaint.rated', request.actor, rating);
          break;
        case 'dispute':
          status = 'disputed';
          await journal.record('complaint.disputed', request.actor, { reason: text('reason') });
          break;
        case 'arbitrate': {
          arbitration = { decision: checked.decision as 'uphold' | 'overturn', reasons: text('reasons') };
          const message = `${arbitration.decision === 'uphold' ? 'upheld / 维持原处理结果' : 'overturned / 撤销原处理结果，重新调查'} — ${arbitration.reasons}`;
          if (arbitration.decision === 'uphold') {
            status = 'resolved';
            resolution = { text: resolution?.text ?? '', atMs: now };
          } else {
            status = 'acknowledged';
            resolution = null;
            reopenCount++;
            startResultClock(now);
          }
          await journal.record('complaint.arbitrated', request.actor, arbitration, [tellCustomer(step, 'complaint.arbitrated', message)]);
          if (arbitration.decision === 'overturn') await journal.record('sla.started', systemActor, clocks.startedEventData(resultClock));
          break;
        }
        case 'refer-third-party':
          status = 'referred';
          outcome = 'referred';
          referral = { body: text('body'), reference: text('reference') };
          await journal.record('complaint.referred', request.actor, referral, [tellCustomer(step, 'complaint.referred', `${referral.body} (${referral.reference})`)]);
          break;
        case 'reopen':
          status = 'acknowledged';
          resolution = null;
          arbitration = null;
          reopenCount++;
          startResultClock(now);
          await journal.record('complaint.reopened', request.actor, { reason: text('reason'), resultDueAt: new Date(clocks.get(resultClock)!.dueAtMs).toISOString() }, [tellCustomer(step, 'complaint.reopened')]);
          await journal.record('sla.started', systemActor, clocks.startedEventData(resultClock));
          break;
        case 'withdraw':
          status = 'closed';
          outcome = 'withdrawn';
          pause = null;
          await journal.record('complaint.withdrawn', request.actor, { reason: checked.reason ?? null }, [tellCustomer(step, 'complaint.withdrawn')]);
          break;
        case 'close':
          status = 'closed';
          await journal.record('complaint.closed', request.actor, { reason: checked.reason ?? null }, [tellCustomer(step, 'complaint.closed')]);
          break;
      }
      return view();
    },
    { validator: (request: CaseAction) => void validate(request) },
  );

  async function onClockEvent(event: ClockEvent): Promise<void> {
    updatedAtMs = event.atMs;
    const at = new Date(event.atMs).toISOString();
    if (event.kind === 'warned') {
      const deliverAfter = new Date(staffDeliveryAtMs(event.atMs, policy.staffQuietHours, timeZone, calendar)).toISOString();
      await journal.record('sla.warned', systemActor, { clock: event.clock, at, staffNotifiedAt: deliverAfter }, [], [
        staffMessage('warned', 'agent', `SLA warning: ${input.caseId} ${event.clock} is 80 % through`, at, deliverAfter),
      ]);
      return;
    }
    // C9: a breach escalates at once: supervisor told, priority up one step, flagged for monitoring.
    slaBreached = true;
    const previousPriority = priority;
    priority = raisePriority(priority);
    await journal.record('sla.breached', systemActor, { clock: event.clock, dueAt: at, priorityRaisedFrom: previousPriority === priority ? null : previousPriority }, [], [
      staffMessage('breached', 'supervisor', `SLA breached: ${input.caseId} ${event.clock} was due ${at}; priority now ${priority}`, at, at),
    ]);
    function staffMessage(kind: string, role: 'agent' | 'supervisor', subject: string, occurredAt: string, deliverAfter: string): StaffNotificationRequest {
      return {
        idempotencyKey: `${workflowId}:sla.${kind}:${event.clock}:${event.atMs}`,
        role,
        kind: `sla.${kind}`,
        subject,
        body: `${subject}. Case: ${input.summary}. Status: ${status}. Assignee: ${assignee ?? 'none'}.`,
        occurredAt,
        deliverAfter,
      };
    }
  }

  /** A newly loaded calendar: provisional working-day deadlines are computed again, and their timers move. */
  async function applyCalendar(): Promise<void> {
    for (const clock of clocks.all()) {
      const workingDays = workingDaysOf[clock.name];
      if (workingDays === undefined || !clock.provisional || clock.calendarVersion === calendar.version) continue;
      const due = addWorkingDays(calendar, clock.startedAtMs, workingDays, timeZone);
      const previousDueAt = new Date(clock.dueAtMs).toISOString();
      if (!rescheduleClock(clock, due.dueAtMs + clock.pausedTotalMs, policy.warnAtFraction)) continue;
      clock.calendarVersion = due.calendarVersion;
      clock.provisional = due.provisional;
      await journal.record('sla.rescheduled', systemActor, {
        clock: clock.name,
        previousDueAt,
        dueAt: new Date(clock.dueAtMs).toISOString(),
        calendarVersion: due.calendarVersion,
        provisional: due.provisional,
      });
    }
  }

  await journal.record(
    'complaint.received',
    input.openedBy,
    {
      channel: input.channel,
      category: input.category,
      priority,
      priorityReason: input.priorityReason,
      major: input.major,
      description: input.description,
      policyVersion: policy.version,
      calendarVersion: calendar.version,
      provisionalDeadlines: clocks.all().filter((clock) => clock.provisional).map((clock) => clock.name),
    },
    [tellCustomer('received', 'complaint.received')],
  );
  for (const clock of clocks.all()) await journal.record('sla.started', systemActor, clocks.startedEventData(clock.name));
  intakeRecorded = true;

  let appliedCalendar = input.calendar;
  while (status !== 'closed') {
    // A calendar signalled at any time, even before this loop first ran, is applied here.
    if (calendar !== appliedCalendar) {
      appliedCalendar = calendar;
      await applyCalendar();
    }
    const seenRevision = revision;
    const dueEvents = await clocks.waitForChangeOrDue(() => revision !== seenRevision, windowEndsAtMs());
    for (const event of dueEvents) await onClockEvent(event);
    const windowEnd = windowEndsAtMs();
    if (windowEnd !== undefined && Date.now() >= windowEnd) {
      status = 'closed';
      updatedAtMs = Date.now();
      await journal.record('complaint.closed', systemActor, { reason: 'dispute and reopen windows ended' }, [tellCustomer('auto-closed', 'complaint.closed')]);
    }
  }
  const cancelled = clocks.all().filter(cancelClock).map((clock) => clock.name);
  if (cancelled.length > 0) await journal.record('sla.cancelled', systemActor, { clocks: cancelled, outcome });
  await condition(allHandlersFinished);
  return { caseId: input.caseId, status, outcome, slaBreached, rating: rating?.rating ?? null };
}
