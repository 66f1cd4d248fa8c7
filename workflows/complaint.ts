import { continueAsNew } from '@temporalio/workflow';
import { complaintCase, complaintOutcome, type ComplaintInput, type ComplaintOutcome, type ComplaintState } from '../domain/complaint-case';
import { runCase, type CarriedCase } from './case-runtime';

export type { ComplaintInput, ComplaintOutcome } from '../domain/complaint-case';

/** A complaint (C1–C12) on the case runtime; its rules are `complaintCase` in domain/. */
export async function complaint(input: ComplaintInput, carried?: CarriedCase<ComplaintState, never>): Promise<ComplaintOutcome> {
  const state = await runCase({
    definition: complaintCase,
    input,
    carried,
    continueAsNew: (next) => continueAsNew<typeof complaint>(input, next),
  });
  return complaintOutcome(state);
}
