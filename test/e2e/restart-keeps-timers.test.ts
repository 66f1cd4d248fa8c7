import { Client, Connection } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payloadCodecFromEnv, pledgeDataConverter } from '../../codec/data-converter';
import { startTemporalDevServer, type RunningDevServer } from '../../scripts/toolchain/temporal-dev-server';
import { createPledgeWorker } from '../../worker/worker';
import { stateQuery } from '../../workflows/protocol';
import { searchAttributeRegistrations } from '../../workflows/search-attributes';
import { complaintInput } from '../support/complaint-harness';
import { seedCustomer, startTestDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { bundleWorkflows } from '../support/temporal';

// What `npm start` promises: stop everything, start again, and the same cases and timers are there.
// A real dev server on a SQLite file is stopped and started again under a running case whose
// first-response timer is due a few seconds after the restart; the timer still fires.
const taskQueue = 'restart';
const ports = { temporal: 17250, ui: 18250 };
let dataDir: string;
let db: TestDatabase;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pledge-restart-'));
  [db, bundle] = await Promise.all([startTestDatabase(55450), bundleWorkflows()]);
  await seedCustomer(db.sql, { id: 'cust-1' });
});

afterAll(async () => {
  await db?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts Temporal on the same SQLite file and a worker, runs `use`, then stops both whatever happens. */
async function withStack<T>(use: (client: Client) => Promise<T>): Promise<T> {
  const stack = await startTemporalAndWorker();
  try {
    return await use(stack.client);
  } finally {
    await stack.stop();
  }
}

async function startTemporalAndWorker(): Promise<{ server: RunningDevServer; client: Client; stop(): Promise<void> }> {
  const server = await startTemporalDevServer({
    port: ports.temporal,
    uiPort: ports.ui,
    namespace: 'default',
    dbFilename: join(dataDir, 'temporal.sqlite'),
    searchAttributes: searchAttributeRegistrations,
  });
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const worker: Worker = await createPledgeWorker({ connection: workerConnection, namespace: 'default', taskQueue, sql: db.sql, workflowBundle: bundle });
  const running = worker.run();
  const clientConnection = await Connection.connect({ address: server.address });
  return {
    server,
    client: new Client({ connection: clientConnection, dataConverter: pledgeDataConverter(payloadCodecFromEnv()) }),
    async stop() {
      worker.shutdown();
      await running;
      await workerConnection.close();
      await clientConnection.close();
      await server.stop();
    },
  };
}

describe('restarting the stack', () => {
  it('C3: keeps a running case and its pending timer, which fires after the restart', async () => {
    // A P1 complaint received 59 min 45 s ago: its 1-hour first-response clock is due in 15 s.
    const input = complaintInput('CMP-2026-900001', { priority: 'P1', receivedAt: new Date(Date.now() - 3600_000 + 15_000).toISOString() });
    const workflowId = `complaint-${input.caseId}`;
    const timerStarted = (history: History) => (history.events ?? []).some((event) => event.timerStartedEventAttributes);

    const before = await withStack(async (client) => {
      const handle = await client.workflow.start('complaint', { taskQueue, workflowId, args: [input] });
      expect(timerStarted(await eventually(() => handle.fetchHistory(), timerStarted))).toBe(true);
      return handle.query(stateQuery);
    });

    await withStack(async (client) => {
      const handle = client.workflow.getHandle(workflowId);
      const after = await handle.query(stateQuery);
      expect(after.caseId).toBe(before.caseId);
      expect(after.deadlines).toEqual(before.deadlines);
      const breached = await eventually(
        () => handle.query(stateQuery),
        (state) => state.slaBreached,
        40_000,
        500,
      );
      expect(breached.deadlines.find((deadline) => deadline.name === 'firstResponse')!.state).toBe('breached');
      expect((await handle.fetchHistory()).events?.some((event) => event.timerFiredEventAttributes)).toBe(true);
    });
  });
});
