import { allHandlersFinished, ApplicationFailure, condition, setHandler, workflowInfo } from '@temporalio/workflow';
import type { NotificationRequest } from '../activities/outbox';
import type { Actor } from '../domain/actors';
import { systemActor } from '../domain/actors';
import { allowedActions, checkAction } from '../domain/case-actions';
import type { CaseAction, CaseState } from '../domain/case-state';
import { complaintActions, complaintNextStep, type ComplaintCategory, type ComplaintStatus } from '../domain/complaint';
import { raisePriority, type Priority } from '../domain/priority';
import { meetClock, startClock, type ClockEvent } from '../domain/sla-clock';
import type { ComplaintSlaPolicy } from '../domain/sla-policy';
import { CaseJournal } from './case-journal';
import { actionFailureTypes, actUpdate, stateQuery } from './protocol';
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
}

export interface ComplaintOutcome {
  caseId: string;
  status: ComplaintStatus;
  slaBreached: boolean;
}

const firstResponse = 'firstResponse';

/** A complaint from intake to closure, with its first-response clock (C3, C4) escalating on breach (C9). */
export async function complaint(input: ComplaintInput): Promise<ComplaintOutcome> {
  const workflowId = workflowInfo().workflowId;
  const receivedAtMs = input.receivedAt ? Date.parse(input.receivedAt) : Date.now();
  let status = 'received' as ComplaintStatus;
  let priority = input.priority;
  let slaBreached = false;
  let updatedAtMs = Date.now();
  let revision = 0;
  const resolution: { text?: string; at?: string } = {};

  const clocks = new SlaClocks();
  clocks.add(
    startClock({
      name: firstResponse,
      policyVersion: input.policy.version,
      startedAtMs: receivedAtMs,
      durationMs: input.policy.firstResponseMinutes[priority] * 60_000,
      warnAtFraction: input.policy.warnAtFraction,
    }),
  );

  const view = (): CaseState => {
    const deadlines = clocks.views();
    const pending = deadlines.filter((deadline) => deadline.state === 'pending' || deadline.state === 'paused');
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
      expectedCompletionAt: pending.map((deadline) => deadline.dueAt).sort().at(-1) ?? null,
      allowedActions: allowedActions(complaintActions, status),
      details: {
        channel: input.channel,
        category: input.category,
        major: input.major,
        priorityReason: input.priorityReason,
        resolution: resolution.text ?? null,
        resolvedAt: resolution.at ?? null,
      },
    };
  };

  const journal = new CaseJournal(view);
  const tellCustomer = (step: string, templateId: NotificationRequest['templateId'], params: Record<string, string> = {}): NotificationRequest => ({
    idempotencyKey: `${workflowId}:${step}`,
    customerId: input.customerId,
    caseId: input.caseId,
    templateId,
    params: { caseId: input.caseId, summary: input.summary, ...params },
  });

  setHandler(stateQuery, view);
  setHandler(
    actUpdate,
    async (request: CaseAction): Promise<CaseState> => {
      const checked = validate(request);
      const now = Date.now();
      const text = (key: string) => String(checked[key] ?? '');
      updatedAtMs = now;
      revision++;
      switch (request.action) {
        case 'acknowledge': {
          status = 'acknowledged';
          const clock = clocks.get(firstResponse)!;
          meetClock(clock, now);
          await journal.record('complaint.acknowledged', request.actor, { message: text('message'), late: clock.breachedAtMs !== undefined }, [
            tellCustomer('acknowledged', 'complaint.acknowledged', { message: text('message') }),
          ]);
          await journal.record('sla.met', systemActor, { clock: firstResponse, late: clock.breachedAtMs !== undefined });
          break;
        }
        case 'note':
          await journal.record('complaint.note', request.actor, { text: text('text') });
          break;
        case 'resolve': {
          const clock = clocks.get(firstResponse)!;
          const metNow = meetClock(clock, now);
          status = 'resolved';
          resolution.text = text('resolution');
          resolution.at = new Date(now).toISOString();
          await journal.record('complaint.resolved', request.actor, { resolution: resolution.text }, [
            tellCustomer('resolved', 'complaint.resolved', { message: resolution.text }),
          ]);
          if (metNow) await journal.record('sla.met', systemActor, { clock: firstResponse, late: clock.breachedAtMs !== undefined });
          break;
        }
        case 'close':
          status = 'closed';
          await journal.record('complaint.closed', request.actor, { reason: checked.reason ?? null }, [tellCustomer('closed', 'complaint.closed')]);
          break;
      }
      return view();
    },
    { validator: (request: CaseAction) => void validate(request) },
  );

  function validate(request: CaseAction): Record<string, unknown> {
    const checked = checkAction(complaintActions, { action: request.action, input: request.input, actorRole: request.actor.role }, status);
    if (checked.ok) return checked.input;
    const type = {
      'unknown-action': actionFailureTypes.unknownAction,
      forbidden: actionFailureTypes.forbidden,
      'invalid-input': actionFailureTypes.invalidInput,
      refused: actionFailureTypes.refused,
    }[checked.kind];
    throw ApplicationFailure.create({ type, message: checked.message, details: checked.fields ? [checked.fields] : [], nonRetryable: true });
  }

  async function onClockEvent(event: ClockEvent): Promise<void> {
    updatedAtMs = event.atMs;
    if (event.kind === 'warned') {
      await journal.record('sla.warned', systemActor, { clock: event.clock, at: new Date(event.atMs).toISOString() });
      return;
    }
    // C9: a breach escalates: it is flagged for monitoring and the priority goes up one step.
    slaBreached = true;
    const previousPriority = priority;
    priority = raisePriority(priority);
    await journal.record('sla.breached', systemActor, {
      clock: event.clock,
      dueAt: new Date(event.atMs).toISOString(),
      priorityRaisedFrom: previousPriority === priority ? null : previousPriority,
    });
  }

  await journal.record('complaint.received', input.openedBy, {
    channel: input.channel,
    category: input.category,
    priority,
    priorityReason: input.priorityReason,
    major: input.major,
    description: input.description,
    policyVersion: input.policy.version,
  }, [tellCustomer('received', 'complaint.received')]);

  while (status !== 'closed') {
    const seenRevision = revision;
    const dueEvents = await clocks.waitForChangeOrDue(() => revision !== seenRevision || status === 'closed');
    for (const event of dueEvents) await onClockEvent(event);
  }
  await condition(allHandlersFinished);
  return { caseId: input.caseId, status, slaBreached };
}
