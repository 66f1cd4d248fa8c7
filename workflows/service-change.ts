import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { caseWorkflowId } from '../domain/case-types';
import {
  changeFanoutAttempts,
  serviceChangeCase,
  serviceChangeOutcome,
  type ServiceChangeEffect,
  type ServiceChangeInput,
  type ServiceChangeOutcome,
  type ServiceChangeState,
} from '../domain/service-change-case';
import { runCase, type CarriedCase } from './case-runtime';

export type { ServiceChangeInput, ServiceChangeOutcome } from '../domain/service-change-case';

// No maximumAttempts: a fan-out is idempotent and resumes where it stopped; data and template
// errors fail for good, and the case records and escalates them.
const { deliverChangeMessage } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['DataError', 'TemplateError'] },
});

const { openOverrunIncident } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['DataError'] },
});

/** A planned service change (N1–N3) on the case runtime; its rules are `serviceChangeCase` in domain/. */
export async function serviceChange(input: ServiceChangeInput, carried?: CarriedCase<ServiceChangeState, ServiceChangeEffect>): Promise<ServiceChangeOutcome> {
  const state = await runCase({
    definition: serviceChangeCase,
    input,
    carried,
    // Fan-outs run beside the case, one at a time and in order, so staff can act while thousands are told.
    effects: { run: (effect) => runEffect(input, effect), inBackground: (effect) => effect.kind === 'fanout', maxAttempts: changeFanoutAttempts },
    continueAsNew: (next) => continueAsNew<typeof serviceChange>(input, next),
  });
  return serviceChangeOutcome(state);
}

async function runEffect(input: ServiceChangeInput, effect: ServiceChangeEffect): Promise<unknown> {
  if (effect.kind === 'fanout') {
    return deliverChangeMessage({
      workflowId: caseWorkflowId('service-change', input.caseId),
      caseId: input.caseId,
      recipientsKey: effect.recipientsKey,
      fanout: effect.fanout,
      timeZone: input.timeZone,
      pageSize: input.policy.fanoutPageSize,
    });
  }
  // The overrun becomes an incident that outlives this change (O-rules from the window's end).
  return openOverrunIncident({ workflowId: caseWorkflowId('service-change', input.caseId), caseId: input.caseId, incident: effect.incident, terms: input.incidentTerms, timeZone: input.timeZone });
}
