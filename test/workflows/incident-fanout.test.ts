import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseWorkflowId } from '../../domain/case-types';
import { actUpdate, stateQuery } from '../../workflows/protocol';
import type { TestDatabase } from '../support/database';
import { eventually, incidentInput, seedRegion } from '../support/incidents';
import { startTimeSkippingBed, type TimeSkippingBed } from '../support/time-skipping-bed';

// Fan-out at scale (O4, O7, O8, P5): 20,000 affected users, pages of 1,000, continue-as-new every 10 pages.
const taskQueue = 'incident-fanout';
const customerCount = 20_000;
const agent = { id: 'agent/test', role: 'agent' as const };
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let bed: TimeSkippingBed;

beforeAll(async () => {
  bed = await startTimeSkippingBed({ postgresPort: 55441, taskQueue });
  ({ env, db } = bed);
  await seedRegion(db.sql, 'fan', 'fanout-region', customerCount);
});

afterAll(() => bed?.stop());

type Fanout = { kind: string; customers: number; pages: number; runs: number; durationMs: number; maxRunHistoryLength: number };

describe('incident fan-out', () => {
  it(`O4, O7, O8, P5: ${customerCount} affected users get exactly one notice per channel, one recovery notice and one ledger row each`, async () => {
    const now = await env.currentTimeMs();
    const input = incidentInput({ caseId: 'INC-2026-900001', startedAtMs: now - 3 * 3600_000, scope: { services: ['broadband'], regions: ['fanout-region'] } });
    const handle = await env.client.workflow.start('incident', { taskQueue, workflowId: caseWorkflowId('incident', input.caseId), args: [input] });
    const fanouts = (state: { details: Record<string, unknown> }) => state.details.fanouts as Fanout[];

    // Three hours after the start: the notice goes out at once (late), to every affected user.
    const noticed = await eventually(
      () => handle.query(stateQuery),
      (state) => fanouts(state).length === 1,
      120_000,
      250,
    );
    expect(noticed.details.affectedCount).toBe(customerCount);
    await handle.executeUpdate(actUpdate, { args: [{ action: 'resolve', input: { summary: 'Restored' }, actor: agent }] });
    const recovered = await eventually(
      () => handle.query(stateQuery),
      (state) => fanouts(state).length === 2,
      120_000,
      250,
    );
    const [notice, recovery] = fanouts(recovered) as [Fanout, Fanout];

    const perChannel = await db.sql<{ template: string; channel: string; rows: string; customers: string }[]>`
      select template, channel, count(*) as rows, count(distinct customer_id) as customers
      from notifications where case_id = ${input.caseId} group by template, channel order by template, channel`;
    const emailCustomers = customerCount / 2;
    expect(perChannel.map((row) => [row.template, row.channel, Number(row.rows), Number(row.customers)])).toEqual([
      ['incident.outage-notice', 'email', emailCustomers, emailCustomers],
      ['incident.outage-notice', 'inbox', customerCount, customerCount],
      ['incident.recovered-with-remedy', 'email', emailCustomers, emailCustomers],
      ['incident.recovered-with-remedy', 'inbox', customerCount, customerCount],
    ]);
    const [ledger] = await db.sql<{ rows: string; customers: string; versions: string[] }[]>`
      select count(*) as rows, count(distinct customer_id) as customers, array_agg(distinct policy_version) as versions from ledger where case_id = ${input.caseId}`;
    expect([Number(ledger!.rows), Number(ledger!.customers), ledger!.versions]).toEqual([customerCount, customerCount, ['compensation/2026.1']]);

    const incidentHistory = (await handle.fetchHistory()).events?.length ?? 0;
    const largestFanoutRun = Math.max(notice.maxRunHistoryLength, recovery.maxRunHistoryLength);
    console.log(
      `[fan-out] ${customerCount} customers: notice ${notice.durationMs} ms (${notice.pages} pages, ${notice.runs} runs), ` +
        `recovery + remedies ${recovery.durationMs} ms (${recovery.pages} pages, ${recovery.runs} runs); ` +
        `history length: incident ${incidentHistory} events, largest fan-out run ${largestFanoutRun} events`,
    );
    expect(notice.runs).toBeGreaterThan(1);
    expect(largestFanoutRun).toBeLessThan(200);
    expect(incidentHistory).toBeLessThan(400);
  });
});
