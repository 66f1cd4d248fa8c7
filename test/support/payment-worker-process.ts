import { NativeConnection, Worker } from '@temporalio/worker';
import postgres from 'postgres';
import { createActivities } from '../../activities';

// A Pledge activity worker in a process of its own, to be killed mid-payment (P5, issue 11): it
// runs every activity, but its `payRemedy` does the real payment (the ledger row is written and
// committed), prints `PAID <result>` on stdout and then never answers, so the attempt stays
// started on the server until the test SIGKILLs this process and the attempt times out.
//
//   node --import tsx test/support/payment-worker-process.ts
//   env: TEMPORAL_ADDRESS, DATABASE_URL, TASK_QUEUE
// Prints `READY` once the worker polls. Exits when its stdin closes (the test process is gone), so
// a crashed test leaves no worker behind.

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

process.stdin.on('end', () => process.exit(1));
process.stdin.resume();

const sql = postgres(required('DATABASE_URL'), { onnotice: () => {}, max: 2 });
const activities = createActivities({ sql });
const pay = activities.payRemedy;
activities.payRemedy = async (input) => {
  const result = await pay(input);
  console.log(`PAID ${JSON.stringify(result)}`);
  // Hang: the answer never reaches Temporal.
  return new Promise<never>(() => {});
};

const connection = await NativeConnection.connect({ address: required('TEMPORAL_ADDRESS') });
const worker = await Worker.create({ connection, namespace: 'default', taskQueue: required('TASK_QUEUE'), activities });
const running = worker.run();
console.log('READY');
await running;
