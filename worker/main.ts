import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import postgres from 'postgres';
import { payloadCodecFromEnv } from '../codec/data-converter';
import { readEnv, requireDatabaseUrl } from '../config';
import { describeTemporalConnection, temporalConnectionOptions } from '../config/temporal-connection';
import { createDispatcher, createTransports } from '../notifications';
import { startHeartbeat } from '../observability/heartbeat';
import { surviveKnownPostgresSocketRace } from '../observability/known-driver-faults';
import { forwardTemporalLogs, logger, temporalLogLevel } from '../observability/logger';
import { createPledgeWorker } from './worker';

const env = readEnv();
const log = logger.child({ component: 'worker' });
surviveKnownPostgresSocketRace(log);
// D5: no keys in production, no start (codec/keys.ts).
const payloadCodec = payloadCodecFromEnv();
// The SDK's lines, workflow and activity logs included, go out as JSON through the same logger. Its
// signal handling is off: SIGTERM below drains the dispatcher alongside the worker.
// The SDK's own worker metrics (task latency, schedule-to-start, sticky cache…) for Prometheus to scrape.
const workerMetricsAddress = process.env.PLEDGE_WORKER_METRICS_ADDRESS ?? 'off';
Runtime.install({
  logger: new DefaultLogger(temporalLogLevel(env.LOG_LEVEL), forwardTemporalLogs(log)),
  shutdownSignals: [],
  ...(workerMetricsAddress === 'off' ? {} : { telemetryOptions: { metrics: { prometheus: { bindAddress: workerMetricsAddress } } } }),
});
const sql = postgres(requireDatabaseUrl(env), { onnotice: () => {} });
const temporalOptions = temporalConnectionOptions(env);
const connection = await NativeConnection.connect(temporalOptions);
const graceMs = env.PLEDGE_SHUTDOWN_GRACE_MS;
const worker = await createPledgeWorker({ connection, namespace: env.TEMPORAL_NAMESPACE, taskQueue: env.TEMPORAL_TASK_QUEUE, sql, payloadCodec, shutdownGraceTime: graceMs });
const channels = createTransports(env, sql, log);
const dispatcher = createDispatcher({ sql, transports: channels.transports, log });

let dispatcherStopped: Promise<void> | undefined;
const stopDispatcher = () => (dispatcherStopped ??= dispatcher.stop());

const running = worker.run();
let stopRequested = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // Ctrl-C reaches this process and npm start's supervisor, which then sends SIGTERM: one drain serves both.
  process.once(signal, () => {
    if (stopRequested) return;
    stopRequested = true;
    log.info({ graceMs }, `${signal}: finishing the tasks and notification batches in flight, then stopping`);
    // Activities still running after the grace time are cancelled; should anything hang past that, the process goes anyway.
    setTimeout(() => {
      log.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, graceMs + 15_000).unref();
    if (worker.getState() === 'RUNNING') worker.shutdown();
    void stopDispatcher();
  });
}
await dispatcher.start();
const heartbeat = env.PLEDGE_WORKER_HEARTBEAT_FILE ? startHeartbeat(env.PLEDGE_WORKER_HEARTBEAT_FILE, () => worker.getState() === 'RUNNING') : undefined;
log.info(
  `pledge worker polling ${env.TEMPORAL_NAMESPACE}/${env.TEMPORAL_TASK_QUEUE} on ${describeTemporalConnection(temporalOptions)}; payloads encrypted with key '${payloadCodec.primary.id}'; ${channels.summary}`,
);
let exitCode = 0;
try {
  await running;
} catch (error) {
  log.error({ err: error }, 'the worker stopped on an error');
  exitCode = 1;
} finally {
  heartbeat?.stop();
  // Stops claiming (if a signal has not already) and waits for the batches in flight to be recorded.
  await stopDispatcher();
  await channels.close();
  await connection.close();
  await sql.end({ timeout: 5 });
}
log.info('worker stopped');
process.exit(exitCode);
