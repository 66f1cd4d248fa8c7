import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type postgres from 'postgres';
import { createActivities } from '../activities';

export const workflowsPath = new URL('../workflows/index.ts', import.meta.url).pathname;

/** The Pledge worker: every case workflow and every activity on one task queue. */
export async function createPledgeWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  sql: postgres.Sql;
  workflowBundle?: WorkerOptions['workflowBundle'];
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities({ sql: options.sql }),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
  });
}
