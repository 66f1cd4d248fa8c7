import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import { migrate } from '../../db/migrate';
import { startEphemeralPostgres, type RunningPostgres } from '../../scripts/toolchain/postgres';

// D7, D8, C10, O9: the reports computed in SQL from recorded cases and events (written here as the
// case runtime writes them), read over HTTP by supervisors and auditors only.
let database: RunningPostgres;
let sql: postgres.Sql;
const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
const app = () => createApp({ temporal: {} as never, sql, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue: 'reports' });
const get = (path: string, key = 'dev-auditor-key', headers: Record<string, string> = {}) => app().request(path, { headers: { authorization: `Bearer ${key}`, ...headers } });

beforeAll(async () => {
  database = await startEphemeralPostgres(55464);
  await migrate(database.url);
  sql = postgres(database.url, { onnotice: () => {} });
  // Four complaints opened in November 2026 (Shanghai): first response met on time (3), late (1);
  // two resolved; ratings 5, 4, 2 in November; one outage of broadband for 90 minutes; two remedies.
  const complaints = [
    { id: 'CMP-2026-000001', category: 'billing', priority: 'P2', met: 30, late: false, resolved: true, rating: 5 },
    { id: 'CMP-2026-000002', category: 'billing', priority: 'P2', met: 90, late: false, resolved: true, rating: 4 },
    { id: 'CMP-2026-000003', category: 'network-quality', priority: 'P1', met: 70, late: true, resolved: false, rating: 2 },
    { id: 'CMP-2026-000004', category: 'network-quality', priority: 'P2', met: 10, late: false, resolved: false, rating: null },
  ];
  for (const [index, complaint] of complaints.entries()) {
    const opened = new Date(Date.UTC(2026, 10, 2 + index, 2, 0));
    const at = (minutes: number) => new Date(opened.getTime() + minutes * 60_000);
    await sql`
      insert into cases (case_id, workflow_id, type, status, priority, customer_id, summary, opened_at, updated_at, last_step, state)
      values (${complaint.id}, ${`complaint-${complaint.id}`}, 'complaint', ${complaint.resolved ? 'resolved' : 'acknowledged'}, ${complaint.priority}, 'cust-1', 'x',
              ${opened}, ${opened}, 9, ${sql.json({ details: { category: complaint.category } })})`;
    const events: [string, Date, Record<string, unknown>][] = [
      ['sla.started', opened, { clock: 'firstResponse' }],
      ...(complaint.late ? ([['sla.breached', at(60), { clock: 'firstResponse' }]] as [string, Date, Record<string, unknown>][]) : []),
      ['sla.met', at(complaint.met), { clock: 'firstResponse', late: complaint.late }],
      ...(complaint.resolved ? ([['complaint.resolved', at(600), {}]] as [string, Date, Record<string, unknown>][]) : []),
      ...(complaint.rating ? ([['complaint.rated', at(900), { rating: complaint.rating }]] as [string, Date, Record<string, unknown>][]) : []),
    ];
    for (const [step, [type, occurredAt, data]] of events.entries()) {
      await sql`
        insert into case_events (workflow_id, step, case_id, type, actor_id, actor_role, occurred_at, data)
        values (${`complaint-${complaint.id}`}, ${step + 1}, ${complaint.id}, ${type}, 'pledge', 'system', ${occurredAt}, ${sql.json(data as postgres.JSONValue)})`;
    }
  }
  await sql`insert into customers (id, name, plan, region) values ('cust-1', 'One', 'home-100m', 'shanghai')`;
  await sql`
    insert into incident_outages (case_id, title, severity, services, regions, started_at, ended_at)
    values ('INC-2026-000001', 'Fibre cut', 'SEV2', '{broadband}', '{shanghai}', '2026-11-10T02:00:00Z', '2026-11-10T03:30:00Z')`;
  await sql`
    insert into ledger (idempotency_key, customer_id, case_id, kind, amount_cents, currency, policy_version, created_at)
    values ('k1', 'cust-1', 'INC-2026-000001', 'service-credit', 500, 'CNY', 'compensation/2026.1', '2026-11-10T04:00:00Z'),
           ('k2', 'cust-1', 'CLM-2026-000001', 'coupon', 1500, 'CNY', 'compensation/2026.1', '2026-11-12T04:00:00Z')`;
});

afterAll(async () => {
  await sql?.end();
  await database?.stop();
});

describe('reports (D7, D8)', () => {
  it('D8: the SLA report gives per type, clock and priority the met, late and compliance figures and the time to meet them', async () => {
    const response = await get('/v1/reports/sla?from=2026-11-01T00:00:00%2B08:00&to=2026-12-01T00:00:00%2B08:00');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { clocks: Record<string, unknown>[] };
    expect(body.clocks).toEqual([
      expect.objectContaining({ caseType: 'complaint', clock: 'firstResponse', priority: 'P1', started: 1, metOnTime: 0, metLate: 1, compliancePercent: 0, medianSecondsToMeet: 4200 }),
      expect.objectContaining({ caseType: 'complaint', clock: 'firstResponse', priority: 'P2', started: 3, metOnTime: 3, metLate: 0, compliancePercent: 100, medianSecondsToMeet: 1800 }),
    ]);
    const csv = await get('/v1/reports/sla?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z', 'dev-supervisor-key', { accept: 'text/csv' });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('caseType,clock,priority,started,metOnTime,metLate,breached,stillRunning,compliancePercent,medianSecondsToMeet,p90SecondsToMeet');
    expect(lines).toHaveLength(3);
  });

  it('D7, C10, O9: the quarterly transparency report: complaints by category, compliance, resolution, monthly satisfaction against 90 %, availability, remedies', async () => {
    const response = await get('/v1/reports/transparency?quarter=2026-Q4');
    expect(response.status).toBe(200);
    const report = (await response.json()) as Record<string, any>;
    expect(report.complaints).toMatchObject({
      opened: 4,
      resolutionRatePercent: 50,
      firstResponseCompliancePercent: 75,
      byCategory: [
        { category: 'billing', opened: 2, resolved: 2 },
        { category: 'network-quality', opened: 2, resolved: 0 },
      ],
    });
    expect(report.satisfaction).toEqual([
      { month: '2026-10', ratings: 0, satisfiedPercent: null, targetPercent: 90, met: null },
      { month: '2026-11', ratings: 3, satisfiedPercent: 66.67, targetPercent: 90, met: false },
      { month: '2026-12', ratings: 0, satisfiedPercent: null, targetPercent: 90, met: null },
    ]);
    const november = report.outages[0].availability.find((month: { month: string }) => month.month === '2026-11');
    expect(report.outages[0]).toMatchObject({ service: 'broadband', incidents: 1 });
    expect(november).toMatchObject({ downtimeMinutes: 90, met: false });
    expect(report.remedies).toEqual([
      { kind: 'coupon', currency: 'CNY', payments: 1, reversals: 0, netAmountCents: 1500 },
      { kind: 'service-credit', currency: 'CNY', payments: 1, reversals: 0, netAmountCents: 500 },
    ]);
    const csv = await get('/v1/reports/transparency?quarter=2026-Q4&format=csv');
    expect(await csv.text()).toContain('complaints,all,resolutionRatePercent,50');
  });

  it('D6: agents get 403; a malformed quarter or an inverted period is a 422 naming the field', async () => {
    expect((await get('/v1/reports/transparency?quarter=2026-Q4', 'dev-agent-key')).status).toBe(403);
    const bad = await get('/v1/reports/transparency?quarter=2026-Q5');
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { fields: { field: string }[] } }).error.fields[0]!.field).toBe('query.quarter');
    const inverted = await get('/v1/reports/sla?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z');
    expect(inverted.status).toBe(422);
  });
});
