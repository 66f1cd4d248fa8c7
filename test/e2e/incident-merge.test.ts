import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerWebhook, eventually, minutesAgo, seedRegion, type TestAlert } from '../support/incidents';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';

// Issue 9, item 8 (O2/P5 merge) over HTTP, against a real Temporal dev server, worker and Postgres:
// a supervisor merges one alert incident into another; the absorbed incident's alert group then
// lands in the target.
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ postgres: 55457, temporal: 17257, temporalUi: 18257 }, 'pledge-incident-merge-e2e');
  await seedRegion(stack.db.sql, 'mn', 'merge-north', 4);
  await seedRegion(stack.db.sql, 'ms', 'merge-south', 2);
});

afterAll(async () => {
  await stack?.stop();
});

const groupNorth = '{}/{service="broadband"}:{alertname="BroadbandDown", region="merge-north"}';
const groupSouth = '{}/{service="broadband"}:{alertname="BroadbandDown", region="merge-south"}';
const post = (groupKey: string, region: string, alerts: TestAlert[]) =>
  stack.call('POST', '/v1/alerts/alertmanager', { key: keys.alertSource, body: alertmanagerWebhook(groupKey, alerts, { region, severity: 'major' }) });
const readCase = (caseId: string) => stack.call('GET', `/v1/cases/${caseId}`, { key: keys.auditor });
const act = (caseId: string, action: string, input: Record<string, unknown>, key = keys.supervisor) => stack.call('POST', `/v1/cases/${caseId}/actions/${action}`, { key, body: { input } });
const eventsOf = async (caseId: string) => (await stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor })).body.events as { type: string; data: Record<string, unknown> }[];
const fieldsOf = (answer: { body: { error: { fields: { field: string }[] } } }) => answer.body.error.fields.map((field) => field.field);

/** An alert incident of one group, once its label scope was counted. */
async function openByAlert(groupKey: string, region: string, fingerprint: string, startsAt: string, affected: number): Promise<string> {
  const answer = await post(groupKey, region, [{ fingerprint, status: 'firing', startsAt }]);
  expect(answer.status).toBe(202);
  expect(answer.body.incidents[0]).toMatchObject({ created: true });
  const caseId: string = answer.body.incidents[0].caseId;
  await eventually(
    () => readCase(caseId),
    (state) => state.status === 200 && state.body.details.affectedCount === affected,
  );
  return caseId;
}

describe('merging incidents over HTTP', () => {
  const northStartsAt = minutesAgo(45);
  const southStartsAt = minutesAgo(20);
  let caseA: string;
  let caseB: string;

  it('O2/P5: merge is a supervisor action (403 for an agent); an unknown, closed or same target is a 422 on input.into', async () => {
    caseA = await openByAlert(groupNorth, 'merge-north', 'north-1', northStartsAt, 4);
    caseB = await openByAlert(groupSouth, 'merge-south', 'south-1', southStartsAt, 2);

    expect((await act(caseA, 'merge', { into: caseB, reason: 'One fibre cut' }, keys.agent)).status).toBe(403);
    const unknown = await act(caseA, 'merge', { into: 'INC-2026-999999', reason: 'One fibre cut' });
    expect(unknown.status).toBe(422);
    expect(fieldsOf(unknown)).toEqual(['input.into']);
    expect(unknown.body.error.fields[0].message).toBe('no incident INC-2026-999999');
    const itself = await act(caseA, 'merge', { into: caseA, reason: 'One fibre cut' });
    expect(itself.status).toBe(422);
    expect(fieldsOf(itself)).toEqual(['input.into']);
    const malformed = await act(caseA, 'merge', { into: 'CMP-2026-000001', reason: 'One fibre cut' });
    expect(malformed.status).toBe(422);
    expect(fieldsOf(malformed)).toEqual(['input.into']);

    const manual = await stack.call('POST', '/v1/incidents', {
      key: keys.agent,
      body: { title: 'Old outage', severity: 'SEV3', startedAt: minutesAgo(15), scope: { services: ['broadband'], regions: ['merge-south'] } },
    });
    expect(manual.status).toBe(201);
    const closedId: string = manual.body.caseId;
    expect((await act(closedId, 'dismiss', { reason: 'A probe' })).status).toBe(200);
    await eventually(
      () => readCase(closedId),
      (state) => state.body.status === 'closed',
    );
    const closed = await act(caseA, 'merge', { into: closedId, reason: 'One fibre cut' });
    expect(closed.status).toBe(422);
    expect(fieldsOf(closed)).toEqual(['input.into']);
    expect(closed.body.error.fields[0].message).toBe(`${closedId} is closed, not open`);

    expect((await readCase(caseA)).body.status).toBe('open');
  });

  it("O2/P5: a supervisor merges A into B: A closes without remedies, B takes its alerts and scope, and A's alert group now lands in B", async () => {
    const merged = await act(caseA, 'merge', { into: caseB, reason: 'One fibre cut feeds both regions' });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({ status: 'closed', nextStep: null, allowedActions: [] });
    expect(merged.body.details.mergedInto).toMatchObject({ caseId: caseB, reason: 'One fibre cut feeds both regions', failed: false });
    expect(await stack.temporal.workflow.getHandle(`incident-${caseA}`).result()).toMatchObject({ status: 'closed', remediesPaid: 0 });

    const joined = await eventually(
      () => readCase(caseB),
      (state) => state.body.details.mergedFrom.includes(caseA) && state.body.details.affectedCount === 6,
    );
    expect(joined.body.details).toMatchObject({
      mergedFrom: [caseA],
      scope: { services: ['broadband'], regions: ['merge-north', 'merge-south'] },
      scopeSource: 'staff',
      alerts: { total: 2, firing: 2, resolved: 0 },
      startedAt: new Date(southStartsAt).toISOString(),
    });
    const groups = await stack.db.sql<{ case_id: string; dedup_key: string }[]>`
      select case_id, dedup_key from incident_alert_groups where closed_at is null order by dedup_key`;
    expect(groups).toEqual([
      { case_id: caseB, dedup_key: `alertmanager|${groupNorth}` },
      { case_id: caseB, dedup_key: `alertmanager|${groupSouth}` },
    ]);
    const trailA = (await eventsOf(caseA)).map((event) => event.type);
    expect(trailA.slice(trailA.indexOf('incident.merged-into'))).toEqual(['incident.merged-into', 'sla.cancelled', 'incident.closed', 'incident.merge-delivered']);
    expect((await eventsOf(caseB)).find((event) => event.type === 'incident.alert-groups-adopted')?.data).toMatchObject({ from: caseA, groups: 1, alerts: 1 });

    // A new alert of A's group, and A's own alert re-sent, land in B.
    const north2StartsAt = minutesAgo(5);
    const later = await post(groupNorth, 'merge-north', [
      { fingerprint: 'north-1', status: 'firing', startsAt: northStartsAt },
      { fingerprint: 'north-2', status: 'firing', startsAt: north2StartsAt },
    ]);
    expect(later.status).toBe(202);
    expect(later.body.incidents).toEqual([{ caseId: caseB, workflowId: `incident-${caseB}`, created: false }]);
    await eventually(
      () => readCase(caseB),
      (state) => state.body.details.alerts.total === 3,
    );

    // Every alert of both groups resolves: B resolves and pays every customer of both regions once; A pays nobody.
    const endsAt = minutesAgo(1);
    const north = await post(groupNorth, 'merge-north', [
      { fingerprint: 'north-1', status: 'resolved', startsAt: northStartsAt, endsAt },
      { fingerprint: 'north-2', status: 'resolved', startsAt: north2StartsAt, endsAt },
    ]);
    expect(north.body.incidents).toEqual([{ caseId: caseB, workflowId: `incident-${caseB}`, created: false }]);
    const south = await post(groupSouth, 'merge-south', [{ fingerprint: 'south-1', status: 'resolved', startsAt: southStartsAt, endsAt }]);
    expect(south.body.incidents[0]).toMatchObject({ caseId: caseB });
    const resolved = await eventually(
      () => readCase(caseB),
      (state) => state.body.details.recovery.completedAt !== null,
    );
    expect(resolved.body).toMatchObject({ status: 'resolved', details: { recovery: { customers: 6, remediesPaid: 6 } } });
    // The joined outage is counted from A's start (45 min ago; B's own 20 min would earn no remedy under the 30-min tier).
    expect(resolved.body.details.outageMinutes).toBeGreaterThanOrEqual(43);
    const ledger = await stack.db.sql<{ case_id: string; n: number }[]>`select case_id, count(*)::int as n from ledger where case_id in (${caseA}, ${caseB}) group by case_id`;
    expect(ledger).toEqual([{ case_id: caseB, n: 6 }]);
    expect(await stack.db.sql`select 1 from incident_alert_groups where case_id = ${caseB} and closed_at is null`).toHaveLength(0);
  });
});
