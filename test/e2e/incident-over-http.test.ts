import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerWebhook, eventually, minutesAgo, seedRegion, type TestAlert } from '../support/incidents';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';

// Incidents over HTTP against a real Temporal dev server, worker and Postgres (O1–O9).
let stack: RunningStack;
const customers = 6;

beforeAll(async () => {
  stack = await startStack({ postgres: 55442, temporal: 17240, temporalUi: 18240 }, 'pledge-incident-e2e');
  await seedRegion(stack.db.sql, 'north', 'e2e-north', customers);
});

afterAll(async () => {
  await stack?.stop();
});

const webhook = (groupKey: string, alerts: TestAlert[]) => alertmanagerWebhook(groupKey, alerts, { region: 'e2e-north', severity: 'critical' });

const post = (body: unknown) => stack.call('POST', '/v1/alerts/alertmanager', { key: keys.alertSource, body });
const readCase = (caseId: string) => stack.call('GET', `/v1/cases/${caseId}`, { key: keys.auditor });

describe('incidents over HTTP', () => {
  const groupKey = '{}/{service="broadband"}:{alertname="BroadbandDown", region="e2e-north"}';
  const startsAt = minutesAgo(40);
  let caseId: string;

  it('O1, O2, O3: the same group posted 20 times concurrently opens exactly one incident', async () => {
    const payload = webhook(groupKey, [
      { fingerprint: 'aaa111', status: 'firing', startsAt },
      { fingerprint: 'bbb222', status: 'firing', startsAt, labels: { instance: 'olt-2' } },
    ]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(payload)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(202));
    const refs = answers.flatMap((answer) => answer.body.incidents as { caseId: string; workflowId: string; created: boolean }[]);
    expect(new Set(refs.map((ref) => ref.caseId)).size).toBe(1);
    expect(refs.filter((ref) => ref.created)).toHaveLength(1);
    caseId = refs[0]!.caseId;
    expect(caseId).toMatch(/^INC-\d{4}-\d{6}$/);
    expect(refs[0]!.workflowId).toBe(`incident-${caseId}`);

    const state = await eventually(
      () => readCase(caseId),
      (answer) => answer.status === 200 && answer.body.details.affectedCount === customers,
    );
    expect(state.body).toMatchObject({ type: 'incident', status: 'open', priority: 'SEV1' });
    expect(state.body.details).toMatchObject({ source: 'alertmanager', startedAt: new Date(startsAt).toISOString(), scope: { services: ['broadband'], regions: ['e2e-north'] } });
    const [groups] = await stack.db.sql`select count(*)::int as n from incident_alert_groups`;
    expect(groups!.n).toBe(1);
    // The live state can be ahead of the record by the step being written.
    const events = await eventually(
      () => stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor }),
      (answer) => answer.body.events.some((event: { type: string }) => event.type === 'incident.scope-set'),
    );
    const scopeSet = events.body.events.find((event: { type: string }) => event.type === 'incident.scope-set');
    expect(scopeSet.data).toMatchObject({ affectedCount: customers, query: expect.stringContaining("region in ('e2e-north')") });
  });

  it('O7, O8, P5: firing then resolved gives one recovery notice and one remedy per user; resolved again pays nothing more', async () => {
    const endsAt = minutesAgo(1);
    const resolved = webhook(groupKey, [
      { fingerprint: 'aaa111', status: 'resolved', startsAt, endsAt },
      { fingerprint: 'bbb222', status: 'resolved', startsAt, endsAt },
    ]);
    const first = await post(resolved);
    expect(first.body.incidents).toEqual([{ caseId, workflowId: `incident-${caseId}`, created: false }]);
    const state = await eventually(
      () => readCase(caseId),
      (answer) => answer.body.details.recovery.completedAt !== null,
    );
    expect(state.body.status).toBe('resolved');
    expect(state.body.details).toMatchObject({ outageMinutes: 39, recovery: { customers, remediesPaid: customers } });

    const again = await post(resolved);
    expect(again.status).toBe(202);
    expect(again.body.incidents[0]).toMatchObject({ caseId, created: false });
    // Nothing new in the re-send: the API signals no delta, so the incident records nothing more (O2).
    const trail = await stack.call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor });
    expect(trail.body.events.filter((event: { type: string }) => event.type.startsWith('incident.alerts-')).map((event: { type: string }) => event.type)).toEqual([
      'incident.alerts-received',
      'incident.alerts-received',
    ]);
    const ledger = await stack.db.sql`select customer_id, amount_cents, policy_version from ledger where case_id = ${caseId}`;
    expect(ledger).toHaveLength(customers);
    const recoveries = await stack.db.sql`select customer_id, channel from notifications where case_id = ${caseId} and template like 'incident.recovered%'`;
    expect(recoveries).toHaveLength(customers + customers / 2);
    const inbox = await stack.call('GET', '/v1/customers/north-000003/notifications', { key: keys.agent });
    expect(inbox.body.notifications.find((n: { template: string }) => n.template === 'incident.recovered-with-remedy').body).toMatch(/compensation\/2026\.1/);
  });

  it('O2: the next outage of the same group after resolution opens a new incident', async () => {
    const answer = await post(webhook(groupKey, [{ fingerprint: 'aaa111', status: 'firing', startsAt: minutesAgo(2) }]));
    expect(answer.body.incidents).toHaveLength(1);
    expect(answer.body.incidents[0]).toMatchObject({ created: true });
    expect(answer.body.incidents[0].caseId).not.toBe(caseId);
  });

  it('O1, O3, O4, O6: ops open an incident by hand and take it through the case protocol', async () => {
    const opened = await stack.call('POST', '/v1/incidents', {
      key: keys.agent,
      headers: { 'idempotency-key': 'manual-1', 'x-actor-name': 'ops-lin' },
      body: { title: 'IPTV outage', severity: 'SEV3', startedAt: minutesAgo(10), scope: { services: ['iptv'], regions: ['e2e-north'] } },
    });
    expect(opened.status).toBe(201);
    const id: string = opened.body.caseId;
    expect(id).toMatch(/^INC-/);
    expect(opened.body.deadlines.map((deadline: { name: string }) => deadline.name).sort()).toEqual(['notice', 'repair']);
    const act = (action: string, input: Record<string, unknown> = {}) => stack.call('POST', `/v1/cases/${id}/actions/${action}`, { key: keys.agent, body: { input } });
    expect((await act('classify', { severity: 'SEV2', reason: 'more users than thought' })).body.priority).toBe('SEV2');
    expect((await act('set-scope', { services: ['broadband'], regions: ['e2e-north'] })).body.details.affectedCount).toBe(customers);
    expect((await act('edit-notice', { message: 'Engineers are on site.' })).body.details.notice.message).toBe('Engineers are on site.');
    expect((await act('publish-notice')).body.details.notice).toMatchObject({ auto: false, late: false });
    const twice = await act('publish-notice');
    expect(twice.status).toBe(409);
    expect((await act('post-update', { message: 'Half the OLTs are back', notifyUsers: true })).status).toBe(200);
    const badEnd = await act('resolve', { summary: 'fixed', endedAt: minutesAgo(60) });
    expect(badEnd.status).toBe(422);
    expect(badEnd.body.error.fields[0].field).toBe('input.endedAt');
    expect((await act('resolve', { summary: 'All OLTs back' })).body.status).toBe('resolved');
    expect((await act('submit-review', { summary: 'Power failure at the POP', rootCause: 'UPS battery', followUps: ['Replace UPS'] })).body.status).toBe('closed');
    const events = await stack.call('GET', `/v1/cases/${id}/events`, { key: keys.auditor });
    expect(events.body.events.map((event: { type: string }) => event.type)).toEqual(
      expect.arrayContaining([
        'incident.opened',
        'incident.classified',
        'incident.scope-set',
        'incident.notice-edited',
        'incident.notice-published',
        'incident.update-posted',
        'incident.resolved',
        'incident.review-submitted',
        'incident.closed',
      ]),
    );
    const updates = await eventually(
      () => stack.db.sql`select count(*)::int as n from notifications where case_id = ${id} and template = 'incident.update' and channel = 'inbox'`,
      (rows) => rows[0]!.n === customers,
    );
    expect(updates[0]!.n).toBe(customers);

    // O4 measured at delivery: everyone the notice was queued for was told (inbox, or e-mail accepted by SMTP) before the deadline.
    const delivery = await eventually(
      () => stack.call('GET', `/v1/incidents/${id}/delivery`, { key: keys.auditor }),
      (answer) => answer.status === 200 && answer.body.told === customers,
    );
    expect(delivery.body).toMatchObject({ recipients: customers, toldByDeadline: customers, shareToldByDeadline: 1, notYetTold: 0, unreachable: 0 });
    expect(delivery.body.byChannel).toEqual([
      { channel: 'email', status: 'delivered', count: customers / 2 },
      { channel: 'inbox', status: 'delivered', count: customers },
    ]);
    expect(new Date(delivery.body.deadline).getTime()).toBe(new Date(opened.body.details.startedAt).getTime() + 2 * 3600_000);
    const mailed = stack.mails.filter((mail) => mail.headers.get('message-id')?.includes(`incident-${id}`));
    expect(mailed.length).toBeGreaterThanOrEqual(customers / 2);
    expect((await stack.call('GET', `/v1/incidents/${caseId}-nope/delivery`, { key: keys.auditor })).status).toBe(404);
  });

  it('O9: availability per service per month comes from incidents', async () => {
    const month = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(new Date()).slice(0, 7);
    const answer = await stack.call('GET', `/v1/availability?service=broadband&month=${month}&region=e2e-north`, { key: keys.auditor });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ service: 'broadband', month, targetPercent: 99.9 });
    expect(answer.body.incidents).toContain(caseId);
    expect(answer.body.downtimeMinutes).toBeGreaterThanOrEqual(39);
    expect(answer.body.availabilityPercent).toBeLessThan(100);
    expect((await stack.call('GET', '/v1/availability?service=broadband&month=2026-13', { key: keys.auditor })).body.error.fields[0].field).toBe('query.month');
  });

  it('O1, O2: refuses malformed payloads whole, naming the problem, and only to the alert-source role', async () => {
    const [before] = await stack.db.sql`select count(*)::int as n from incident_alerts`;
    const good = webhook('{}:{alertname="Other"}', [{ fingerprint: 'ccc333', status: 'firing', startsAt: minutesAgo(5) }]);
    const fieldsOf = async (body: unknown) => (await post(body)).body.error.fields.map((field: { field: string }) => field.field);
    expect(await fieldsOf({ ...good, version: '3' })).toEqual(['version']);
    expect(await fieldsOf({ ...good, alerts: [{ ...good.alerts[0], fingerprint: undefined }] })).toEqual(['alerts.0.fingerprint']);
    expect(await fieldsOf({ ...good, alerts: [good.alerts[0], { ...good.alerts[0], fingerprint: 'ddd', status: 'resolved' }] })).toEqual(['alerts.1.endsAt']);
    expect(await fieldsOf({ ...good, alerts: [{ ...good.alerts[0], startsAt: 'yesterday' }] })).toEqual(['alerts.0.startsAt']);
    expect(await fieldsOf({ ...good, alerts: [] })).toEqual(['alerts']);
    expect((await stack.call('POST', '/v1/alerts/alertmanager', { key: keys.alertSource, body: '{"version":' })).status).toBe(400);
    expect((await stack.call('POST', '/v1/alerts/alertmanager', { key: keys.agent, body: good })).status).toBe(403);
    expect((await stack.call('POST', '/v1/alerts/alertmanager', { body: good })).status).toBe(401);
    const [after] = await stack.db.sql`select count(*)::int as n from incident_alerts`;
    expect(after!.n).toBe(before!.n);
  });
});
