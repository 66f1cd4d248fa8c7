import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { dataRequestEffectAttempts } from '../domain/data-request';
import { dataRequestCase, dataRequestOutcome, type DataRequestEffect, type DataRequestInput, type DataRequestOutcome, type DataRequestState } from '../domain/data-request-case';
import { runCase, type CarriedCase } from './case-runtime';

export type { DataRequestInput, DataRequestOutcome } from '../domain/data-request-case';

type Activities = ReturnType<typeof createActivities>;
const { exportForDataRequest, correctCustomerData, eraseCustomerData } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  // The activities heartbeat while they run: one cut off by a dying worker is retried within 30 s, not 5 minutes.
  heartbeatTimeout: '30 seconds',
  // Past this the runtime records the failure and tries again later (dataRequestEffectAttempts), then staff `complete`.
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['DataError', 'UnknownCustomer'] },
});

/** A data-subject request (D3) on the case runtime; its rules are `dataRequestCase` in domain/. */
export async function dataRequest(input: DataRequestInput, carried?: CarriedCase<DataRequestState, DataRequestEffect>): Promise<DataRequestOutcome> {
  const state = await runCase({
    definition: dataRequestCase,
    input,
    carried,
    // Beside the case, so intake answers at once and a long export never holds an action back.
    effects: { run: runEffect, inBackground: () => true, maxAttempts: dataRequestEffectAttempts },
    continueAsNew: (next) => continueAsNew<typeof dataRequest>(input, next),
  });
  return dataRequestOutcome(state);
}

function runEffect(effect: DataRequestEffect): Promise<unknown> {
  switch (effect.kind) {
    case 'export': {
      const { kind: _kind, ...input } = effect;
      return exportForDataRequest(input);
    }
    case 'correct': {
      const { kind: _kind, ...input } = effect;
      return correctCustomerData(input);
    }
    case 'erase': {
      const { kind: _kind, ...input } = effect;
      return eraseCustomerData(input);
    }
  }
}
