import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { defaultCompensationPolicy } from '../../domain/compensation-policy';
import { startTestDatabase, type TestDatabase } from '../support/database';
import { seedRegion } from '../support/incidents';

// P4 on the recovery fan-out: remedies above the approval threshold wait, under the ledger key they
// will be paid with, until a supervisor approves them; then each is paid once and its customer told.
let db: TestDatabase;
let activities: ReturnType<typeof createActivities>;
const caseId = 'INC-2026-000777';
const incidentWorkflowId = `incident-${caseId}`;

beforeAll(async () => {
  db = await startTestDatabase(55476);
  activities = createActivities({ sql: db.sql });
  // 8 customers, plans rotating home-500m, home-1000m, business-1g, home-100m.
  await seedRegion(db.sql, 'appr', 'approval-region', 8);
});

afterAll(() => db?.stop());

const page = () =>
  activities.deliverIncidentPage({
    incidentWorkflowId,
    caseId,
    notificationKeyPrefix: `${incidentWorkflowId}:recovery`,
    recipientsKey: `${incidentWorkflowId}-fanout-2-recovery`,
    kind: 'recovery',
    scopes: [{ services: ['broadband'], regions: ['approval-region'] }],
    afterCustomerId: null,
    pageSize: 100,
    timeZone: 'Asia/Shanghai',
    // 26 h: 7 credit days; business-1g doubles them: 599.00 × 14 / 30 = 279.53, above the 100.00 threshold.
    message: { title: 'Fibre cut', startedAt: '2026-11-02T01:00:00.000Z', endedAt: '2026-11-03T03:00:00.000Z', outageMinutes: 26 * 60 },
    compensation: defaultCompensationPolicy,
    approvalThresholdCents: 10_000,
  });

describe('remedies that wait for approval (P4)', () => {
  it('P4, P5: above the threshold a remedy waits (the user is told it comes after review); the rest are paid at once; a retried page counts the same', async () => {
    const first = await page();
    const again = await page();
    expect(first).toMatchObject({ customers: 8, remediesPaid: 6, remediesPending: 2, remedyPendingAmountCents: 2 * 27_953 });
    expect(again).toEqual(first);
    const waiting = await db.sql`select customer_id from pending_remedies where case_id = ${caseId} and approved_at is null order by customer_id`;
    expect(waiting.map((row) => row.customer_id)).toEqual(['appr-000003', 'appr-000007']);
    const ledger = await db.sql`select count(*)::int as count from ledger where case_id = ${caseId}`;
    expect(ledger[0]!.count).toBe(6);
    const pendingNotice = await db.sql`select distinct template from notifications where case_id = ${caseId} and customer_id = 'appr-000003'`;
    expect(pendingNotice.map((row) => row.template)).toEqual(['incident.recovered-remedy-pending']);
  });

  it('P4, P5: a supervisor approval pays each waiting remedy once under its key and tells its customer; approving again pays nothing', async () => {
    expect(await activities.approvePendingRemedies({ caseId, approvedBy: 'supervisor/test', timeZone: 'Asia/Shanghai' })).toEqual({ paid: 2, amountCents: 2 * 27_953 });
    expect(await activities.approvePendingRemedies({ caseId, approvedBy: 'supervisor/test', timeZone: 'Asia/Shanghai' })).toEqual({ paid: 0, amountCents: 0 });
    const paid = await db.sql`select idempotency_key from ledger where case_id = ${caseId} and customer_id in ('appr-000003', 'appr-000007') order by idempotency_key`;
    expect(paid.map((row) => row.idempotency_key)).toEqual([`${incidentWorkflowId}:remedy:appr-000003`, `${incidentWorkflowId}:remedy:appr-000007`]);
    const told = await db.sql`select count(*)::int as count from notifications where case_id = ${caseId} and template = 'incident.remedy-approved' and channel = 'inbox'`;
    expect(told[0]!.count).toBe(2);
  });
});
