import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { payloadCodecFromEnv, pledgeDataConverter } from '../codec/data-converter';
import { loadPseudonymKey } from '../codec/keys';
import { loadPolicies, readEnv, requireDatabaseUrl } from '../config';
import { liveApiKeys } from './api-keys';
import { createApp } from './app';

const env = readEnv();
// D5: refuse to start in production without the payload and pseudonym keys, before anything connects.
const payloadCodec = payloadCodecFromEnv();
loadPseudonymKey(env);
const sql = postgres(requireDatabaseUrl(env), { onnotice: () => {} });
const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
const temporal = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE, dataConverter: pledgeDataConverter(payloadCodec) });
const apiKeys = liveApiKeys(env);
const app = createApp({ temporal, sql, apiKeys: apiKeys.keys, policies: loadPolicies(env), taskQueue: env.TEMPORAL_TASK_QUEUE, payloadCodec });

const server = serve({ fetch: app.fetch, port: env.PORT, hostname: '0.0.0.0' }, (info) => {
  console.log(`pledge api listening on http://127.0.0.1:${info.port} (docs at /docs)`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    apiKeys.close();
    void Promise.allSettled([connection.close(), sql.end({ timeout: 5 })]).then(() => process.exit(0));
  });
}
