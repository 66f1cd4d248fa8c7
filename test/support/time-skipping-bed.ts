import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createPledgeWorker } from '../../worker/worker';
import { startTestDatabase, type TestDatabase } from './database';
import { allSettledOrThrow, Teardown } from './teardown';
import { bundleWorkflows, createTimeSkippingEnv } from './temporal';

export interface TimeSkippingBed {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  stop(): Promise<void>;
}

/** One test file's world: the time-skipping server, a migrated Postgres, and the Pledge worker running on them. */
export async function startTimeSkippingBed(options: { postgresPort: number; taskQueue: string }): Promise<TimeSkippingBed> {
  const teardown = new Teardown();
  return teardown.unwindOnFailure(async () => {
    const [env, db, bundle] = await allSettledOrThrow([
      teardown.add(createTimeSkippingEnv(), (started) => started.teardown()),
      teardown.add(startTestDatabase(options.postgresPort), (started) => started.stop()),
      bundleWorkflows(),
    ] as const);
    const worker = await createPledgeWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue: options.taskQueue, sql: db.sql, workflowBundle: bundle });
    const running = worker.run();
    teardown.defer(async () => {
      worker.shutdown();
      await running;
    });
    return { env, db, stop: () => teardown.run() };
  });
}
