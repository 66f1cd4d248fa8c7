import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { terminationCase, terminationOutcome, type TerminationEffect, type TerminationInput, type TerminationOutcome, type TerminationState } from '../domain/termination-case';
import { runCase, type CarriedCase } from './case-runtime';

export type { TerminationInput, TerminationOutcome } from '../domain/termination-case';

type Activities = ReturnType<typeof createActivities>;
const retry = { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['DataError', 'UnknownCustomer', 'ProvisioningRefused'] };

// They heartbeat while they run: one cut off by a dying worker is retried within 30 s, not 2 minutes.
const { exportCustomerData, deactivateCustomer, setLegalHold, deletePersonalData } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry,
});
// The provisioning system is told in the background; its failures are recorded and retried by the runtime.
const { notifyProvisioning } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', scheduleToCloseTimeout: '1 hour', retry });

/** A termination of service (T1–T7) on the case runtime; its rules are `terminationCase` in domain/. */
export async function termination(input: TerminationInput, carried?: CarriedCase<TerminationState, TerminationEffect>): Promise<TerminationOutcome> {
  const state = await runCase({
    definition: terminationCase,
    input,
    carried,
    effects: { run: runEffect, inBackground: (effect) => effect.kind === 'provision', maxAttempts: 3 },
    continueAsNew: (next) => continueAsNew<typeof termination>(input, next),
  });
  return terminationOutcome(state);
}

function runEffect(effect: TerminationEffect): Promise<unknown> {
  switch (effect.kind) {
    case 'export': {
      const { kind: _kind, ...input } = effect;
      return exportCustomerData(input);
    }
    case 'deactivate': {
      const { kind: _kind, ...input } = effect;
      return deactivateCustomer(input);
    }
    case 'provision': {
      const { kind: _kind, ...input } = effect;
      return notifyProvisioning(input);
    }
    case 'legal-hold': {
      const { kind: _kind, ...input } = effect;
      return setLegalHold(input);
    }
    case 'delete-personal-data': {
      const { kind: _kind, ...input } = effect;
      return deletePersonalData(input);
    }
  }
}
