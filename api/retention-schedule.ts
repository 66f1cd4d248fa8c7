import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import { defaultRetentionPolicy, retentionPolicyOverridesSchema, type RetentionPolicy } from '../domain/retention';
import type { retentionPurge } from '../workflows/retention-purge';

// D2: the daily retention purge is a Temporal Schedule: the server starts `retentionPurge` every
// day at the policy's time (provider time zone), skips a start while one still runs, and catches up
// a missed day after an outage. Created or brought up to date whenever the API starts.

export const retentionScheduleId = 'pledge-retention-purge';

/**
 * The retention figures: the shipped defaults, or the `retention` section of PLEDGE_POLICY_FILE
 * (`{"retention":{"version":"acme-ret/1","closedCaseYears":5}}`); fewer than 3 years is refused (D2).
 */
export function retentionPolicy(source: NodeJS.ProcessEnv = process.env): RetentionPolicy {
  const file = source.PLEDGE_POLICY_FILE;
  const section = file ? (JSON.parse(readFileSync(file, 'utf8')) as { retention?: unknown }).retention : undefined;
  if (section === undefined) return defaultRetentionPolicy;
  const overrides = retentionPolicyOverridesSchema.parse(section);
  return { ...defaultRetentionPolicy, ...Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) };
}

/**
 * Creates the schedule, or updates it to the current policy and task queue when it exists (several
 * API processes may race here: both answers are fine). Never throws: a failure is logged and
 * answered, so the API still serves; the next start tries again.
 */
export async function ensureRetentionSchedule(
  client: Client,
  options: { taskQueue: string; timeZone: string; policy?: RetentionPolicy; log?: (message: string) => void },
): Promise<'created' | 'updated' | 'failed'> {
  const policy = options.policy ?? retentionPolicy();
  const [hour, minute] = policy.runAt.split(':').map(Number) as [number, number];
  const spec = { calendars: [{ hour, minute, comment: 'daily retention purge (D2)' }], timezone: options.timeZone };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'retentionPurge',
    workflowId: 'retention-purge',
    taskQueue: options.taskQueue,
    args: [{ policy: { version: policy.version, closedCaseYears: policy.closedCaseYears, pageSize: policy.pageSize } }] as Parameters<typeof retentionPurge>,
  };
  const log = options.log ?? ((message: string) => console.error(message));
  try {
    await client.schedule.create({
      scheduleId: retentionScheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      memo: { purpose: 'D2 retention purge' },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) {
      log(`the retention schedule ${retentionScheduleId} could not be created: ${(error as Error).message}`);
      return 'failed';
    }
  }
  try {
    await client.schedule.getHandle(retentionScheduleId).update((previous) => ({ ...previous, spec, action, policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP } }));
    return 'updated';
  } catch (error) {
    log(`the retention schedule ${retentionScheduleId} could not be updated: ${(error as Error).message}`);
    return 'failed';
  }
}
