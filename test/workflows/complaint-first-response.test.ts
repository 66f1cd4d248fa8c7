import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseWorkflowId } from '../../domain/case-types';
import type { Priority } from '../../domain/priority';
import { defaultComplaintSlaPolicy } from '../../domain/sla-policy';
import type { ComplaintInput } from '../../workflows/complaint';
import { actUpdate, stateQuery } from '../../workflows/protocol';
import { caseSearchAttributes } from '../../workflows/search-attributes';
import { createPledgeWorker } from '../../worker/worker';
import { seedCustomer, startTestDatabase, type TestDatabase } from '../support/database';
import { bundleWorkflows, createTimeSkippingEnv } from '../support/temporal';

const taskQueue = 'complaint-first-response';
const agent = { id: 'agent/test', role: 'agent' as const };
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let bundle: WorkflowBundleWithSourceMap;
let worker: Worker;
let workerRunning: Promise<void>;
let caseSequence = 0;
const minutes = (count: number) => count * 60_000;

beforeAll(async () => {
  [env, db, bundle] = await Promise.all([createTimeSkippingEnv(), startTestDatabase(55433), bundleWorkflows()]);
  await seedCustomer(db.sql, { id: 'cust-1', locale: 'en' });
  worker = await createPledgeWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, sql: db.sql, workflowBundle: bundle });
  workerRunning = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await workerRunning;
  await env?.teardown();
  await db?.stop();
});

async function openComplaint(priority: Priority) {
  const caseId = `CMP-2026-${String(++caseSequence).padStart(6, '0')}`;
  const input: ComplaintInput = {
    caseId,
    customerId: 'cust-1',
    channel: 'web',
    category: 'billing',
    priority,
    priorityReason: 'test',
    major: false,
    summary: 'Charged twice for November',
    description: '',
    openedBy: agent,
    policy: defaultComplaintSlaPolicy,
    timeZone: 'Asia/Shanghai',
  };
  return env.client.workflow.start('complaint', { taskQueue, workflowId: caseWorkflowId('complaint', caseId), args: [input] });
}

async function firstResponseOf(handle: Awaited<ReturnType<typeof openComplaint>>) {
  const state = await handle.query(stateQuery);
  return { state, clock: state.deadlines.find((deadline) => deadline.name === 'firstResponse')! };
}

async function eventTypes(caseId: string): Promise<string[]> {
  const rows = await db.sql<{ type: string }[]>`select type from case_events where case_id = ${caseId} order by step`;
  return rows.map((row) => row.type);
}

describe('complaint first-response clock', () => {
  it('C4: a P3 first response is still pending at 23 h 59 min and breaches at exactly 24 h', async () => {
      const handle = await openComplaint('P3');
      const opened = await firstResponseOf(handle);
      expect(Date.parse(opened.clock.dueAt!) - Date.parse(opened.state.openedAt)).toBe(24 * 3600_000);

      await env.sleep(minutes(23 * 60 + 59));
      const before = await firstResponseOf(handle);
      expect(before.clock.state).toBe('pending');
      expect(before.state.slaBreached).toBe(false);

      await env.sleep(minutes(1));
      const after = await firstResponseOf(handle);
      expect(after.clock.state).toBe('breached');
      expect(after.clock.breachedAt).toBe(opened.clock.dueAt);
      expect(after.state.slaBreached).toBe(true);
      expect(after.state.priority).toBe('P2');

      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(caseSearchAttributes.slaBreached)).toBe(true);
      expect(description.typedSearchAttributes.get(caseSearchAttributes.casePriority)).toBe('P2');
      expect(await eventTypes(after.state.caseId)).toEqual(['complaint.received', 'sla.warned', 'sla.breached']);
    });

  it('C3: a P1 first response is pending at 59 min and breaches at exactly 1 h', async () => {
      const handle = await openComplaint('P1');
      await env.sleep(minutes(59));
      expect((await firstResponseOf(handle)).clock.state).toBe('pending');
      await env.sleep(minutes(1));
      const after = await firstResponseOf(handle);
      expect(after.clock.state).toBe('breached');
      expect(after.state.priority).toBe('P1');
    });

  it('C9: warns at 80 % of the clock', async () => {
      const handle = await openComplaint('P1');
      await env.sleep(minutes(47));
      expect(await eventTypes((await handle.query(stateQuery)).caseId)).toEqual(['complaint.received']);
      await env.sleep(minutes(1));
      expect(await eventTypes((await handle.query(stateQuery)).caseId)).toEqual(['complaint.received', 'sla.warned']);
    });

  it('C4: acknowledging one minute before the deadline meets the clock and never breaches', async () => {
      const handle = await openComplaint('P3');
      await env.sleep(minutes(23 * 60 + 59));
      const acknowledged = await handle.executeUpdate(actUpdate, { args: [{ action: 'acknowledge', input: { message: 'We are on it' }, actor: agent }] });
      expect(acknowledged.status).toBe('acknowledged');
      await env.sleep(minutes(2 * 24 * 60));
      const { state, clock } = await firstResponseOf(handle);
      expect(clock.state).toBe('met');
      expect(state.slaBreached).toBe(false);
      const notified = await db.sql`select template from notifications where case_id = ${state.caseId} order by id`;
      expect(notified.map((row) => row.template)).toEqual(['complaint.received', 'complaint.acknowledged']);
    });

  it('refuses an action the state does not allow, with the reason, before it reaches history', async () => {
      const handle = await openComplaint('P2');
      const refusal = await handle
        .executeUpdate(actUpdate, { args: [{ action: 'close', input: {}, actor: agent }] })
        .catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((refusal as WorkflowUpdateFailedError).cause?.message)).toMatch(/cannot close a case that is received/);
      const history = await handle.fetchHistory();
      expect(JSON.stringify(history.events)).not.toContain('WorkflowExecutionUpdateAccepted');
    });

  it('runs a complaint to closure and completes the workflow', async () => {
      const handle = await openComplaint('P2');
      await handle.executeUpdate(actUpdate, { args: [{ action: 'acknowledge', input: { message: 'Looking into it' }, actor: agent }] });
      await handle.executeUpdate(actUpdate, { args: [{ action: 'resolve', input: { resolution: 'Refunded the second charge' }, actor: agent }] });
      await handle.executeUpdate(actUpdate, { args: [{ action: 'close', input: {}, actor: agent }] });
      expect(await handle.result()).toEqual({ caseId: expect.any(String), status: 'closed', slaBreached: false });
      const [row] = await db.sql`select status, last_step from cases where workflow_id = ${handle.workflowId}`;
      expect(row).toMatchObject({ status: 'closed' });
    });
});
