import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextCaseNumber } from '../../db/case-numbers';
import { assignAlertGroup, closeAlertGroup, markAlertsDelivered, type ObservedAlert } from '../../db/incident-alerts';
import type { Sql } from '../../db/sql';
import { formatCaseId } from '../../domain/case-types';
import { startTestDatabase, type TestDatabase } from '../support/database';

// O2 at scale: what an alert post changes, computed against incident_alerts in real Postgres.
let db: TestDatabase;

beforeAll(async () => {
  db = await startTestDatabase(55470);
});

afterAll(async () => {
  await db?.stop();
});

const startsAt = '2026-11-20T07:00:00.000Z';
const firing = (fingerprint: string, at = startsAt): ObservedAlert => ({ fingerprint, startsAt: at, status: 'firing', endsAt: null });
const resolved = (fingerprint: string, endsAt = '2026-11-20T07:45:00.000Z', at = startsAt): ObservedAlert => ({ fingerprint, startsAt: at, status: 'resolved', endsAt });
const newCaseId = async (tx: Sql) => formatCaseId('incident', 2026, await nextCaseNumber(tx));

function post(dedupKey: string, alerts: ObservedAlert[]) {
  return assignAlertGroup(db.sql, { source: 'alertmanager', dedupKey, alerts, newCaseId });
}

/** What a post says must be signalled, as `fingerprint:status`, sorted. */
function changes(result: Awaited<ReturnType<typeof post>>): string[] {
  return result.assignments
    .filter((assignment) => assignment.changed)
    .map(({ alert }) => `${alert.fingerprint}:${alert.status}`)
    .sort();
}

/** The API's last step: the signal carrying these alerts succeeded. */
async function delivered(result: Awaited<ReturnType<typeof post>>): Promise<void> {
  const byCase = new Map<string, ObservedAlert[]>();
  for (const { alert, caseId, changed } of result.assignments) if (changed) byCase.set(caseId, [...(byCase.get(caseId) ?? []), alert]);
  for (const [caseId, alerts] of byCase) await markAlertsDelivered(db.sql, 'alertmanager', caseId, alerts);
}

describe('alert deltas against incident_alerts', () => {
  const group = 'alertmanager|{}:{alertname="BroadbandDown"}';
  let caseId: string;

  it('a first post opens an incident and every alert is a change', async () => {
    const first = await post(group, [firing('a'), firing('b')]);
    expect(first.createdCaseId).toMatch(/^INC-2026-\d{6}$/);
    caseId = first.createdCaseId!;
    expect(first.assignments.map((assignment) => assignment.caseId)).toEqual([caseId, caseId]);
    expect(changes(first)).toEqual(['a:firing', 'b:firing']);
  });

  it('until their signal succeeded, the same alerts are changes again (a failed post is repeated in full)', async () => {
    const again = await post(group, [firing('a'), firing('b')]);
    expect(again.createdCaseId).toBeUndefined();
    expect(changes(again)).toEqual(['a:firing', 'b:firing']);
    await delivered(again);
  });

  it('a re-send with nothing new changes nothing', async () => {
    const resend = await post(group, [firing('a'), firing('b')]);
    expect(changes(resend)).toEqual([]);
    expect(resend.assignments.map((assignment) => assignment.caseId)).toEqual([caseId, caseId]);
  });

  it('a new alert and a resolution are the only changes; a firing re-send of a resolved alert is none', async () => {
    const next = await post(group, [resolved('a'), firing('b'), firing('c')]);
    expect(next.createdCaseId).toBeUndefined();
    expect(changes(next)).toEqual(['a:resolved', 'c:firing']);
    expect(new Set(next.assignments.map((assignment) => assignment.caseId))).toEqual(new Set([caseId]));
    await delivered(next);
    expect(changes(await post(group, [resolved('a'), firing('b'), firing('c')]))).toEqual([]);
    // Resolution wins, as in the workflow: a stale firing re-send is not passed on, nor recorded.
    expect(changes(await post(group, [firing('a')]))).toEqual([]);
    await markAlertsDelivered(db.sql, 'alertmanager', caseId, [firing('a')]);
    const [row] = await db.sql`select delivered_status from incident_alerts where fingerprint = 'a' and case_id = ${caseId}`;
    expect(row!.delivered_status).toBe('resolved');
  });

  it('a changed end time is a change', async () => {
    const moved = await post(group, [resolved('a', '2026-11-20T07:50:00.000Z')]);
    expect(changes(moved)).toEqual(['a:resolved']);
    await delivered(moved);
    expect(changes(await post(group, [resolved('a', '2026-11-20T07:50:00.000Z')]))).toEqual([]);
  });

  it('an alert repeated within one post counts once, the last one winning', async () => {
    const repeated = await post(group, [firing('d'), resolved('d')]);
    expect(repeated.assignments).toHaveLength(1);
    expect(changes(repeated)).toEqual(['d:resolved']);
    await delivered(repeated);
  });

  it('after resolution, known alerts stay with their incident; released and new ones open the next', async () => {
    // The incident saw a, b, c and d, not e, which raced its resolution.
    const raced = await post(group, [firing('e')]);
    expect(changes(raced)).toEqual(['e:firing']);
    const released = await closeAlertGroup(db.sql, {
      caseId,
      closedAt: new Date().toISOString(),
      dedupKey: group,
      knownAlerts: ['a', 'b', 'c', 'd'].map((fingerprint) => ({ fingerprint, startsAt })),
    });
    expect(released).toBe(1);
    const after = await post(group, [resolved('b'), firing('e'), firing('a', '2026-11-20T09:00:00.000Z')]);
    expect(after.createdCaseId).toBeDefined();
    expect(after.createdCaseId).not.toBe(caseId);
    const caseOf = (fingerprint: string) => after.assignments.find((assignment) => assignment.alert.fingerprint === fingerprint)!.caseId;
    expect(caseOf('b')).toBe(caseId);
    expect(caseOf('e')).toBe(after.createdCaseId);
    expect(caseOf('a')).toBe(after.createdCaseId);
    expect(changes(after)).toEqual(['a:firing', 'b:resolved', 'e:firing']);
  });

  it('never marks a row that another incident took since', async () => {
    const other = 'alertmanager|{}:{alertname="Other"}';
    const first = await post(other, [firing('x')]);
    expect(await markAlertsDelivered(db.sql, 'alertmanager', 'INC-2026-999999', [firing('x')])).toBe(0);
    expect(changes(await post(other, [firing('x')]))).toEqual(['x:firing']);
    expect(await markAlertsDelivered(db.sql, 'alertmanager', first.createdCaseId!, [firing('x')])).toBe(1);
  });

  it('keeps sources apart', async () => {
    const grafana = await assignAlertGroup(db.sql, { source: 'grafana', dedupKey: `grafana|${group}`, alerts: [firing('b')], newCaseId });
    expect(grafana.createdCaseId).toBeDefined();
    expect(changes(grafana)).toEqual(['b:firing']);
  });

  it('takes a group of 5,000 alerts in one post, and its re-send changes only what moved', async () => {
    const big = 'alertmanager|{}:{alertname="OltDown"}';
    const alerts = Array.from({ length: 5000 }, (_, index) => firing(`olt-${String(index).padStart(5, '0')}`));
    const first = await post(big, alerts);
    expect(first.createdCaseId).toBeDefined();
    expect(first.assignments.filter((assignment) => assignment.changed)).toHaveLength(5000);
    await delivered(first);
    const moved = alerts.map((alert, index) => (index % 1000 === 0 ? resolved(alert.fingerprint) : alert));
    const resend = await post(big, moved);
    expect(changes(resend)).toEqual(['olt-00000', 'olt-01000', 'olt-02000', 'olt-03000', 'olt-04000'].map((fingerprint) => `${fingerprint}:resolved`));
    const [rows] = await db.sql`select count(*)::int as n from incident_alerts where case_id = ${first.createdCaseId!}`;
    expect(rows!.n).toBe(5000);
  });

  it('concurrent first posts of one group open one incident', async () => {
    const racing = 'alertmanager|{}:{alertname="Race"}';
    const results = await Promise.all(Array.from({ length: 8 }, () => post(racing, [firing('r1'), firing('r2')])));
    expect(results.filter((result) => result.createdCaseId)).toHaveLength(1);
    expect(new Set(results.flatMap((result) => result.assignments.map((assignment) => assignment.caseId))).size).toBe(1);
    const [groups] = await db.sql`select count(*)::int as n from incident_alert_groups where dedup_key = ${racing}`;
    expect(groups!.n).toBe(1);
  });
});
