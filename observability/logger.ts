import { AsyncLocalStorage } from 'node:async_hooks';
import type { LogEntry } from '@temporalio/worker';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof logLevels)[number];

/** What is known about the request being served; every line logged while serving it carries it. */
export interface RequestContext {
  requestId: string;
  caseId?: string;
  workflowId?: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** Records the case a request is about when the route learns it only inside (a case being opened). */
export function noteCase(caseId: string, workflowId: string): void {
  const context = requestContext.getStore();
  if (context) Object.assign(context, { caseId, workflowId });
}

// D9 and D5: a caller that passes headers or credentials by mistake still logs none of them.
const redactPaths = ['authorization', 'cookie', 'apiKey', 'password', 'token', 'headers.authorization', 'headers.cookie', '*.authorization', '*.cookie', '*.apiKey', '*.password', '*.token'];

/**
 * One JSON object per line on stdout (level as a word, ISO time), at `LOG_LEVEL` (default info). Error objects
 * keep their message and stack under `err` or `error`.
 */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  // Under vitest (and the servers tests start) only warnings and errors, so test output stays readable.
  const level = options.level ?? process.env.LOG_LEVEL ?? (process.env.VITEST ? 'warn' : 'info');
  if (!(logLevels as readonly string[]).includes(level)) throw new Error(`LOG_LEVEL must be one of ${logLevels.join(', ')}, not '${level}'`);
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      redact: { paths: redactPaths, censor: '[redacted]' },
      mixin: () => ({ ...requestContext.getStore() }),
    },
    options.destination,
  );
}

/** The process's logger; the API and the worker take children of it (`logger.child({ component })`). */
export const logger: Logger = createLogger();

const temporalLevels = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * For `Runtime.install({ logger: new DefaultLogger(level, forwardTemporalLogs(logger)) })`: the SDK's
 * lines (worker state, workflow and activity logs with their workflowId and runId) as JSON lines.
 */
export function forwardTemporalLogs(target: Logger): (entry: LogEntry) => void {
  return (entry) => target[temporalLevels[entry.level]]({ ...entry.meta }, entry.message);
}

/** The SDK level for a pino level: the SDK's INFO lines (bundler, per-module chatter) only at debug and below. */
export function temporalLogLevel(level: string): keyof typeof temporalLevels {
  if (level === 'trace') return 'TRACE';
  if (level === 'debug') return 'DEBUG';
  return level === 'error' || level === 'fatal' || level === 'silent' ? 'ERROR' : 'WARN';
}
