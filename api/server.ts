import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { payloadCodecFromEnv, pledgeDataConverter } from '../codec/data-converter';
import { loadPseudonymKey } from '../codec/keys';
import { loadPolicies, readEnv, requireDatabaseUrl } from '../config';
import { describeTemporalConnection, temporalConnectionOptions } from '../config/temporal-connection';
import { surviveKnownPostgresSocketRace } from '../observability/known-driver-faults';
import { logger } from '../observability/logger';
import { liveApiKeys } from './api-keys';
import { createApp } from './app';
import { ensureRetentionSchedule } from './retention-schedule';
import { serveWithGracefulShutdown } from './serve';

const env = readEnv();
const log = logger.child({ component: 'api' });
surviveKnownPostgresSocketRace(log);
// D5: refuse to start in production without the payload and pseudonym keys, before anything connects.
const payloadCodec = payloadCodecFromEnv();
loadPseudonymKey(env);
const sql = postgres(requireDatabaseUrl(env), { onnotice: () => {} });
const temporalOptions = temporalConnectionOptions(env);
// Redial within seconds once Temporal is back after an outage (gRPC's default back-off grows to 2 minutes).
const connection = await Connection.connect({ ...temporalOptions, channelArgs: { 'grpc.max_reconnect_backoff_ms': 5_000 } });
const temporal = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE, dataConverter: pledgeDataConverter(payloadCodec) });
const apiKeys = liveApiKeys(env, (message) => log.info(message));
const draining = new AbortController();
const app = createApp({ temporal, sql, apiKeys: apiKeys.keys, policies: loadPolicies(env), taskQueue: env.TEMPORAL_TASK_QUEUE, payloadCodec, draining: draining.signal });

const server = serveWithGracefulShutdown(app, {
  port: env.PORT,
  hostname: '0.0.0.0',
  graceMs: env.PLEDGE_SHUTDOWN_GRACE_MS,
  draining,
  log,
  // After the last response: nothing is left that could still need the database or Temporal.
  onDrained: async () => {
    apiKeys.close();
    await Promise.allSettled([connection.close(), sql.end({ timeout: 5 })]);
  },
});
const { port } = await server.listening;
log.info(`pledge api listening on http://127.0.0.1:${port} (docs at /docs); Temporal ${describeTemporalConnection(temporalOptions)}, namespace ${env.TEMPORAL_NAMESPACE}`);
// D2: the daily retention purge's Temporal Schedule, created or brought up to date (logs, never throws).
await ensureRetentionSchedule(temporal, { taskQueue: env.TEMPORAL_TASK_QUEUE, timeZone: env.PLEDGE_TIMEZONE, log: (message) => log.error(message) });

// A second Ctrl-C (the default handler again) ends the process at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void server.shutdown(signal).then(() => process.exit(0)));
}
