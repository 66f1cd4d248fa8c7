import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDatabase, type TestDatabase } from '../support/database';

// D1: the record is append-only in the database itself, whatever code runs against it.
let db: TestDatabase;

beforeAll(async () => {
  db = await startTestDatabase(55472);
  await db.sql`
    insert into case_events (workflow_id, step, case_id, type, actor_id, actor_role, occurred_at, data)
    values ('complaint-CMP-2026-000900', 1, 'CMP-2026-000900', 'complaint.received', 'agent/test', 'agent', now(), '{}')`;
});

afterAll(() => db?.stop());

describe('the case record (D1)', () => {
  it.each([
    ['UPDATE', `update case_events set type = 'rewritten' where case_id = 'CMP-2026-000900'`],
    ['DELETE', `delete from case_events where case_id = 'CMP-2026-000900'`],
    ['TRUNCATE', 'truncate case_events'],
  ])('D1: the database refuses %s on case_events', async (_, statement) => {
    await expect(db.sql.unsafe(statement)).rejects.toThrow(/append-only|not allowed|refuse/i);
    const [row] = await db.sql`select count(*)::int as count, min(type) as type from case_events where case_id = 'CMP-2026-000900'`;
    expect(row).toEqual({ count: 1, type: 'complaint.received' });
  });
});
