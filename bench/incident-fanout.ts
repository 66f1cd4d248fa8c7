/**
 * Fan-out at scale over the whole stack (real Temporal dev server, real worker, real Postgres, the
 * API over HTTP): an outage affecting N customers, its notice, its recovery notice and one remedy
 * each. Prints figures; asserts only that every customer got exactly one of each.
 *
 *   npx tsx bench/incident-fanout.ts [--customers 100000]
 */
import { parseArgs } from 'node:util';
import { devKeys, startStack } from '../test/support/stack';
import { eventually, seedRegion } from '../test/support/incidents';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '100000' } } });
const customers = Number(values.customers);
const stack = await startStack({ postgres: 55480, temporal: 17280, temporalUi: 18280 }, 'bench-fanout');

type Fanout = { kind: string; customers: number; pages: number; runs: number; durationMs: number; maxRunHistoryLength: number };
const fanoutsOf = (state: { details: { fanouts: Fanout[] } }) => state.details.fanouts;

try {
  let started = Date.now();
  await seedRegion(stack.db.sql, 'bench', 'bench-region', customers);
  console.log(`seeded ${customers} customers in ${Date.now() - started} ms`);

  // Started three hours ago: the notice is late and goes out at once.
  const startedAt = new Date(Date.now() - 3 * 3600_000).toISOString();
  started = Date.now();
  const opened = await stack.call('POST', '/v1/incidents', {
    key: devKeys.agent,
    body: { title: 'Bench outage', severity: 'SEV2', startedAt, scope: { services: ['broadband'], regions: ['bench-region'] } },
  });
  if (opened.status !== 201) throw new Error(`open failed: ${opened.status} ${JSON.stringify(opened.body)}`);
  const caseId: string = opened.body.caseId;
  const read = () => stack.call('GET', `/v1/cases/${caseId}`, { key: devKeys.agent }).then((response) => response.body);
  await eventually(read, (state) => fanoutsOf(state).length === 1, 30 * 60_000, 500);
  const noticeWallMs = Date.now() - started;

  started = Date.now();
  const resolved = await stack.call('POST', `/v1/cases/${caseId}/actions/resolve`, { key: devKeys.agent, body: { input: { summary: 'Restored' } } });
  if (resolved.status !== 200) throw new Error(`resolve failed: ${resolved.status} ${JSON.stringify(resolved.body)}`);
  const final = await eventually(read, (state) => fanoutsOf(state).length === 2, 30 * 60_000, 500);
  const recoveryWallMs = Date.now() - started;

  const [counts] = await stack.db.sql<{ notices: string; recoveries: string; ledger: string; distinct_ledger: string }[]>`
    select (select count(*) from notifications where case_id = ${caseId} and channel = 'inbox' and template = 'incident.outage-notice') as notices,
           (select count(*) from notifications where case_id = ${caseId} and channel = 'inbox' and template like 'incident.recovered%') as recoveries,
           (select count(*) from ledger where case_id = ${caseId}) as ledger,
           (select count(distinct customer_id) from ledger where case_id = ${caseId}) as distinct_ledger`;
  const handle = stack.temporal.workflow.getHandle(`incident-${caseId}`);
  const incidentEvents = (await handle.fetchHistory()).events?.length ?? 0;
  const [notice, recovery] = fanoutsOf(final) as [Fanout, Fanout];
  const perSecond = (count: number, ms: number) => Math.round((count / ms) * 1000);

  console.log(`customers affected          ${final.details.affectedCount}`);
  console.log(`outage notice               ${noticeWallMs} ms wall (${perSecond(customers, noticeWallMs)} customers/s), ${notice.pages} pages in ${notice.runs} runs`);
  console.log(`recovery notice + remedies  ${recoveryWallMs} ms wall (${perSecond(customers, recoveryWallMs)} customers/s), ${recovery.pages} pages in ${recovery.runs} runs`);
  console.log(`rows                        ${counts!.notices} notices, ${counts!.recoveries} recovery notices, ${counts!.ledger} ledger rows (${counts!.distinct_ledger} customers)`);
  console.log(`history length              incident ${incidentEvents} events; largest fan-out run ${Math.max(notice.maxRunHistoryLength, recovery.maxRunHistoryLength)} events`);
  console.log(`memory (this process: API + worker)  rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
  const exact = [counts!.notices, counts!.recoveries, counts!.ledger, counts!.distinct_ledger].every((count) => Number(count) === customers);
  if (!exact) {
    console.error('MISMATCH: not exactly one notice, recovery notice and remedy per customer');
    process.exitCode = 1;
  }
} finally {
  await stack.stop();
}
