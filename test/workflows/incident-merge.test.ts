import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../domain/actors';
import { caseWorkflowId } from '../../domain/case-types';
import type { IncidentInput } from '../../workflows/incident';
import { actUpdate, stateQuery } from '../../workflows/protocol';
import type { TestDatabase } from '../support/database';
import { eventually, incidentInput, seedRegion } from '../support/incidents';
import { startTimeSkippingBed, type TimeSkippingBed } from '../support/time-skipping-bed';
import { minutes } from '../support/durations';

// Issue 9, item 8 (O2/P5 merge) on the time-skipping server with real Postgres activities: one
// outage reported as two incidents is joined into one, and no customer hears anything twice.
const taskQueue = 'incident-merge';
const agent: Actor = { id: 'agent/test', role: 'agent' };
const supervisor: Actor = { id: 'supervisor/test', role: 'supervisor' };
const regionA = { services: ['broadband'], regions: ['merge-a'] };
const regionB = { services: ['broadband'], regions: ['merge-b'] };
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let bed: TimeSkippingBed;
let caseSequence = 0;

beforeAll(async () => {
  bed = await startTimeSkippingBed({ postgresPort: 55456, taskQueue });
  ({ env, db } = bed);
  // Region a: 4 customers (2 with e-mail); region b: 3 customers (1 with e-mail); elsewhere: 2 who hear nothing.
  await seedRegion(db.sql, 'ma', 'merge-a', 4);
  await seedRegion(db.sql, 'mb', 'merge-b', 3);
  await seedRegion(db.sql, 'mx', 'merge-elsewhere', 2);
});

afterAll(() => bed?.stop());

const nextCaseId = () => `INC-2026-${String(700 + ++caseSequence).padStart(6, '0')}`;

async function start(input: IncidentInput) {
  return env.client.workflow.start('incident', { taskQueue, workflowId: caseWorkflowId('incident', input.caseId), args: [input] });
}

type Handle = Awaited<ReturnType<typeof start>>;
const act = (handle: Handle, action: string, input: Record<string, unknown> = {}, actor: Actor = agent) => handle.executeUpdate(actUpdate, { args: [{ action, input, actor }] });

async function events(caseId: string) {
  return db.sql<{ type: string; data: Record<string, unknown> }[]>`select type, data from case_events where case_id = ${caseId} order by step`;
}

/** Inbox rows (every customer has an inbox) of a template, per case. */
async function inbox(caseId: string, template: string) {
  const rows = await db.sql<{ customer_id: string }[]>`
    select customer_id from notifications where case_id = ${caseId} and template like ${template} and channel = 'inbox' order by customer_id`;
  return rows.map((row) => row.customer_id);
}

const ledgerOf = async (caseId: string) => (await db.sql<{ customer_id: string }[]>`select customer_id from ledger where case_id = ${caseId} order by customer_id`).map((row) => row.customer_id);
const customersOf = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}-${String(index + 1).padStart(6, '0')}`);
const regionACustomers = customersOf('ma', 4);
const regionBCustomers = customersOf('mb', 3);

describe('O2/P5: merging one incident into another (time-skipping)', () => {
  it('O2/P5: A (region a, notice out) merged into B (region b, notice out): B covers both regions, tells nobody twice, and on resolution sends every customer of both one recovery notice and one remedy; A closes with none', async () => {
    const now = await env.currentTimeMs();
    // A started first (40 minutes ago); B was opened for the same outage 20 minutes later.
    const a = await start(incidentInput({ caseId: nextCaseId(), startedAtMs: now - minutes(40), scope: regionA, title: 'Broadband down in merge-a' }));
    const b = await start(incidentInput({ caseId: nextCaseId(), startedAtMs: now - minutes(20), scope: regionB, title: 'Broadband down in merge-b' }));
    const [{ caseId: caseA }, { caseId: caseB }] = [await a.query(stateQuery), await b.query(stateQuery)];
    await act(a, 'publish-notice');
    await act(b, 'publish-notice');
    expect(
      await eventually(
        () => inbox(caseA, 'incident.outage-notice'),
        (rows) => rows.length === 4,
      ),
    ).toEqual(regionACustomers);
    expect(
      await eventually(
        () => inbox(caseB, 'incident.outage-notice'),
        (rows) => rows.length === 3,
      ),
    ).toEqual(regionBCustomers);

    // An agent may not merge; a supervisor may.
    await expect(act(a, 'merge', { into: caseB, reason: 'One fibre cut' })).rejects.toThrow();
    const merged = await act(a, 'merge', { into: caseB, reason: 'One fibre cut feeds both regions' }, supervisor);
    expect(merged).toMatchObject({ status: 'closed', nextStep: null, allowedActions: [] });
    expect(merged.details).toMatchObject({ mergedInto: { caseId: caseB, reason: 'One fibre cut feeds both regions', by: supervisor.id, failed: false }, mergedFrom: [] });
    expect(Object.fromEntries(merged.deadlines.map((deadline) => [deadline.name, deadline.state]))).toEqual({ notice: 'met', repair: 'cancelled' });
    expect(await a.result()).toMatchObject({ status: 'closed', remediesPaid: 0, outageMinutes: null });

    // B takes A over: the union scope (staff's now), A in its mergedFrom; its notice follows the wider scope.
    const widened = await eventually(
      () => b.query(stateQuery),
      (state) => (state.details.mergedFrom as string[]).includes(caseA) && state.details.affectedCount === 7,
    );
    expect(widened.details).toMatchObject({ scope: { services: ['broadband'], regions: ['merge-a', 'merge-b'] }, scopeSource: 'staff', mergedFrom: [caseA], mergedInto: null });
    const noticesOfB = await eventually(
      () => events(caseB),
      (rows) => rows.filter((row) => row.type === 'incident.fanout-delivered').length === 2,
    );
    // The second notice fan-out (the wider scope) left region a out (told by A); region b's keys repeat nothing.
    const secondSnapshot = await db.sql<{ customer_id: string }[]>`
      select customer_id from fanout_recipients where fanout_key = ${`incident-${caseB}-fanout-2-outage-notice`} order by customer_id`;
    expect(secondSnapshot.map((row) => row.customer_id)).toEqual(regionBCustomers);
    expect(await inbox(caseB, 'incident.outage-notice')).toEqual(regionBCustomers);
    const mergedEvent = noticesOfB.find((row) => row.type === 'incident.merged')!;
    expect(mergedEvent.data).toMatchObject({ from: caseA, absorbedScope: regionA, notifiedUnder: [`incident-${caseA}:notice:`, `incident-${caseA}:update-`] });
    const typesOfA = (await events(caseA)).map((row) => row.type);
    expect(typesOfA.slice(typesOfA.indexOf('incident.merged-into'))).toEqual(['incident.merged-into', 'sla.cancelled', 'incident.closed', 'incident.merge-delivered']);

    // B resolves: one recovery notice and one remedy to every customer of both regions, from B only.
    await act(b, 'resolve', { summary: 'Trunk spliced' });
    await eventually(
      () => events(caseB),
      (rows) => rows.some((row) => row.type === 'incident.recovery-delivered'),
    );
    const everyone = [...regionACustomers, ...regionBCustomers];
    expect(await inbox(caseB, 'incident.recovered%')).toEqual(everyone);
    expect(await ledgerOf(caseB)).toEqual(everyone);
    expect(await inbox(caseA, 'incident.recovered%')).toEqual([]);
    expect(await ledgerOf(caseA)).toEqual([]);
    // Nobody elsewhere heard anything; nobody heard an outage notice twice.
    const perCustomer = await db.sql<{ customer_id: string; notices: number }[]>`
      select customer_id, count(*)::int as notices from notifications
      where channel = 'inbox' and template = 'incident.outage-notice' and case_id in (${caseA}, ${caseB})
      group by customer_id order by customer_id`;
    expect(perCustomer).toEqual(everyone.map((customer_id) => ({ customer_id, notices: 1 })));
    expect(await db.sql`select 1 from notifications where customer_id like 'mx-%'`).toHaveLength(0);
    // The joined outage started when A did: 40 minutes and more.
    const resolvedEvent = (await events(caseB)).find((row) => row.type === 'incident.resolved')!;
    expect(resolvedEvent.data.outageMinutes).toBeGreaterThanOrEqual(40);
  });

  it('O2/P5: a merge into an incident that is not running fails visibly: recorded on the absorbed incident and escalated to supervisors', async () => {
    const now = await env.currentTimeMs();
    const a = await start(incidentInput({ caseId: nextCaseId(), startedAtMs: now - minutes(10), scope: regionA }));
    const { caseId } = await a.query(stateQuery);
    await act(a, 'merge', { into: 'INC-2026-099999', reason: 'A typo' }, supervisor);
    expect(await a.result()).toMatchObject({ status: 'closed', remediesPaid: 0 });
    const trail = await events(caseId);
    const failed = trail.find((row) => row.type === 'incident.merge-failed');
    expect(failed?.data).toMatchObject({ into: 'INC-2026-099999', attempt: 1, retrying: false, escalatedTo: 'supervisor' });
    const escalations = await db.sql`select role from staff_notifications where case_id = ${caseId} and kind = 'merge-failed-1'`;
    expect(escalations).toEqual([{ role: 'supervisor' }]);
    const state = await a.query(stateQuery);
    expect(state.details).toMatchObject({ mergedInto: { caseId: 'INC-2026-099999', failed: true } });
  });
});
