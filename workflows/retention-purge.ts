import { continueAsNew, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { retentionCutoffMs, type RetentionPolicy } from '../domain/retention';

type Activities = ReturnType<typeof createActivities>;
const { startPurgeRun, purgeExpiredPage, finishPurgeRun } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  scheduleToCloseTimeout: '6 hours',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['DataError'] },
});

export interface RetentionPurgeInput {
  policy: Pick<RetentionPolicy, 'version' | 'closedCaseYears' | 'pageSize'>;
}

export interface RetentionPurgeOutcome {
  runId: number;
  cutoff: string;
  casesPurged: number;
  notificationsRedacted: number;
  exportFilesRemoved: number;
  heldCases: number;
}

/** What one run carries into the next when it continues as new. */
export interface PurgeCarried {
  runId: number;
  cutoff: string;
}

/** Pages per run before continuing as new (each page is three history events plus its task). */
const pagesPerRun = 200;

/**
 * D2: the daily retention purge (the Temporal Schedule `pledge-retention-purge`): closed cases past
 * retention lose their personal data a page at a time, unless their customer is under a legal hold;
 * the run is recorded with its counts (table purge_runs). The cutoff is fixed when the run starts.
 */
export async function retentionPurge(input: RetentionPurgeInput, carried?: PurgeCarried): Promise<RetentionPurgeOutcome> {
  const cutoff = carried?.cutoff ?? new Date(retentionCutoffMs(Date.now(), input.policy.closedCaseYears)).toISOString();
  const runId =
    carried?.runId ??
    (await startPurgeRun({ runKey: `${workflowInfo().workflowId}:${workflowInfo().firstExecutionRunId}`, policyVersion: input.policy.version, retentionYears: input.policy.closedCaseYears, cutoff }))
      .id;
  for (let page = 0; ; page++) {
    if (page >= pagesPerRun) await continueAsNew<typeof retentionPurge>(input, { runId, cutoff });
    const done = await purgeExpiredPage({ runId, cutoff, limit: input.policy.pageSize, retentionYears: input.policy.closedCaseYears });
    if (!done.more) break;
  }
  const run = await finishPurgeRun({ runId, cutoff });
  log.info('retention purge finished', { runId, cutoff, casesPurged: run.casesPurged, notificationsRedacted: run.notificationsRedacted, heldCases: run.heldCases });
  return { runId, cutoff, casesPurged: run.casesPurged, notificationsRedacted: run.notificationsRedacted, exportFilesRemoved: run.exportFilesRemoved, heldCases: run.heldCases };
}
