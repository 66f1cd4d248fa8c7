import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';

/** C13: every response states the problem as understood, the steps and the expected completion. */
const response = { problem: 'Evening slowdowns', steps: 'Measure the line, then fix the uplink', expectedCompletionAt: '2030-01-01T10:00:00+08:00' };

// The whole stack as ops staff meet it: real Temporal dev server, real worker, real Postgres, HTTP.
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ postgres: 55434, temporal: 17233, temporalUi: 18233 }, 'pledge-e2e');
});

afterAll(() => stack?.stop());

const call: RunningStack['call'] = (...args) => stack.call(...args);

const complaintBody = { customerId: 'cust-e2e', channel: 'phone', category: 'billing', summary: 'Charged twice for November' };

describe('a complaint over HTTP against the real stack', () => {
  it('C1, C8, D1: opens, reads, acts, lists, records and tells the customer', async () => {
    const customer = await call('PUT', '/v1/customers/cust-e2e', {
      key: keys.agent,
      body: {
        name: 'Li Wei',
        email: 'li.wei@example.com',
        channels: ['email', 'inbox'],
        consents: { email: { granted: true, source: 'e2e signup' } },
        locale: 'en',
        plan: 'home-500m',
        services: ['broadband'],
        region: 'shanghai',
      },
    });
    expect(customer.status).toBe(201);

    const opened = await call('POST', '/v1/complaints', { key: keys.agent, body: complaintBody, headers: { 'idempotency-key': 'e2e-1', 'x-actor-name': 'alice' } });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ caseId: expect.stringMatching(/^CMP-\d{4}-\d{6}$/), status: 'received' });
    expect(opened.body.workflowId).toBe(`complaint-${opened.body.caseId}`);
    const firstResponse = opened.body.deadlines.find((deadline: { name: string }) => deadline.name === 'firstResponse');
    expect(firstResponse.state).toBe('pending');

    const again = await call('POST', '/v1/complaints', { key: keys.agent, body: complaintBody, headers: { 'idempotency-key': 'e2e-1' } });
    expect(again.status).toBe(201);
    expect(again.body.caseId).toBe(opened.body.caseId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    const caseId: string = opened.body.caseId;
    const read = await call('GET', `/v1/cases/${caseId}`, { key: keys.auditor });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ caseId, status: 'received', priority: 'P3', nextStep: expect.any(String), allowedActions: expect.arrayContaining(['acknowledge']) });

    const refused = await call('POST', `/v1/cases/${caseId}/actions/close`, { key: keys.agent, body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/cannot close a case that is received/);

    const acknowledged = await call('POST', `/v1/cases/${caseId}/actions/acknowledge`, {
      key: keys.agent,
      body: { input: { message: 'We are checking your bill', ...response } },
      headers: { 'x-actor-name': 'alice' },
    });
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.body.status).toBe('acknowledged');
    expect(acknowledged.body.deadlines[0].state).toBe('met');

    const listed = await eventually(
      () => call('GET', `/v1/cases?type=complaint&customerId=cust-e2e&status=acknowledged`, { key: keys.supervisor }),
      (result) => result.body.cases.length === 1,
    );
    expect(listed.body.cases[0]).toMatchObject({ caseId, status: 'acknowledged', slaBreached: false });

    const events = await call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor });
    expect(events.body.events.map((event: { type: string }) => event.type)).toEqual(['complaint.received', 'sla.started', 'sla.started', 'sla.started', 'complaint.acknowledged', 'sla.met']);
    expect(events.body.events.slice(1, 4).map((event: { data: { clock: string } }) => event.data.clock)).toEqual(['firstResponse', 'preliminary', 'result']);
    expect(events.body.events[4].actor).toEqual({ id: expect.stringContaining('alice'), role: 'agent' });

    const notifications = await eventually(
      () => call('GET', '/v1/customers/cust-e2e/notifications', { key: keys.agent }),
      (result) => result.body.notifications.length === 4 && result.body.notifications.every((n: { status: string }) => n.status === 'delivered'),
    );
    const inbox = notifications.body.notifications.filter((n: { channel: string }) => n.channel === 'inbox');
    expect(inbox.map((n: { template: string }) => n.template).sort()).toEqual(['complaint.acknowledged', 'complaint.received']);
    expect(inbox.every((n: { locale: string; status: string }) => n.locale === 'en' && n.status === 'delivered')).toBe(true);
    // Told means told: both e-mails reached the (real) SMTP server, once each.
    const mails = stack.mails.filter((mail) => mail.envelopeTo.includes('li.wei@example.com'));
    expect(mails.map((mail) => mail.headers.get('subject')).sort()).toEqual(
      notifications.body.notifications
        .filter((n: { channel: string }) => n.channel === 'email')
        .map((n: { subject: string }) => n.subject)
        .sort(),
    );

    const visible = await eventually(
      async () => {
        const found: string[] = [];
        for await (const workflow of stack.temporal.workflow.list({ query: `CaseType = 'complaint' AND CaseStatus = 'acknowledged'` })) found.push(workflow.workflowId);
        return found;
      },
      (found) => found.includes(`complaint-${caseId}`),
    );
    expect(visible).toContain(`complaint-${caseId}`);

    // What someone watching the Temporal UI sees: the list's summary line and the case's current details.
    const handle = stack.temporal.workflow.getHandle(`complaint-${caseId}`);
    expect(await (await handle.describe()).staticSummary()).toBe(`${caseId} · complaint · Charged twice for November`);
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain(`**${caseId}** · complaint · **acknowledged** · P3`);
  });

  it('C2-C12: one full life of a complaint over HTTP, and a closed case refuses every action', async () => {
    const lifeBody = { ...complaintBody, summary: 'Slow broadband every evening', category: 'network-quality', major: true };
    const opened = await call('POST', '/v1/complaints', { key: keys.agent, body: lifeBody, headers: { 'idempotency-key': 'e2e-life' } });
    expect(opened.status).toBe(201);
    expect(opened.body.deadlines.map((deadline: { name: string }) => deadline.name)).toEqual(['firstResponse', 'fullResponse', 'preliminary', 'result']);
    const caseId: string = opened.body.caseId;
    const act = async (action: string, input: Record<string, unknown>, key = keys.agent) => {
      const response = await call('POST', `/v1/cases/${caseId}/actions/${action}`, { key, body: { input } });
      expect(response.status, `${action}: ${JSON.stringify(response.body)}`).toBe(200);
      return response.body;
    };
    await act('acknowledge', { message: 'We are measuring your line', ...response });
    expect((await act('request-info', { question: 'When exactly does it slow down?' })).status).toBe('awaiting-customer');
    expect((await act('customer-reply', { message: 'From 20:00 to 23:00' })).status).toBe('acknowledged');
    await act('assign', { assignee: 'network-team' });
    await act('report-preliminary', { finding: 'Congestion on the district uplink', ...response });
    await act('resolve', { resolution: 'The uplink was doubled on 24 Nov', ...response });
    await act('rate', { rating: 3, comment: 'Took a while' });
    await act('dispute', { reason: 'Still slow at 22:00' });
    const forbidden = await call('POST', `/v1/cases/${caseId}/actions/arbitrate`, { key: keys.agent, body: { input: { decision: 'uphold', reasons: 'x' } } });
    expect(forbidden.status).toBe(403);
    await act('arbitrate', { decision: 'uphold', reasons: 'Measurements meet the contracted speed' }, keys.supervisor);
    await act('refer-third-party', { body: 'Internet Society of China', reference: 'ISC-2026-0099' });
    const closed = await act('close', { reason: 'Referred' });
    expect(closed.status).toBe('closed');

    const afterClose = await eventually(
      () => call('POST', `/v1/cases/${caseId}/actions/note`, { key: keys.agent, body: { input: { text: 'late note' } } }),
      (response) => response.status === 409,
    );
    expect(afterClose.body.error.code).toBe('case_closed');
    const read = await call('GET', `/v1/cases/${caseId}`, { key: keys.auditor });
    expect(read.body).toMatchObject({ status: 'closed', nextStep: null, details: { rating: { rating: 3 }, referral: { reference: 'ISC-2026-0099' } } });
    const events = await call('GET', `/v1/cases/${caseId}/events`, { key: keys.auditor });
    expect(events.body.events.map((event: { type: string }) => event.type)).toEqual(
      expect.arrayContaining(['sla.paused', 'sla.resumed', 'complaint.assigned', 'complaint.arbitrated', 'complaint.referred', 'complaint.closed']),
    );

    // D2: once retention removes the closed workflow from Temporal, the case is still readable.
    await stack.temporal.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: `complaint-${caseId}` } });
    const archived = await eventually(
      () => call('GET', `/v1/cases/${caseId}`, { key: keys.auditor }),
      (response) => response.headers.get('x-pledge-state-source') === 'read-model',
    );
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ caseId, status: 'closed', details: { referral: { reference: 'ISC-2026-0099' } } });

    // A late retry of the opening request returns the same case and never starts it again.
    const retried = await call('POST', '/v1/complaints', { key: keys.agent, body: lifeBody, headers: { 'idempotency-key': 'e2e-life' } });
    expect(retried.status).toBe(201);
    expect(retried.body).toMatchObject({ caseId, status: 'closed' });
    const exists = () =>
      stack.temporal.workflow
        .getHandle(`complaint-${caseId}`)
        .describe()
        .then(
          () => true,
          () => false,
        );
    expect(await eventually(exists, (present) => !present)).toBe(false);
  });

  it('C9: a breached complaint is escalated and found with SlaBreached = true, in the list API, by supervisors and in the metrics', async () => {
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    const opened = await call('POST', '/v1/complaints', {
      key: keys.agent,
      body: { ...complaintBody, category: 'account-security', summary: 'Password changed by someone else', receivedAt: twoHoursAgo },
    });
    expect(opened.status).toBe(201);
    const caseId: string = opened.body.caseId;
    const breached = await eventually(
      () => call('GET', `/v1/cases/${caseId}`, { key: keys.agent }),
      (response) => response.body.slaBreached === true,
    );
    expect(breached.body.priority).toBe('P1');
    expect(breached.body.deadlines.find((deadline: { name: string }) => deadline.name === 'firstResponse').state).toBe('breached');
    const visible = await eventually(
      async () => {
        const found: string[] = [];
        for await (const workflow of stack.temporal.workflow.list({ query: `CaseType = 'complaint' AND SlaBreached = true` })) found.push(workflow.workflowId);
        return found;
      },
      (found) => found.includes(`complaint-${caseId}`),
    );
    expect(visible).toContain(`complaint-${caseId}`);
    const listed = await eventually(
      () => call('GET', '/v1/cases?breached=true', { key: keys.supervisor }),
      (response) => response.body.cases.some((c: { caseId: string }) => c.caseId === caseId),
    );
    expect(listed.body.cases.find((c: { caseId: string }) => c.caseId === caseId).slaBreached).toBe(true);
    const staff = await call('GET', '/v1/staff/notifications', { key: keys.supervisor });
    expect(staff.body.notifications.some((n: { caseId: string; kind: string }) => n.caseId === caseId && n.kind === 'sla.breached')).toBe(true);

    // Monitoring scrapes the same facts: Prometheus gauges from the read model.
    const scrape = await fetch(`${stack.baseUrl}/metrics`, { headers: { authorization: `Bearer ${keys.supervisor}` } });
    expect(scrape.headers.get('content-type')).toMatch(/text\/plain/);
    const exposition = await scrape.text();
    const breachedGauge = /^pledge_cases_sla_breached_open\{type="complaint"\} (\d+)$/m.exec(exposition);
    expect(Number(breachedGauge?.[1])).toBeGreaterThanOrEqual(1);
    // O4: the outbox as monitoring sees it: delivery latency per channel as a histogram.
    expect(exposition).toMatch(/^# TYPE pledge_notification_delivery_seconds histogram$/m);
    const inboxCount = /^pledge_notification_delivery_seconds_count\{channel="inbox"\} (\d+)$/m.exec(exposition);
    const inboxInf = /^pledge_notification_delivery_seconds_bucket\{channel="inbox",le="\+Inf"\} (\d+)$/m.exec(exposition);
    expect(Number(inboxCount?.[1])).toBeGreaterThanOrEqual(1);
    expect(inboxInf?.[1]).toBe(inboxCount?.[1]);
    expect(exposition).toMatch(/^# TYPE pledge_outbox_queue_depth gauge$/m);
    expect((await fetch(`${stack.baseUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${stack.baseUrl}/metrics`, { headers: { authorization: `Bearer ${keys.agent}` } })).status).toBe(403);
  });

  it('serves the working calendar and lets only supervisors load a year', async () => {
    const calendar = await call('GET', '/v1/calendar', { key: keys.auditor });
    expect(calendar.body.years.find((year: { year: number }) => year.year === 2026)).toMatchObject({ source: expect.stringMatching(/^chinese-days@/) });
    expect((await call('PUT', '/v1/calendar/years/2031', { key: keys.agent, body: { holidays: [], workdays: [] } })).status).toBe(403);
    const wrongYear = await call('PUT', '/v1/calendar/years/2031', { key: keys.supervisor, body: { holidays: ['2031-01-01', '2030-01-01'], workdays: ['2031-13-40'] } });
    expect(wrongYear.status).toBe(422);
    expect(wrongYear.body.error.fields.map((field: { field: string }) => field.field)).toEqual(['holidays.1', 'workdays.0']);
    const loaded = await call('PUT', '/v1/calendar/years/2031', { key: keys.supervisor, body: { holidays: ['2031-01-01'], workdays: [] } });
    expect(loaded.status).toBe(200);
    expect(loaded.body.version).toMatch(/operator 2031:/);
  });

  it('answers bad requests with the status and the field at fault', async () => {
    expect((await call('GET', '/v1/cases')).status).toBe(401);
    expect((await call('GET', '/v1/cases', { key: 'not-a-key' })).status).toBe(401);

    const invalid = await call('POST', '/v1/complaints', { key: keys.agent, body: { ...complaintBody, channel: 'fax', summary: '' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.fields.map((field: { field: string }) => field.field).sort()).toEqual(['channel', 'summary']);

    const unknownCustomer = await call('POST', '/v1/complaints', { key: keys.agent, body: { ...complaintBody, customerId: 'nobody' } });
    expect(unknownCustomer.status).toBe(422);
    expect(unknownCustomer.body.error.fields[0].field).toBe('customerId');

    const malformed = await fetch(`${stack.baseUrl}/v1/complaints`, { method: 'POST', headers: { authorization: `Bearer ${keys.agent}`, 'content-type': 'application/json' }, body: '{' });
    expect(malformed.status).toBe(400);

    for (const receivedAt of ['0029-08-01T09:14:18Z', new Date(Date.now() + 3600_000).toISOString()]) {
      const outOfRange = await call('POST', '/v1/complaints', { key: keys.agent, body: { ...complaintBody, receivedAt } });
      expect(outOfRange.status).toBe(422);
      expect(outOfRange.body.error.fields[0]).toEqual({ field: 'receivedAt', message: 'must not lie in the future nor more than 365 days ago' });
    }

    const nul = await call('POST', '/v1/complaints', { key: keys.agent, body: { ...complaintBody, summary: 'bad\u0000byte' } });
    expect(nul.status).toBe(422);
    expect(nul.body.error.fields[0].field).toBe('body');
    expect((await call('GET', '/v1/cases?customerId=%00', { key: keys.agent })).status).toBe(422);

    const reused = await call('POST', '/v1/complaints', { key: keys.agent, body: { ...complaintBody, summary: 'Another thing' }, headers: { 'idempotency-key': 'e2e-1' } });
    expect(reused.status).toBe(422);

    expect((await call('POST', '/v1/complaints', { key: keys.auditor, body: complaintBody })).status).toBe(403);
    expect((await call('GET', '/v1/cases/CMP-2026-999999', { key: keys.agent })).status).toBe(404);
    expect((await call('GET', '/v1/cases/nonsense', { key: keys.agent })).status).toBe(404);

    const badInput = await call('POST', '/v1/cases/CMP-2026-999999/actions/acknowledge', { key: keys.agent, body: { input: {} } });
    expect(badInput.status).toBe(422);
    expect(badInput.body.error.fields[0].field).toBe('input.message');
  });

  it('serves its OpenAPI document, docs and readiness', async () => {
    const spec = await call('GET', '/openapi.json');
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/v1/complaints', '/v1/cases/{caseId}', '/v1/cases/{caseId}/actions/acknowledge', '/v1/customers/{id}/notifications']));
    expect((await fetch(`${stack.baseUrl}/docs`)).status).toBe(200);
    const ready = await call('GET', '/readyz');
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
  });
});
