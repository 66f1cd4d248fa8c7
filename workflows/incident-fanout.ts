import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { IncidentPageInput, IncidentPageResult } from '../activities/incidents';

type Activities = ReturnType<typeof createActivities>;

// No maximumAttempts: a page is idempotent and must eventually land, however long Postgres is away;
// data and template errors fail for good (non-retryable), so they never loop.
const retry = { initialInterval: '1 second', maximumInterval: '1 minute' } as const;

const { snapshotFanoutRecipients } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', scheduleToCloseTimeout: '1 hour', retry });

const { deliverIncidentPage } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  // A page heartbeats as it goes: a worker that died mid-page is noticed in 30 s, not 2 minutes.
  heartbeatTimeout: '30 seconds',
  // A page that cannot land within the hour fails the fan-out, which the incident records and escalates.
  scheduleToCloseTimeout: '1 hour',
  retry,
});

export interface FanoutProgress {
  afterCustomerId: string | null;
  pages: number;
  customers: number;
  notificationsQueued: number;
  remediesPaid: number;
  remedyAmountCents: number;
  /** P4: remedies that wait for a supervisor's approval (recovery fan-outs under the approval rule). */
  remediesPending?: number;
  remedyPendingAmountCents?: number;
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
 * the recipients fixed once when it starts (a snapshot keyed by the notification key prefix), then
 * an activity per page of them in id order, continue-as-new every `pagesPerRun` pages, so the
 * history stays small for 100,000 users as for 10. Never a workflow per user.
 */
export async function incidentFanout(input: IncidentFanoutInput): Promise<IncidentFanoutResult> {
  const { pagesPerRun, progress: previous, ...page } = input;
  const progress: FanoutProgress = previous ?? {
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
  // The first run fixes the recipients; later runs (continue-as-new) page through the same set.
  if (!previous) {
    await snapshotFanoutRecipients({
      fanoutKey: input.recipientsKey ?? input.notificationKeyPrefix,
      scopes: input.scopes,
      ...(input.skipNotifiedUnder ? { skipNotifiedUnder: input.skipNotifiedUnder } : {}),
    });
  }
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
    if (result.remediesPending !== undefined) {
      progress.remediesPending = (progress.remediesPending ?? 0) + result.remediesPending;
      progress.remedyPendingAmountCents = (progress.remedyPendingAmountCents ?? 0) + (result.remedyPendingAmountCents ?? 0);
    }
    progress.afterCustomerId = result.lastCustomerId;
    if (result.done) {
      const lastRunHistoryLength = workflowInfo().historyLength;
      return { ...progress, maxRunHistoryLength: Math.max(progress.maxRunHistoryLength, lastRunHistoryLength), durationMs: Date.now() - progress.startedAtMs, lastRunHistoryLength };
    }
  }
}
