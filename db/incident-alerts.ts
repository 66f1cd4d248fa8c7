import type { AlertSource } from '../domain/incident';
import { inTransaction, type Sql } from './sql';

// O2: which open incident owns an alert group (table `incident_alert_groups`), which incident each
// alert (fingerprint + startsAt) belongs to and what the API last delivered to it (`incident_alerts`).

/** One alert as a post reports it: its identity and the state that the incident cares to hear about. */
export interface ObservedAlert {
  fingerprint: string;
  /** ISO 8601, normalised (toISOString), as the incident keys it. */
  startsAt: string;
  status: 'firing' | 'resolved';
  endsAt: string | null;
}

export interface AlertAssignment<Alert extends ObservedAlert> {
  alert: Alert;
  caseId: string;
  /** New to the incident, or its status or end changed since it was last delivered: it must be signalled. */
  changed: boolean;
}

/**
 * Serialises everything done to one alert group (the API's posts, the incident's resolution) for
 * the rest of the transaction.
 */
export async function lockAlertGroup(sql: Sql, dedupKey: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${dedupKey}, 0))`;
}

/** The incident that owns the group now, if one is open. */
export async function findOpenAlertGroup(sql: Sql, dedupKey: string): Promise<string | undefined> {
  const [row] = await sql<{ case_id: string }[]>`select case_id from incident_alert_groups where dedup_key = ${dedupKey} and closed_at is null`;
  return row?.case_id;
}

/** The partial unique index refuses a second open incident for the group, whatever happens to the lock. */
export async function openAlertGroup(sql: Sql, caseId: string, dedupKey: string): Promise<void> {
  await sql`insert into incident_alert_groups (case_id, dedup_key) values (${caseId}, ${dedupKey})`;
}

/**
 * O2: ties every alert of a post to one incident and says which must be signalled, in one
 * transaction serialised per alert group:
 * - an alert (fingerprint + startsAt) seen before stays with its incident for good;
 * - any other alert joins the group's open incident, or opens a new one (`newCaseId`) that owns
 *   the group until it resolves;
 * - an alert is `changed` when it is new, was never delivered, or its status or end moved since
 *   its last delivery. A firing re-send of an alert delivered resolved is not a change: the
 *   incident keeps resolution (as its workflow does).
 * Alerts repeated within the post count once (the last one wins).
 */
export async function assignAlertGroup<Alert extends ObservedAlert>(
  sql: Sql,
  input: { source: AlertSource; dedupKey: string; alerts: readonly Alert[]; newCaseId: (tx: Sql) => Promise<string> },
): Promise<{ assignments: AlertAssignment<Alert>[]; createdCaseId?: string }> {
  const unique = new Map<string, Alert>();
  for (const alert of input.alerts) {
    const key = `${alert.fingerprint}|${alert.startsAt}`;
    unique.delete(key);
    unique.set(key, alert);
  }
  const alerts = [...unique.values()];
  return inTransaction(sql, async (tx) => {
    await lockAlertGroup(tx, input.dedupKey);
    const known = await tx<{ index: string; case_id: string; delivered_status: 'firing' | 'resolved' | null; delivered_ends_at: Date | null }[]>`
      select posted.index, a.case_id, a.delivered_status, a.delivered_ends_at
      from unnest(${alerts.map((alert) => alert.fingerprint)}::text[], ${alerts.map((alert) => alert.startsAt)}::timestamptz[])
             with ordinality as posted(fingerprint, starts_at, index)
      join incident_alerts a on a.source = ${input.source} and a.fingerprint = posted.fingerprint and a.starts_at = posted.starts_at`;
    const knownByIndex = new Map(known.map((row) => [Number(row.index) - 1, row]));
    const unknown = alerts.filter((_, index) => !knownByIndex.has(index));
    let openCaseId: string | undefined;
    let createdCaseId: string | undefined;
    if (unknown.length > 0) {
      openCaseId = await findOpenAlertGroup(tx, input.dedupKey);
      if (!openCaseId) {
        openCaseId = createdCaseId = await input.newCaseId(tx);
        await openAlertGroup(tx, openCaseId, input.dedupKey);
      }
      await tx`
        insert into incident_alerts (source, fingerprint, starts_at, case_id)
        select ${input.source}::text, fingerprint, starts_at, ${openCaseId}
        from unnest(${unknown.map((alert) => alert.fingerprint)}::text[], ${unknown.map((alert) => alert.startsAt)}::timestamptz[]) as a(fingerprint, starts_at)
        on conflict do nothing`;
    }
    const assignments = alerts.map((alert, index): AlertAssignment<Alert> => {
      const row = knownByIndex.get(index);
      if (!row) return { alert, caseId: openCaseId!, changed: true };
      return { alert, caseId: row.case_id, changed: alertChanged(alert, row.delivered_status, row.delivered_ends_at?.toISOString() ?? null) };
    });
    return createdCaseId ? { assignments, createdCaseId } : { assignments };
  });
}

function alertChanged(alert: ObservedAlert, deliveredStatus: 'firing' | 'resolved' | null, deliveredEndsAt: string | null): boolean {
  if (deliveredStatus === null) return true;
  if (deliveredStatus === 'resolved' && alert.status === 'firing') return false;
  return deliveredStatus !== alert.status || deliveredEndsAt !== alert.endsAt;
}

/**
 * Records what the incident `caseId` was told about these alerts, after the signal carrying them
 * succeeded. Never moves an alert from resolved back to firing, and never touches a row that has
 * since been released and taken by another incident.
 */
export async function markAlertsDelivered(sql: Sql, source: AlertSource, caseId: string, alerts: readonly ObservedAlert[]): Promise<number> {
  if (alerts.length === 0) return 0;
  const updated = await sql`
    update incident_alerts a
    set delivered_status = d.status, delivered_ends_at = d.ends_at
    from unnest(${alerts.map((alert) => alert.fingerprint)}::text[], ${alerts.map((alert) => alert.startsAt)}::timestamptz[],
                ${alerts.map((alert) => alert.status)}::text[], ${alerts.map((alert) => alert.endsAt)}::timestamptz[])
           as d(fingerprint, starts_at, status, ends_at)
    where a.source = ${source} and a.case_id = ${caseId} and a.fingerprint = d.fingerprint and a.starts_at = d.starts_at
      and (a.delivered_status is distinct from 'resolved' or d.status <> 'firing')
    returning a.fingerprint`;
  return updated.length;
}

/**
 * O2: the incident resolved, so its alert group is free: the group's next outage opens a new
 * incident. Alerts tied to this incident that it never saw (they raced its resolution) are released
 * with the group, under the same per-group lock as the API, so their next re-send opens that new
 * incident instead of vanishing. Returns how many were released.
 */
export async function closeAlertGroup(
  sql: Sql,
  input: { caseId: string; closedAt: string; dedupKey?: string | null; knownAlerts?: readonly { fingerprint: string; startsAt: string }[] },
): Promise<number> {
  return inTransaction(sql, async (tx) => {
    if (input.dedupKey) await lockAlertGroup(tx, input.dedupKey);
    await tx`update incident_alert_groups set closed_at = ${input.closedAt} where case_id = ${input.caseId} and closed_at is null`;
    if (!input.knownAlerts) return 0;
    const released = await tx`
      delete from incident_alerts
      where case_id = ${input.caseId}
        and (fingerprint, starts_at) not in (
          select fingerprint, starts_at
          from unnest(${input.knownAlerts.map((alert) => alert.fingerprint)}::text[], ${input.knownAlerts.map((alert) => alert.startsAt)}::timestamptz[])
            as known(fingerprint, starts_at))
      returning fingerprint`;
    return released.length;
  });
}

/**
 * O2/P5: the incident `fromCaseId` was merged into `toCaseId`. Under each group's lock (as the API
 * takes it), every alert group `fromCaseId` still owns is closed for it and opened for the target,
 * so the group's next alerts reach the target; its alerts (fingerprint + startsAt) move to the
 * target too, so their re-sends (a resolution) reach it. Alerts the merged incident never saw (they
 * raced the merge) are marked undelivered, so their next re-send is signalled to the target.
 * With `release` (the target is no longer open) the groups are closed instead, as at a
 * resolution. A retry finds nothing left to move.
 */
export async function adoptAlertGroups(
  sql: Sql,
  input: { fromCaseId: string; toCaseId: string; at: string; knownAlerts: readonly { fingerprint: string; startsAt: string }[]; release: boolean },
): Promise<{ groups: number; alerts: number; released: number }> {
  if (input.release) {
    const keys = await openGroupKeys(sql, input.fromCaseId);
    const released = await closeAlertGroup(sql, { caseId: input.fromCaseId, closedAt: input.at, dedupKey: keys[0] ?? null, knownAlerts: input.knownAlerts });
    return { groups: 0, alerts: 0, released };
  }
  return inTransaction(sql, async (tx) => {
    // Locks taken in key order, so two merges never wait on each other crosswise.
    for (const key of await openGroupKeys(tx, input.fromCaseId)) await lockAlertGroup(tx, key);
    const moved = await tx<{ dedup_key: string }[]>`
      update incident_alert_groups set closed_at = ${input.at}
      where case_id = ${input.fromCaseId} and closed_at is null
      returning dedup_key`;
    if (moved.length > 0) {
      await tx`
        insert into incident_alert_groups (case_id, dedup_key, opened_at)
        select ${input.toCaseId}, dedup_key, ${input.at}::timestamptz from unnest(${moved.map((row) => row.dedup_key)}::text[]) as moved(dedup_key)
        on conflict (case_id, dedup_key) do update set closed_at = null`;
    }
    const alerts = await tx`
      with known as (
        select fingerprint, starts_at
        from unnest(${input.knownAlerts.map((alert) => alert.fingerprint)}::text[], ${input.knownAlerts.map((alert) => alert.startsAt)}::timestamptz[]) as known(fingerprint, starts_at))
      update incident_alerts a
      set case_id = ${input.toCaseId},
          delivered_status = case when exists (select 1 from known k where k.fingerprint = a.fingerprint and k.starts_at = a.starts_at) then a.delivered_status end,
          delivered_ends_at = case when exists (select 1 from known k where k.fingerprint = a.fingerprint and k.starts_at = a.starts_at) then a.delivered_ends_at end
      where a.case_id = ${input.fromCaseId}
      returning a.fingerprint`;
    return { groups: moved.length, alerts: alerts.length, released: 0 };
  });
}

/** The dedup keys of the groups a case owns now, in key order. */
async function openGroupKeys(sql: Sql, caseId: string): Promise<string[]> {
  const rows = await sql<{ dedup_key: string }[]>`select dedup_key from incident_alert_groups where case_id = ${caseId} and closed_at is null order by dedup_key`;
  return rows.map((row) => row.dedup_key);
}
