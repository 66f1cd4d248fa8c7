import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import postgres from 'postgres';
import { payloadCodecFromEnv } from '../codec/data-converter';
import { readEnv, requireDatabaseUrl } from '../config';
import { createDispatcher, createTransports } from '../notifications';
import { createPledgeWorker } from './worker';

const env = readEnv();
// D5: no keys in production, no start (codec/keys.ts).
const payloadCodec = payloadCodecFromEnv();
// The SDK logs every bundler module at INFO; warnings and errors are what an operator needs.
Runtime.install({ logger: new DefaultLogger(env.LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN') });
const sql = postgres(requireDatabaseUrl(env), { onnotice: () => {} });
const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
const worker = await createPledgeWorker({ connection, namespace: env.TEMPORAL_NAMESPACE, taskQueue: env.TEMPORAL_TASK_QUEUE, sql, payloadCodec });
const log = { warn: (fields: object, message: string) => console.warn(message, JSON.stringify(fields)), error: (fields: object, message: string) => console.error(message, JSON.stringify(fields)) };
const channels = createTransports(env, sql, log);
const dispatcher = createDispatcher({ sql, transports: channels.transports, log });

await dispatcher.start();
console.log(`pledge worker polling ${env.TEMPORAL_NAMESPACE}/${env.TEMPORAL_TASK_QUEUE} on ${env.TEMPORAL_ADDRESS}; payloads encrypted with key '${payloadCodec.primary.id}'; ${channels.summary}`);
try {
  await worker.run();
} finally {
  await dispatcher.stop();
  await channels.close();
  await connection.close();
  await sql.end();
}
