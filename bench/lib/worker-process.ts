/**
 * The Pledge worker and outbox dispatcher in a process of their own, as worker/main.ts runs them,
 * so a bench can read the worker's resident memory and CPU apart from the API and the load. The
 * worker is createPledgeWorker's, on the bench's bundle; its workflow cache is MAX_CACHED_WORKFLOWS
 * when set, else the deployment's default (PLEDGE_MAX_CACHED_WORKFLOWS, config/index.ts).
 *
 *   node --import tsx bench/lib/worker-process.ts
 *   env: TEMPORAL_ADDRESS, DATABASE_URL, TASK_QUEUE, WORKFLOW_BUNDLE (a bundle's code file), MAX_CACHED_WORKFLOWS (optional)
 * Prints READY once polling. SIGTERM drains and exits; so does its stdin closing (the bench is gone).
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import postgres from 'postgres';
import { createDispatcher } from '../../notifications';
import { createPledgeWorker } from '../../worker/worker';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

// The runtime's "case wake-up due but not acted on" warnings are counted (a bench can make thousands), the rest shown.
let wakeupsNotActedOn = 0;
Runtime.install({
  logger: new DefaultLogger('WARN', (entry) => {
    if (entry.message === 'case wake-up due but not acted on') wakeupsNotActedOn++;
    else console.error(`${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message} ${JSON.stringify(entry.meta ?? {})}`);
  }),
  shutdownSignals: [],
});
const sql = postgres(required('DATABASE_URL'), { onnotice: () => {} });
const connection = await NativeConnection.connect({ address: required('TEMPORAL_ADDRESS') });
const worker = await createPledgeWorker({
  connection,
  namespace: 'default',
  taskQueue: required('TASK_QUEUE'),
  sql,
  workflowBundle: { codePath: required('WORKFLOW_BUNDLE') },
  ...(process.env.MAX_CACHED_WORKFLOWS ? { maxCachedWorkflows: Number(process.env.MAX_CACHED_WORKFLOWS) } : {}),
});
// What the worker runs with, for the bench to print.
console.log(`CACHE ${worker.options.maxCachedWorkflows}`);
const dispatcher = createDispatcher({ sql, transports: {}, log: () => {} });
await dispatcher.start();
const running = worker.run();

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 15_000).unref();
  if (worker.getState() === 'RUNNING') worker.shutdown();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
console.log('READY');
// Where the resident memory is, every 2 s (with the count of wake-ups not acted on): V8's heap (used of total), buffers outside it, and the rest (the Rust core, code).
const memory = setInterval(() => {
  const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
  console.log(`MEM ${JSON.stringify({ rss, heapTotal, heapUsed, external, wakeupsNotActedOn })}`);
}, 2000);
memory.unref();

let exitCode = 0;
try {
  await running;
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await dispatcher.stop();
  await connection.close();
  await sql.end({ timeout: 5 });
}
process.exit(exitCode);
