import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createPledgeWorker } from '../../worker/worker';
import { startTestDatabase, type TestDatabase } from './database';
import { bundleWorkflows, createTimeSkippingEnv } from './temporal';

export interface TimeSkippingBed {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  stop(): Promise<void>;
}

/** One test file's world: the time-skipping server, a migrated Postgres, and the Pledge worker running on them. */
export async function startTimeSkippingBed(options: { postgresPort: number; taskQueue: string }): Promise<TimeSkippingBed> {
  const [env, db, bundle] = await Promise.all([createTimeSkippingEnv(), startTestDatabase(options.postgresPort), bundleWorkflows()]);
  const worker = await createPledgeWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue: options.taskQueue, sql: db.sql, workflowBundle: bundle });
  const running = worker.run();
  return {
    env,
    db,
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
      await db.stop();
    },
  };
}
