/**
 * Records the history of a full complaint life on the time-skipping server into test/histories/,
 * where the replay test checks that today's workflow code still replays it. Re-record only when a
 * change is meant to be incompatible and is guarded by versioning (patched) — never to make the
 * replay test pass.
 *
 *   npx tsx scripts/record-history.ts
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shippedCalendarYears } from '../config/calendar';
import { defaultComplaintSlaPolicy } from '../domain/sla-policy';
import { calendarForYears } from '../domain/working-calendar';
import { seedCustomer, startTestDatabase } from '../test/support/database';
import { bundleWorkflows, createTimeSkippingEnv } from '../test/support/temporal';
import { createPledgeWorker } from '../worker/worker';
import type { ComplaintInput } from '../workflows/complaint';
import { actUpdate } from '../workflows/protocol';
import { repoRoot } from './toolchain/paths';

const taskQueue = 'record-history';
const agent = { id: 'agent/recorder', role: 'agent' as const };
const [env, db, bundle] = await Promise.all([createTimeSkippingEnv(), startTestDatabase(55499), bundleWorkflows()]);
try {
  await seedCustomer(db.sql, { id: 'cust-history', locale: 'en' });
  const worker = await createPledgeWorker({ connection: env.nativeConnection, namespace: 'default', taskQueue, sql: db.sql, workflowBundle: bundle });
  await worker.runUntil(async () => {
    const input: ComplaintInput = {
      caseId: 'CMP-2026-000001',
      customerId: 'cust-history',
      channel: 'phone',
      category: 'billing',
      priority: 'P2',
      priorityReason: 'set by staff at intake',
      major: false,
      summary: 'Charged twice for November',
      description: 'Two identical charges on the 3rd',
      openedBy: agent,
      policy: defaultComplaintSlaPolicy,
      timeZone: 'Asia/Shanghai',
      calendar: calendarForYears({ version: 'recorded', years: shippedCalendarYears() }, 2025, 2027),
    };
    const handle = await env.client.workflow.start('complaint', { taskQueue, workflowId: 'complaint-CMP-2026-000001', args: [input] });
    await env.sleep(25 * 3600_000); // past the 24 h first-response deadline: warned, breached, escalated
    const act = (action: string, actionInput: Record<string, unknown>) => handle.executeUpdate(actUpdate, { args: [{ action, input: actionInput, actor: agent }] });
    await act('acknowledge', { message: 'Sorry for the wait, we are checking your bill' });
    await act('note', { text: 'Duplicate charge confirmed by billing' });
    await act('resolve', { resolution: 'The second charge was refunded' });
    await act('close', {});
    await handle.result();
    const file = join(repoRoot, 'test', 'histories', 'complaint-breached-then-closed.json');
    writeFileSync(file, historyToJSON(await handle.fetchHistory()));
    console.log(`recorded ${file}`);
  });
} finally {
  await env.teardown();
  await db.stop();
}
