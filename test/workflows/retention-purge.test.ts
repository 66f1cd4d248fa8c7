import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeLegalHold } from '../../db/legal-holds';
import { defaultRetentionPolicy } from '../../domain/retention';
import type { RetentionPurgeOutcome } from '../../workflows/retention-purge';
import { seedCustomer, type TestDatabase } from '../support/database';
import { startTimeSkippingBed, type TimeSkippingBed } from '../support/time-skipping-bed';

// The retention purge (D2) on the time-skipping server with real Postgres: rows written directly
// with old timestamps, the `retentionPurge` workflow run as the daily Schedule starts it.
const taskQueue = 'retention-purge';
let bed: TimeSkippingBed;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pledge-retention-'));
  process.env.PLEDGE_DATA_DIR = dataDir;
  bed = await startTimeSkippingBed({ postgresPort: 55482, taskQueue });
  ({ env, db } = bed);
}, 180_000);

afterAll(async () => {
  await bed?.stop();
  delete process.env.PLEDGE_DATA_DIR;
  rmSync(dataDir, { recursive: true, force: true });
});

/** A case of `customerId` (null for an incident) last changed `age` ago, with a message to `to` containing personal text. */
async function caseAged(caseId: string, customerId: string | null, status: string, age: string, to: string[] = customerId ? [customerId] : []) {
  const type = caseId.startsWith('INC') ? 'incident' : 'complaint';
  const state = { caseId, type, status, customerId, summary: `Zhang San: router broken at 9 Elm St`, details: { description: 'Zhang San, +8613900000000' } };
  await db.sql`
    insert into cases (case_id, workflow_id, type, status, customer_id, summary, opened_at, updated_at, last_step, state)
    values (${caseId}, ${`${type}-${caseId}`}, ${type}, ${status}, ${customerId}, ${state.summary},
            now() - ${age}::interval - interval '10 days', now() - ${age}::interval, 2, ${db.sql.json(state)})`;
  for (const step of [1, 2]) {
    await db.sql`
      insert into case_events (workflow_id, step, case_id, type, actor_id, actor_role, occurred_at, data)
      values (${`${type}-${caseId}`}, ${step}, ${caseId}, ${`${type}.step`}, 'agent/test', 'agent', now() - ${age}::interval, ${db.sql.json({ text: 'Zhang San' })})`;
  }
  for (const recipient of to) {
    await db.sql`
      insert into notifications (idempotency_key, customer_id, case_id, channel, locale, template, subject, body, recipient, status, created_at)
      values (${`${caseId}:${recipient}:email`}, ${recipient}, ${caseId}, 'email', 'en', 'complaint.received', 'About your case', 'Dear Zhang San, …', ${`${recipient}@example.com`}, 'delivered', now() - ${age}::interval)`;
  }
  await db.sql`insert into tracking_codes (code, case_id, customer_id) values (${`code${caseId.replace(/\W/g, '').toLowerCase()}`.slice(0, 20)}, ${caseId}, ${customerId ?? to[0] ?? 'nobody'})`;
}

const purged = async () => (await db.sql<{ case_id: string }[]>`select case_id from cases where purged_at is not null order by case_id`).map((row) => row.case_id);
const run = (id: string, pageSize = 2) =>
  env.client.workflow.execute('retentionPurge', { taskQueue, workflowId: id, args: [{ policy: { ...defaultRetentionPolicy, pageSize } }] }) as Promise<RetentionPurgeOutcome>;

describe('D2: retention purge', () => {
  it('D2: a closed case 3 years old is purged; one whose customer is under a legal hold is not; a 2-year-old one is not; nor an old case still open', async () => {
    for (const id of ['ret-old', 'ret-old-2', 'ret-held', 'ret-recent', 'ret-open']) await seedCustomer(db.sql, { id, locale: 'en', email: `${id}@example.com`, channels: ['email', 'inbox'] });
    await placeLegalHold(db.sql, { customerId: 'ret-held', reason: 'Litigation 2026-3', actor: { id: 'auditor/test', role: 'auditor' } });
    await caseAged('CMP-2023-000001', 'ret-old', 'closed', '3 years 1 day');
    await caseAged('CMP-2023-000002', 'ret-old-2', 'withdrawn', '5 years');
    await caseAged('CMP-2023-000003', 'ret-held', 'closed', '4 years');
    await caseAged('CMP-2024-000004', 'ret-recent', 'closed', '2 years');
    await caseAged('CMP-2023-000005', 'ret-open', 'acknowledged', '4 years');
    // An old outage: its case concerns no one customer; its messages to each do.
    await caseAged('INC-2023-000006', null, 'closed', '3 years 2 days', ['ret-old', 'ret-held']);
    // The termination backup of the old case, on disk.
    mkdirSync(join(dataDir, 'exports'), { recursive: true });
    writeFileSync(join(dataDir, 'exports', 'CMP-2023-000001-1.json'), '{"name":"Zhang San"}');
    await db.sql`
      insert into customer_exports (case_id, n, customer_id, purpose, path, sha256, size_bytes, created_at)
      values ('CMP-2023-000001', 1, 'ret-old', 'final', 'exports/CMP-2023-000001-1.json', ${'0'.repeat(64)}, 20, now() - interval '3 years 1 day')`;
    const eventsBefore = await db.sql`select id, case_id, step, type, data from case_events order by id`;

    const outcome = await run('retention-purge-test-1');
    expect(outcome).toMatchObject({ casesPurged: 2, notificationsRedacted: 3, exportFilesRemoved: 1, heldCases: 1 });
    expect(await purged()).toEqual(['CMP-2023-000001', 'CMP-2023-000002']);

    const rows = await db.sql<{ case_id: string; summary: string; state: unknown; purge_reason: string | null }[]>`select case_id, summary, state, purge_reason from cases order by case_id`;
    for (const row of rows) {
      const gone = ['CMP-2023-000001', 'CMP-2023-000002'].includes(row.case_id);
      expect(JSON.stringify(row.state).includes('Zhang San'), row.case_id).toBe(!gone);
      expect(row.summary.includes('Zhang San'), row.case_id).toBe(!gone);
      if (gone) expect(row.purge_reason).toBe('retention: closed more than 3 years ago (D2)');
    }
    const messages = await db.sql<{ case_id: string; customer_id: string; body: string; recipient: string | null }[]>`
      select case_id, customer_id, body, recipient from notifications order by case_id, customer_id`;
    expect(messages.map((message) => [message.case_id, message.customer_id, message.recipient === null && !message.body.includes('Zhang San')])).toEqual([
      ['CMP-2023-000001', 'ret-old', true],
      ['CMP-2023-000002', 'ret-old-2', true],
      ['CMP-2023-000003', 'ret-held', false],
      ['CMP-2023-000005', 'ret-open', false],
      ['CMP-2024-000004', 'ret-recent', false],
      ['INC-2023-000006', 'ret-held', false],
      ['INC-2023-000006', 'ret-old', true],
    ]);
    expect(existsSync(join(dataDir, 'exports', 'CMP-2023-000001-1.json'))).toBe(false);
    const codes = await db.sql<{ case_id: string }[]>`select case_id from tracking_codes where revoked_at is not null order by case_id`;
    expect(codes.map((code) => code.case_id)).toEqual(['CMP-2023-000001', 'CMP-2023-000002']);

    // D1: the trail is never rewritten; each purged case gets one more entry saying so.
    const eventsAfter = await db.sql<{ case_id: string; step: number; type: string; data: { runId: number } }[]>`select id, case_id, step, type, data from case_events order by id`;
    expect(eventsAfter.slice(0, eventsBefore.length)).toEqual(eventsBefore);
    expect(eventsAfter.slice(eventsBefore.length).map((event) => [event.case_id, event.step, event.type, event.data.runId])).toEqual([
      ['CMP-2023-000002', 3, 'case.personal-data-purged', outcome.runId],
      ['CMP-2023-000001', 3, 'case.personal-data-purged', outcome.runId],
    ]);

    // The run itself is recorded with its counts.
    const [recorded] =
      await db.sql`select policy_version, retention_years, cases_purged, notifications_redacted, export_files_removed, held_cases, finished_at from purge_runs where id = ${outcome.runId}`;
    expect(recorded).toMatchObject({ policy_version: defaultRetentionPolicy.version, retention_years: 3, cases_purged: 2, notifications_redacted: 3, export_files_removed: 1, held_cases: 1 });
    expect(recorded!.finished_at).toBeInstanceOf(Date);

    // The next day's run finds nothing new; once the hold is lifted, the held case goes too.
    expect(await run('retention-purge-test-2')).toMatchObject({ casesPurged: 0, notificationsRedacted: 0, heldCases: 1 });
    await db.sql`update customers set legal_hold = false where id = 'ret-held'`;
    expect(await run('retention-purge-test-3')).toMatchObject({ casesPurged: 1, notificationsRedacted: 2, heldCases: 0 });
    expect(await purged()).toEqual(['CMP-2023-000001', 'CMP-2023-000002', 'CMP-2023-000003']);
  });
});
