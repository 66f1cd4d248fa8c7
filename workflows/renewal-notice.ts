import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { caseWorkflowId } from '../domain/case-types';
import { renewalCase, type RenewalEffect, type RenewalInput, type RenewalState } from '../domain/renewal';
import { runCase, type CarriedCase } from './case-runtime';

export type { RenewalInput } from '../domain/renewal';

const { deliverChangeMessage } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['DataError', 'TemplateError'] },
});

export interface RenewalOutcome {
  caseId: string;
  status: RenewalState['status'];
  sends: number;
}

/**
 * A renewal notice (N4) on the case runtime: a durable timer per send (default 30 and 7 days before
 * the renewal date), each send a fan-out; its rules are `renewalCase` in domain/.
 */
export async function renewalNotice(input: RenewalInput, carried?: CarriedCase<RenewalState, RenewalEffect>): Promise<RenewalOutcome> {
  const state = await runCase({
    definition: renewalCase,
    input,
    carried,
    effects: {
      run: (effect) =>
        deliverChangeMessage({
          workflowId: caseWorkflowId('service-change', input.caseId),
          caseId: input.caseId,
          recipientsKey: effect.recipientsKey,
          fanout: effect.fanout,
          timeZone: input.timeZone,
          pageSize: input.policy.fanoutPageSize,
        }),
      inBackground: () => true,
      maxAttempts: 3,
    },
    continueAsNew: (next) => continueAsNew<typeof renewalNotice>(input, next),
  });
  return { caseId: state.caseId, status: state.status, sends: state.sends.filter((send) => send.sentAtMs !== null).length };
}
