import type { PayloadCodec } from '@temporalio/common';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type postgres from 'postgres';
import { createActivities } from '../activities';
import { payloadCodecFromEnv, pledgeDataConverter } from '../codec/data-converter';
import { readEnv } from '../config';

export const workflowsPath = new URL('../workflows/index.ts', import.meta.url).pathname;

/** The Pledge worker: every case workflow and every activity on one task queue. */
export async function createPledgeWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  sql: postgres.Sql;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** D5: encrypts what the worker hands Temporal; the deployment's keys (codec/keys.ts) unless given. */
  payloadCodec?: PayloadCodec;
  /** After shutdown is requested, how long activities in flight may finish before they are cancelled. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /** B4: workflows kept in memory between their tasks; the deployment's PLEDGE_MAX_CACHED_WORKFLOWS (config/index.ts) unless given. */
  maxCachedWorkflows?: number;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities({ sql: options.sql }),
    dataConverter: pledgeDataConverter(options.payloadCodec ?? payloadCodecFromEnv()),
    maxCachedWorkflows: options.maxCachedWorkflows ?? readEnv().PLEDGE_MAX_CACHED_WORKFLOWS,
    ...(options.shutdownGraceTime !== undefined ? { shutdownGraceTime: options.shutdownGraceTime } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
  });
}
