import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import { findLedgerEntry, insertLedgerEntry, LedgerRefusal, ledgerOfCustomer, reverseLedgerEntry, type LedgerEntry } from '../../db/ledger';
import { seedCustomer, startTestDatabase, type TestDatabase } from '../support/database';

// P5, P6: the ledger pays each key once and is append-only in the database itself; a mistake is
// taken back by a reversal entry, at most one per entry, and the customer's ledger shows both.
let db: TestDatabase;
const devKeys = { agent: 'dev-agent-key', supervisor: 'dev-supervisor-key', auditor: 'dev-auditor-key', alertSource: 'dev-alert-key' };

beforeAll(async () => {
  db = await startTestDatabase(55474);
  await seedCustomer(db.sql, { id: 'cust-ledger' });
  await seedCustomer(db.sql, { id: 'cust-http' });
  await seedCustomer(db.sql, { id: 'cust-empty' });
});

afterAll(() => db?.stop());

const entry = (key: string, overrides: Partial<LedgerEntry> = {}): LedgerEntry => ({
  idempotencyKey: key,
  customerId: 'cust-ledger',
  caseId: 'INC-2026-000300',
  kind: 'service-credit',
  amountCents: 1290,
  currency: 'CNY',
  policyVersion: 'compensation/2026.1',
  ...overrides,
});

async function refusalOf(work: Promise<unknown>): Promise<LedgerRefusal> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(LedgerRefusal);
  return error as LedgerRefusal;
}

describe('the ledger is append-only in the database (P5, P6)', () => {
  let id: number;
  beforeAll(async () => {
    id = (await insertLedgerEntry(db.sql, entry('append-only:1'))).id;
  });

  it.each([
    ['UPDATE', (entryId: number) => `update ledger set amount_cents = 1 where id = ${entryId}`],
    ['DELETE', (entryId: number) => `delete from ledger where id = ${entryId}`],
    ['TRUNCATE', () => 'truncate ledger'],
    ['TRUNCATE … CASCADE', () => 'truncate ledger cascade'],
  ])('P5, P6: the database refuses %s on ledger and says a mistake is corrected by a reversal entry', async (_, statement) => {
    await expect(db.sql.unsafe(statement(id))).rejects.toThrow(/ledger is append-only.*reversal entry/);
    expect(await findLedgerEntry(db.sql, id)).toMatchObject({ id, amountCents: 1290, reversesId: null });
  });

  it('P6: a reversal written by hand must undo exactly its entry and say why', async () => {
    const insert = (key: string, amount: number, reason: string | null, customerId = 'cust-ledger') =>
      db.sql`insert into ledger (idempotency_key, customer_id, kind, amount_cents, currency, reverses_id, reason)
             values (${key}, ${customerId}, 'service-credit', ${amount}, 'CNY', ${id}, ${reason})`;
    await expect(insert('by-hand:wrong-amount', -1, 'typo')).rejects.toThrow(/opposite amount/);
    await expect(insert('by-hand:other-customer', -1290, 'typo', 'cust-http')).rejects.toThrow(/opposite amount/);
    await expect(insert('by-hand:no-reason', -1290, null)).rejects.toThrow(/ledger_reversal_reason/);
    await expect(insert('by-hand:positive', 1290, 'typo')).rejects.toThrow(/opposite amount/);
    await expect(db.sql`insert into ledger (idempotency_key, customer_id, kind, amount_cents) values ('by-hand:negative-payment', 'cust-ledger', 'coupon', -5)`).rejects.toThrow(/ledger_amount_sign/);
  });
});

describe('insertLedgerEntry (P5)', () => {
  it('P5: one key pays once; the second call answers the same entry without inserting', async () => {
    const first = await insertLedgerEntry(db.sql, { ...entry('pay-once:1', { kind: 'coupon', amountCents: 500 }), reason: 'goodwill' });
    const second = await insertLedgerEntry(db.sql, entry('pay-once:1', { kind: 'coupon', amountCents: 500 }));
    expect(first.inserted).toBe(true);
    expect(second).toEqual({ id: first.id, inserted: false });
    const [row] = await db.sql`select count(*)::int as n from ledger where idempotency_key = 'pay-once:1'`;
    expect(row!.n).toBe(1);
    expect(await findLedgerEntry(db.sql, first.id)).toMatchObject({ kind: 'coupon', amountCents: 500, reason: 'goodwill', caseId: 'INC-2026-000300', policyVersion: 'compensation/2026.1' });
  });

  it('P5: the key reused for another amount or customer is refused, not paid', async () => {
    await insertLedgerEntry(db.sql, entry('pay-once:2'));
    expect((await refusalOf(insertLedgerEntry(db.sql, entry('pay-once:2', { amountCents: 1 })))).code).toBe('key-conflict');
    expect((await refusalOf(insertLedgerEntry(db.sql, entry('pay-once:2', { customerId: 'cust-http' })))).code).toBe('key-conflict');
  });

  it('P5: concurrent calls with one key write one row and all answer it', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => insertLedgerEntry(db.sql, entry('pay-once:concurrent', { amountCents: 77 }))));
    expect(new Set(results.map((result) => result.id)).size).toBe(1);
    expect(results.filter((result) => result.inserted)).toHaveLength(1);
  });
});

describe('reverseLedgerEntry (P6)', () => {
  it('P6: a reversal takes the entry back (balance back to 0); a second reversal under another key is refused already-reversed', async () => {
    await seedCustomer(db.sql, { id: 'cust-reverse' });
    const paid = await insertLedgerEntry(db.sql, entry('reverse:pay', { customerId: 'cust-reverse', kind: 'points', amountCents: 300, currency: 'PTS', policyVersion: 'compensation/2026.2' }));
    expect((await ledgerOfCustomer(db.sql, 'cust-reverse')).balances).toEqual([{ kind: 'points', currency: 'PTS', amountCents: 300 }]);

    const reversal = await reverseLedgerEntry(db.sql, { entryId: paid.id, idempotencyKey: 'reverse:1', reason: 'paid to the wrong account', caseId: 'CLM-2026-000001' });
    expect(reversal.inserted).toBe(true);
    expect(await findLedgerEntry(db.sql, reversal.id)).toMatchObject({
      customerId: 'cust-reverse',
      kind: 'points',
      amountCents: -300,
      currency: 'PTS',
      policyVersion: 'compensation/2026.2',
      caseId: 'CLM-2026-000001',
      reversesId: paid.id,
      reason: 'paid to the wrong account',
    });
    expect(await findLedgerEntry(db.sql, paid.id)).toMatchObject({ reversedById: reversal.id, amountCents: 300 });
    expect((await ledgerOfCustomer(db.sql, 'cust-reverse')).balances).toEqual([{ kind: 'points', currency: 'PTS', amountCents: 0 }]);

    const twice = await refusalOf(reverseLedgerEntry(db.sql, { entryId: paid.id, idempotencyKey: 'reverse:2', reason: 'again', caseId: 'CLM-2026-000002' }));
    expect(twice).toMatchObject({ code: 'already-reversed', entryId: paid.id });
    expect(twice.message).toContain(`already reversed by entry ${reversal.id}`);
    const [count] = await db.sql`select count(*)::int as n from ledger where customer_id = 'cust-reverse'`;
    expect(count!.n).toBe(2);
  });

  it('P6: the same reversal retried with its own key answers the same reversal', async () => {
    const paid = await insertLedgerEntry(db.sql, entry('retry:pay'));
    const request = { entryId: paid.id, idempotencyKey: 'retry:reverse', reason: 'duplicate remedy', caseId: 'CLM-2026-000003' };
    const first = await reverseLedgerEntry(db.sql, request);
    expect(await reverseLedgerEntry(db.sql, request)).toEqual({ id: first.id, inserted: false });
    // The key names that reversal: used for another entry it is refused.
    const other = await insertLedgerEntry(db.sql, entry('retry:pay-2'));
    expect((await refusalOf(reverseLedgerEntry(db.sql, { ...request, entryId: other.id }))).code).toBe('key-conflict');
  });

  it('P6: reversing a reversal, or an unknown entry, is refused', async () => {
    const paid = await insertLedgerEntry(db.sql, entry('refuse:pay'));
    const reversal = await reverseLedgerEntry(db.sql, { entryId: paid.id, idempotencyKey: 'refuse:reverse', reason: 'wrong tier', caseId: 'CLM-2026-000004' });
    expect(await refusalOf(reverseLedgerEntry(db.sql, { entryId: reversal.id, idempotencyKey: 'refuse:reverse-the-reversal', reason: 'undo', caseId: 'CLM-2026-000004' }))).toMatchObject({
      code: 'is-a-reversal',
      entryId: reversal.id,
    });
    expect(await refusalOf(reverseLedgerEntry(db.sql, { entryId: 987_654, idempotencyKey: 'refuse:unknown', reason: 'undo', caseId: 'CLM-2026-000004' }))).toMatchObject({ code: 'not-found' });
  });

  it('P6: concurrent reversals of one entry under different keys: exactly one wins, the others are refused already-reversed', async () => {
    const paid = await insertLedgerEntry(db.sql, entry('race:pay'));
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, (_, index) => reverseLedgerEntry(db.sql, { entryId: paid.id, idempotencyKey: `race:reverse:${index}`, reason: 'race', caseId: 'CLM-2026-000005' })),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'already-reversed' });
  });
});

describe('ledgerOfCustomer', () => {
  it('P6: entries newest first with their links and reasons, and the balance per kind and currency', async () => {
    await seedCustomer(db.sql, { id: 'cust-balance' });
    const credit = await insertLedgerEntry(db.sql, entry('balance:credit', { customerId: 'cust-balance', amountCents: 1290 }));
    const coupon = await insertLedgerEntry(db.sql, entry('balance:coupon', { customerId: 'cust-balance', kind: 'coupon', amountCents: 2000, caseId: 'CLM-2026-000010' }));
    const reversal = await reverseLedgerEntry(db.sql, { entryId: credit.id, idempotencyKey: 'balance:reverse', reason: 'outage was on another line', caseId: 'CLM-2026-000010' });
    const repaid = await insertLedgerEntry(db.sql, { ...entry('balance:repay', { customerId: 'cust-balance', amountCents: 430, caseId: 'CLM-2026-000010' }), reason: 'corrected amount' });

    const ledger = await ledgerOfCustomer(db.sql, 'cust-balance');
    expect(ledger.entries.map((row) => row.id)).toEqual([repaid.id, reversal.id, coupon.id, credit.id]);
    expect(ledger.entries[0]).toMatchObject({ amountCents: 430, reason: 'corrected amount', reversesId: null, reversedById: null });
    expect(ledger.entries[1]).toMatchObject({ amountCents: -1290, reversesId: credit.id, reason: 'outage was on another line' });
    expect(ledger.entries[3]).toMatchObject({ reversedById: reversal.id });
    expect(ledger.total).toBe(4);
    expect(ledger.balances).toEqual([
      { kind: 'coupon', currency: 'CNY', amountCents: 2000 },
      { kind: 'service-credit', currency: 'CNY', amountCents: 430 },
    ]);
    const limited = await ledgerOfCustomer(db.sql, 'cust-balance', { limit: 1 });
    expect([limited.entries.length, limited.total, limited.balances]).toEqual([1, 4, ledger.balances]);
    expect(await ledgerOfCustomer(db.sql, 'cust-empty')).toEqual({ entries: [], total: 0, balances: [] });
  });
});

describe('GET /v1/customers/{id}/ledger', () => {
  // The route reads Postgres only; Temporal is a stub.
  const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
  const app = () => createApp({ temporal: {} as never, sql: db.sql, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue: 'ledger-test' });
  const get = (path: string, key?: string) => app().request(path, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('P5, P6: answers the entries and balances to agents, supervisors and auditors', async () => {
    const paid = await insertLedgerEntry(db.sql, entry('http:pay', { customerId: 'cust-http', amountCents: 990 }));
    const reversal = await reverseLedgerEntry(db.sql, { entryId: paid.id, idempotencyKey: 'http:reverse', reason: 'paid twice', caseId: 'CLM-2026-000020' });
    await insertLedgerEntry(db.sql, entry('http:coupon', { customerId: 'cust-http', kind: 'coupon', amountCents: 1500 }));
    for (const key of [devKeys.agent, devKeys.supervisor, devKeys.auditor]) {
      const response = await get('/v1/customers/cust-http/ledger', key);
      expect(response.status, key).toBe(200);
      const body = (await response.json()) as { entries: Record<string, unknown>[]; total: number; balances: unknown[] };
      expect(body.total).toBe(3);
      expect(body.entries[1]).toEqual({
        id: reversal.id,
        kind: 'service-credit',
        amountCents: -990,
        currency: 'CNY',
        policyVersion: 'compensation/2026.1',
        caseId: 'CLM-2026-000020',
        reversesId: paid.id,
        reversedById: null,
        reason: 'paid twice',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      expect(body.entries[2]).toMatchObject({ id: paid.id, reversedById: reversal.id });
      expect(body.balances).toEqual([
        { kind: 'coupon', currency: 'CNY', amountCents: 1500 },
        { kind: 'service-credit', currency: 'CNY', amountCents: 0 },
      ]);
    }
    const limited = (await (await get('/v1/customers/cust-http/ledger?limit=1', devKeys.auditor)).json()) as { entries: unknown[]; total: number };
    expect([limited.entries.length, limited.total]).toEqual([1, 3]);
  });

  it('answers 404 for an unknown customer, 401 without a key, 403 to other roles, 422 on a bad limit', async () => {
    const unknown = await get('/v1/customers/cust-nobody/ledger', devKeys.agent);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'customer_not_found' } });
    expect((await get('/v1/customers/cust-http/ledger')).status).toBe(401);
    expect((await get('/v1/customers/cust-http/ledger', devKeys.alertSource)).status).toBe(403);
    expect((await get('/v1/customers/cust-http/ledger?limit=0', devKeys.agent)).status).toBe(422);
    expect((await get('/v1/customers/cust-empty/ledger', devKeys.agent)).status).toBe(200);
  });

  it('is documented in /openapi.json with its response schema', async () => {
    const doc = (await (await app().request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    expect(doc.paths['/v1/customers/{id}/ledger']?.get).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['LedgerEntry', 'LedgerBalance', 'CustomerLedger']));
  });
});
