import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { claimCase, claimOutcome, type ClaimEffect, type ClaimInput, type ClaimOutcome, type ClaimState } from '../domain/claim-case';
import { runCase, type CarriedCase } from './case-runtime';

export type { ClaimInput, ClaimOutcome } from '../domain/claim-case';

const { payRemedy, reverseRemedy } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['DataError', 'LedgerRefused'] },
});

/** A compensation claim (P1–P6) on the case runtime; its rules are `claimCase` in domain/. */
export async function compensation(input: ClaimInput, carried?: CarriedCase<ClaimState, ClaimEffect>): Promise<ClaimOutcome> {
  const state = await runCase({
    definition: claimCase,
    input,
    carried,
    effects: { run: runEffect, inBackground: () => false, maxAttempts: 1 },
    continueAsNew: (next) => continueAsNew<typeof compensation>(input, next),
  });
  return claimOutcome(state);
}

function runEffect(effect: ClaimEffect): Promise<unknown> {
  if (effect.kind === 'pay') {
    const { idempotencyKey, customerId, caseId, remedy, amount, currency, policyVersion } = effect;
    return payRemedy({ idempotencyKey, customerId, caseId, kind: remedy, amountCents: amount, currency, policyVersion });
  }
  return reverseRemedy({ entryId: effect.entryId, idempotencyKey: effect.idempotencyKey, caseId: effect.caseId, reason: effect.reason });
}
