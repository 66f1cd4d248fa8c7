import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerWebhook, eventually, minutesAgo, seedRegion } from '../support/incidents';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';

// Issue 9, item 8 (part): a supervisor dismisses a false alarm over HTTP, against a real Temporal
// dev server, worker and Postgres (O2/P5).
let stack: RunningStack;
const inScope = 6;

beforeAll(async () => {
  stack = await startStack({ postgres: 55453, temporal: 17253, temporalUi: 18253 }, 'pledge-incident-fidelity-e2e');
  // Six customers in the scope (every 2nd with e-mail), three elsewhere who must hear nothing.
  await seedRegion(stack.db.sql, 'dis', 'dismiss-north', inScope);
  await seedRegion(stack.db.sql, 'far', 'dismiss-south', 3);
});

afterAll(async () => {
  await stack?.stop();
});

const scope = { services: ['broadband'], regions: ['dismiss-north'] };
const act = (caseId: string, action: string, input: Record<string, unknown>, key = keys.agent) => stack.call('POST', `/v1/cases/${caseId}/actions/${action}`, { key, body: { input } });
const eventsOf = async (caseId: string) =>
  (await stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor })).body.events as { type: string; actor: { role: string }; data: Record<string, unknown> }[];
const rowsOf = (caseId: string, template: string) =>
  stack.db.sql<{ customer_id: string; channel: string }[]>`select customer_id, channel from notifications where case_id = ${caseId} and template like ${template} order by customer_id, channel`;
const ledgerOf = (caseId: string) => stack.db.sql`select customer_id from ledger where case_id = ${caseId}`;
/** The workflow ends once its background fan-outs are done: nothing more is written after this. */
const finished = (caseId: string) => stack.temporal.workflow.getHandle(`incident-${caseId}`).result();

async function openIncident(idempotencyKey: string): Promise<string> {
  const opened = await stack.call('POST', '/v1/incidents', {
    key: keys.agent,
    headers: { 'idempotency-key': idempotencyKey },
    body: { title: 'Broadband down in dismiss-north', severity: 'SEV2', startedAt: minutesAgo(15), scope },
  });
  expect(opened.status).toBe(201);
  expect(opened.body.details.affectedCount).toBe(inScope);
  return opened.body.caseId as string;
}

describe('dismissing a false alarm over HTTP', () => {
  it('O2/P5: only a supervisor may dismiss, and only with a reason', async () => {
    const caseId = await openIncident('dismiss-roles');
    expect((await act(caseId, 'dismiss', { reason: 'False alarm' }, keys.agent)).status).toBe(403);
    const noReason = await act(caseId, 'dismiss', {}, keys.supervisor);
    expect(noReason.status).toBe(422);
    expect(noReason.body.error.fields.map((field: { field: string }) => field.field)).toEqual(['input.reason']);
    expect((await stack.call('GET', `/v1/cases/${caseId}`, { key: keys.auditor })).body.status).toBe('open');
    expect((await act(caseId, 'dismiss', { reason: 'Clean-up of the role test' }, keys.supervisor)).status).toBe(200);
  });

  it('O2/P5: dismissed after the notice went out: a correction to exactly the customers told, then closed; no recovery, no ledger rows', async () => {
    const caseId = await openIncident('dismiss-after-notice');
    expect((await act(caseId, 'publish-notice', {})).status).toBe(200);
    const told = await eventually(
      () => rowsOf(caseId, 'incident.outage-notice'),
      (rows) => rows.length === inScope + inScope / 2,
    );
    expect(told).toHaveLength(inScope + inScope / 2);

    const reason = 'The probe at the POP flapped; no customer lost service';
    const dismissed = await act(caseId, 'dismiss', { reason, message: 'Our monitoring raised a false alarm.' }, keys.supervisor);
    expect(dismissed.status).toBe(200);
    expect(dismissed.body).toMatchObject({ status: 'closed', nextStep: null, allowedActions: [] });
    expect(Object.fromEntries(dismissed.body.deadlines.map((deadline: { name: string; state: string }) => [deadline.name, deadline.state]))).toEqual({ notice: 'met', repair: 'cancelled' });

    expect(await finished(caseId)).toMatchObject({ status: 'closed', remediesPaid: 0 });
    const corrections = await rowsOf(caseId, 'incident.correction');
    expect(corrections).toEqual(told);
    expect(corrections.every((row) => row.customer_id.startsWith('dis-'))).toBe(true);
    expect(await rowsOf(caseId, 'incident.recovered%')).toEqual([]);
    expect(await ledgerOf(caseId)).toHaveLength(0);

    const events = await eventsOf(caseId);
    const types = events.map((event) => event.type);
    expect(types.indexOf('incident.closed')).toBeGreaterThan(types.indexOf('incident.dismissed'));
    expect(types).not.toContain('incident.resolved');
    expect(events.find((event) => event.type === 'incident.dismissed')).toMatchObject({ actor: { role: 'supervisor' }, data: { reason, usersTold: true, cancelledClocks: ['repair'] } });
    expect(events.find((event) => event.type === 'incident.fanout-delivered' && event.data.kind === 'correction')!.data).toMatchObject({ customers: inScope, remediesPaid: 0 });

    const inbox = await stack.call('GET', '/v1/customers/dis-000003/notifications', { key: keys.agent });
    const correction = inbox.body.notifications.find((entry: { template: string }) => entry.template === 'incident.correction');
    expect(correction.body).toContain('Our monitoring raised a false alarm.');
    expect(correction.body).toContain(caseId);
  });

  it('O2/P5: dismissed before any notice: closed with nothing sent to anyone and no ledger rows; O9 counts no downtime', async () => {
    const caseId = await openIncident('dismiss-before-notice');
    const dismissed = await act(caseId, 'dismiss', { reason: 'Maintenance window, announced separately' }, keys.supervisor);
    expect(dismissed.status).toBe(200);
    expect(Object.fromEntries(dismissed.body.deadlines.map((deadline: { name: string; state: string }) => [deadline.name, deadline.state]))).toEqual({ notice: 'cancelled', repair: 'cancelled' });
    expect(await finished(caseId)).toMatchObject({ status: 'closed', remediesPaid: 0 });
    expect(await rowsOf(caseId, '%')).toEqual([]);
    expect(await ledgerOf(caseId)).toHaveLength(0);
    const types = (await eventsOf(caseId)).map((event) => event.type);
    expect(types.slice(-3)).toEqual(['incident.dismissed', 'sla.cancelled', 'incident.closed']);

    const month = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(new Date()).slice(0, 7);
    const availability = await stack.call('GET', `/v1/availability?service=broadband&month=${month}&region=dismiss-north`, { key: keys.auditor });
    expect(availability.status).toBe(200);
    expect(availability.body.incidents).not.toContain(caseId);
  });

  it('O2: a dismissed alert incident releases its group: the next outage of the group opens a new incident', async () => {
    const groupKey = '{}/{service="broadband"}:{alertname="BroadbandDown", region="dismiss-north"}';
    const post = (fingerprint: string, startsAt: string) =>
      stack.call('POST', '/v1/alerts/alertmanager', {
        key: keys.alertSource,
        body: alertmanagerWebhook(groupKey, [{ fingerprint, status: 'firing', startsAt }], { region: 'dismiss-north', severity: 'warning' }),
      });
    const first = await post('flap01', minutesAgo(5));
    expect(first.body.incidents[0]).toMatchObject({ created: true });
    const caseId: string = first.body.incidents[0].caseId;
    await eventually(
      () => stack.call('GET', `/v1/cases/${caseId}`, { key: keys.auditor }),
      (answer) => answer.status === 200 && answer.body.details.affectedCount === inScope,
    );
    expect((await act(caseId, 'dismiss', { reason: 'A flapping probe' }, keys.supervisor)).status).toBe(200);
    await finished(caseId);
    const group = await stack.db.sql`select closed_at from incident_alert_groups where case_id = ${caseId}`;
    expect(group[0]!.closed_at).not.toBeNull();

    const next = await post('flap02', minutesAgo(1));
    expect(next.status).toBe(202);
    expect(next.body.incidents).toHaveLength(1);
    expect(next.body.incidents[0]).toMatchObject({ created: true });
    expect(next.body.incidents[0].caseId).not.toBe(caseId);
  });
});
