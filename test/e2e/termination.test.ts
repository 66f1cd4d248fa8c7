import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { days, hours } from '../support/durations';
import { eventually } from '../support/eventually';
import { putCustomer } from '../support/customers';
import { devKeys as keys, startStack, type RunningStack } from '../support/stack';

// Terminations over HTTP against the real stack (Temporal dev server, worker, Postgres, export
// files under a temporary data dir): intake and its T1 refusal, the notice and its tracking code,
// an export downloaded with the code and with a staff key, withdrawal, a user's own termination
// that takes effect at once and stops new cases, and the overdue list (T1–T7).
let stack: RunningStack;
let dataDir: string;

const trackingLink = /Follow your case: http:\/\/127\.0\.0\.1:3000\/track\/([0-9a-z]{20})$/;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pledge-terminations-e2e-'));
  process.env.PLEDGE_DATA_DIR = dataDir;
  stack = await startStack({ postgres: 55470, temporal: 17270, temporalUi: 18270 }, 'pledge-terminations-e2e');
  for (const id of ['trm-e2e-1', 'trm-e2e-2', 'trm-e2e-3']) await putCustomer(stack.call, id);
});

afterAll(async () => {
  await stack?.stop();
  delete process.env.PLEDGE_DATA_DIR;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const open = (body: Record<string, unknown>, idempotencyKey?: string) =>
  stack.call('POST', '/v1/terminations', { key: keys.agent, body, headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {} });

/** The tracking code in the customer's messages about the case. */
async function codeOf(customerId: string, caseId: string): Promise<string> {
  const told = await eventually(
    () => stack.call('GET', `/v1/customers/${customerId}/notifications`, { key: keys.agent }),
    (result) => result.body.notifications.some((n: { caseId: string }) => n.caseId === caseId),
  );
  const message = told.body.notifications.find((n: { caseId: string }) => n.caseId === caseId);
  return trackingLink.exec(message.body)![1]!;
}

/** A raw download, to check the bytes against their SHA-256. */
async function download(path: string, key?: string): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(stack.baseUrl + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('terminations over HTTP', () => {
  it('T1: a provider termination less than 30 days out is a 422 on effectiveAt naming the earliest allowed instant', async () => {
    const early = await open({ customerId: 'trm-e2e-1', initiatedBy: 'provider', reason: 'Network retired', effectiveAt: new Date(Date.now() + days(29) + hours(23)).toISOString() });
    expect(early.status).toBe(422);
    expect(early.body.error.fields).toEqual([{ field: 'effectiveAt', message: early.body.error.message }]);
    const earliest = Date.parse(/the earliest allowed is (\S+)$/.exec(early.body.error.message)![1]!);
    expect(earliest).toBeGreaterThan(Date.now() + days(30) - 120_000);
    const missing = await open({ customerId: 'trm-e2e-1', initiatedBy: 'provider', reason: 'Network retired' });
    expect(missing.status).toBe(422);
    expect(missing.body.error.fields.map((field: { field: string }) => field.field)).toEqual(['effectiveAt']);
  });

  it('T1, T2, T3, C8, T7: opened over HTTP, the notice carries a tracking code; the user requests an export and downloads it; staff download it; withdrawn', async () => {
    const body = { customerId: 'trm-e2e-1', initiatedBy: 'provider', reason: 'Network retired', effectiveAt: new Date(Date.now() + days(31)).toISOString(), contacts: { phone: '10000' } };
    const opened = await open(body, 'trm-e2e-once');
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ type: 'termination', status: 'scheduled', customerId: 'trm-e2e-1', allowedActions: ['request-export', 'withdraw', 'note', 'legal-hold', 'release-hold'] });
    const caseId: string = opened.body.caseId;
    expect(caseId).toMatch(/^TRM-\d{4}-\d{6}$/);
    const again = await open(body, 'trm-e2e-once');
    expect([again.status, again.body.caseId, again.headers.get('idempotent-replayed')]).toEqual([201, caseId, 'true']);
    const second = await open(body, 'trm-e2e-other');
    expect([second.status, second.body.error.code, second.body.error.fields[0].field]).toEqual([409, 'termination_exists', 'customerId']);

    const code = await codeOf('trm-e2e-1', caseId);
    const told = await stack.call('GET', '/v1/customers/trm-e2e-1/notifications?channel=inbox', { key: keys.agent });
    const notice = told.body.notifications.filter((n: { caseId: string }) => n.caseId === caseId);
    expect(notice[0]).toMatchObject({ template: 'termination.notice' });
    expect(notice[0]!.body).toContain('Reason: Network retired');
    expect((await stack.call('GET', `/v1/track/${code}`)).body).toMatchObject({ type: 'termination', status: 'scheduled', allowedActions: ['request-export'] });
    expect((await download(`/v1/track/${code}/export`)).status).toBe(404);

    const requested = await stack.call('POST', `/v1/track/${code}/actions/request-export`, { body: { input: { note: 'Keep a copy' } } });
    expect(requested.status).toBe(200);
    const byCode = await download(`/v1/track/${code}/export`);
    expect(byCode.status).toBe(200);
    expect(byCode.headers.get('content-type')).toContain('application/json');
    expect(byCode.headers.get('x-pledge-export-sha256')).toBe(createHash('sha256').update(byCode.text).digest('hex'));
    const document = JSON.parse(byCode.text);
    expect(document).toMatchObject({ format: 'pledge-customer-export/1', caseId, n: 1, purpose: 'requested', customer: { id: 'trm-e2e-1', email: 'trm-e2e-1@example.com' } });
    expect(document.notifications.map((n: { template: string }) => n.template)).toContain('termination.notice');
    expect(byCode.text).not.toContain('trm-e2e-2');
    expect((await download(`/track/${code}/export`)).status).toBe(200);

    const byStaff = await download(`/v1/cases/${caseId}/export`, keys.auditor);
    expect([byStaff.status, byStaff.text]).toEqual([200, byCode.text]);
    expect((await download(`/v1/cases/${caseId}/export`)).status).toBe(401);
    expect((await download(`/v1/cases/${caseId}/export?n=5`, keys.agent)).status).toBe(404);
    const downloads = await stack.db.sql`select actor_role from customer_export_downloads d join customer_exports e on e.id = d.export_id where e.case_id = ${caseId} order by d.id`;
    expect(downloads.map((row) => row.actor_role)).toEqual(['customer', 'customer', 'auditor']);

    // A complaint's tracking code opens no export.
    const complaint = await stack.call('POST', '/v1/complaints', { key: keys.agent, body: { customerId: 'trm-e2e-2', channel: 'web', category: 'billing', summary: 'Charged twice' } });
    expect(complaint.status).toBe(201);
    expect((await download(`/v1/track/${await codeOf('trm-e2e-2', complaint.body.caseId)}/export`)).status).toBe(404);

    expect((await stack.call('POST', `/v1/track/${code}/actions/withdraw`, { body: { input: { reason: 'no' } } })).status).toBe(403);
    const withdrawn = await stack.call('POST', `/v1/cases/${caseId}/actions/withdraw`, { key: keys.supervisor, body: { input: { reason: 'The network stays after all' } } });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toMatchObject({ status: 'withdrawn', allowedActions: [] });
    await eventually(
      () => stack.db.sql`select 1 from notifications where case_id = ${caseId} and template = 'termination.withdrawn'`,
      (rows) => rows.length > 0,
    );
    expect((await stack.call('GET', '/v1/customers/trm-e2e-1', { key: keys.agent })).body).toMatchObject({ services: ['broadband'] });
  });

  it('T4, T5: a user’s own termination effective now: final backup, deactivation, services released; no new complaints or claims (409 naming customerId)', async () => {
    const opened = await open({ customerId: 'trm-e2e-2', initiatedBy: 'customer', reason: 'Moving abroad' });
    expect(opened.status).toBe(201);
    const caseId: string = opened.body.caseId;
    const terminated = await eventually(
      () => stack.call('GET', `/v1/cases/${caseId}`, { key: keys.auditor }),
      (answer) => answer.body.status === 'terminated',
    );
    expect(terminated.body.details).toMatchObject({ initiatedBy: 'customer', exports: [{ n: 1, purpose: 'final' }], deactivation: { releasedServices: ['broadband'] } });
    expect((await stack.call('GET', '/v1/customers/trm-e2e-2', { key: keys.agent })).body).toMatchObject({ services: [] });

    const complaint = await stack.call('POST', '/v1/complaints', { key: keys.agent, body: { customerId: 'trm-e2e-2', channel: 'web', category: 'billing', summary: 'Charged again' } });
    expect([complaint.status, complaint.body.error.code, complaint.body.error.fields[0].field]).toEqual([409, 'customer_terminated', 'customerId']);
    expect(complaint.body.error.message).toContain('trm-e2e-2');
    const claim = await stack.call('POST', '/v1/compensation-claims', {
      key: keys.agent,
      body: { customerId: 'trm-e2e-2', eventAt: new Date(Date.now() - hours(2)).toISOString(), reason: 'No service', requestedRemedy: { amount: 500 } },
    });
    expect([claim.status, claim.body.error.fields[0].field]).toEqual([409, 'customerId']);
    expect((await open({ customerId: 'trm-e2e-2', initiatedBy: 'customer', reason: 'again' })).status).toBe(409);

    const code = await codeOf('trm-e2e-2', caseId);
    const finalBackup = await download(`/v1/track/${code}/export`);
    expect([finalBackup.status, JSON.parse(finalBackup.text).purpose]).toEqual([200, 'final']);
  });

  it('T4, T6: GET /v1/terminations/overdue lists a termination whose date passed while the account is still active (supervisors and auditors)', async () => {
    const effectiveAt = new Date(Date.now() - hours(2)).toISOString();
    const state = { caseId: 'TRM-2026-999001', details: { effectiveAt, deletionDueAt: new Date(Date.now() + days(28)).toISOString(), failure: null } };
    await stack.db.sql`
      insert into cases (case_id, workflow_id, type, status, priority, customer_id, summary, sla_breached, next_deadline_at, opened_at, updated_at, last_step, state)
      values ('TRM-2026-999001', 'termination-TRM-2026-999001', 'termination', 'scheduled', null, 'trm-e2e-3', 'stuck', false, null, now() - interval '31 days', now(), 2, ${stack.db.sql.json(state)})`;
    expect((await stack.call('GET', '/v1/terminations/overdue', { key: keys.agent })).status).toBe(403);
    const overdue = await stack.call('GET', '/v1/terminations/overdue', { key: keys.supervisor });
    expect(overdue.status).toBe(200);
    expect(overdue.body.terminations).toEqual([
      { caseId: 'TRM-2026-999001', customerId: 'trm-e2e-3', status: 'scheduled', step: 'deactivation', dueAt: effectiveAt, overdueMinutes: expect.any(Number), legalHold: null, failure: null },
    ]);
    expect(overdue.body.terminations[0].overdueMinutes).toBeGreaterThanOrEqual(119);
    expect((await stack.call('GET', '/v1/terminations/overdue?graceMinutes=180', { key: keys.auditor })).body.terminations).toEqual([]);
  });
});
