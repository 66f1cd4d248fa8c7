import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { IncidentPageInput, IncidentPageResult } from '../activities/incidents';

const { deliverIncidentPage } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '2 minutes',
  // No maximumAttempts: a page is idempotent and must eventually land, however long Postgres is away.
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export interface FanoutProgress {
  afterCustomerId: string | null;
  pages: number;
  customers: number;
  notificationsQueued: number;
  remediesPaid: number;
  remedyAmountCents: number;
  /** Runs of this workflow so far (continue-as-new starts a new one every `pagesPerRun` pages). */
  runs: number;
  startedAtMs: number;
  /** The longest history of any run so far (each run is bounded by pagesPerRun). */
  maxRunHistoryLength: number;
}

export interface IncidentFanoutInput extends Omit<IncidentPageInput, 'afterCustomerId'> {
  pagesPerRun: number;
  progress?: FanoutProgress;
}

export interface IncidentFanoutResult extends FanoutProgress {
  durationMs: number;
  /** History length of the last run: stays bounded by pagesPerRun whatever the customer count. */
  lastRunHistoryLength: number;
}

/**
 * Fan-out of one incident message (notice, update, recovery + remedies) to every affected user:
 * an activity per page of customers in id order, continue-as-new every `pagesPerRun` pages, so the
 * history stays small for 100,000 users as for 10. Never a workflow per user.
 */
export async function incidentFanout(input: IncidentFanoutInput): Promise<IncidentFanoutResult> {
  const progress: FanoutProgress = input.progress ?? {
    afterCustomerId: null,
    pages: 0,
    customers: 0,
    notificationsQueued: 0,
    remediesPaid: 0,
    remedyAmountCents: 0,
    runs: 1,
    startedAtMs: Date.now(),
    maxRunHistoryLength: 0,
  };
  const { pagesPerRun, progress: _previous, ...page } = input;
  for (let pagesThisRun = 0; ; pagesThisRun++) {
    if (pagesThisRun >= pagesPerRun) {
      const maxRunHistoryLength = Math.max(progress.maxRunHistoryLength, workflowInfo().historyLength);
      await continueAsNew<typeof incidentFanout>({ ...input, progress: { ...progress, runs: progress.runs + 1, maxRunHistoryLength } });
    }
    const result: IncidentPageResult = await deliverIncidentPage({ ...page, afterCustomerId: progress.afterCustomerId });
    progress.pages++;
    progress.customers += result.customers;
    progress.notificationsQueued += result.notificationsQueued;
    progress.remediesPaid += result.remediesPaid;
    progress.remedyAmountCents += result.remedyAmountCents;
    progress.afterCustomerId = result.lastCustomerId;
    if (result.done) {
      const lastRunHistoryLength = workflowInfo().historyLength;
      return { ...progress, maxRunHistoryLength: Math.max(progress.maxRunHistoryLength, lastRunHistoryLength), durationMs: Date.now() - progress.startedAtMs, lastRunHistoryLength };
    }
  }
}
