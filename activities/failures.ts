import { ApplicationFailure, asyncLocalStorage } from '@temporalio/activity';
import { Counter, register } from 'prom-client';

// Failures that stop (issue 8, item 6): an error that the next attempt would meet again — data
// Postgres refuses, a message that cannot be rendered — fails the activity for good instead of
// retrying forever behind a case that silently stalls. The workflow sees a non-retryable
// ApplicationFailure of type DataError or TemplateError and decides what the case does about it.

export type FailureType = 'DataError' | 'TemplateError';

/**
 * SQLSTATE classes that no retry fixes: 22 data exception (a value out of range, bad input
 * syntax, a NUL in text) and 23 integrity constraint violation (unique, foreign key, check, not
 * null). Anything else (serialization failures 40001, deadlocks, connection loss, timeouts) is
 * transient and retried as before.
 */
const dataErrorClasses = new Set(['22', '23']);

/** postgres.js throws PostgresError with the server's SQLSTATE in `code`; matched by shape, so any copy of the class counts. */
function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === 'PostgresError' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Which non-retryable failure an error is, or undefined when retrying may help. */
export function classifyActivityError(error: unknown): FailureType | undefined {
  if (error instanceof ApplicationFailure) return undefined;
  const sqlState = sqlStateOf(error);
  if (sqlState && dataErrorClasses.has(sqlState.slice(0, 2))) return 'DataError';
  if (error instanceof Error && error.name === 'TemplateError') return 'TemplateError';
  return undefined;
}

const failuresMetric = 'pledge_activity_failures_total';

/** On prom-client's default registry (the worker's process); registered once however often this module loads. */
const activityFailures =
  (register.getSingleMetric(failuresMetric) as Counter<'activity' | 'type'> | undefined) ??
  new Counter({
    name: failuresMetric,
    help: 'Activity attempts that failed, by activity and failure type (DataError and TemplateError are not retried; Transient is)',
    labelNames: ['activity', 'type'],
  });

export interface FailureContext {
  workflowId?: string;
  caseId?: string;
}

/** The case an activity works for, from its input (every Pledge activity names it one way or another), else from the activity's own info. */
export function failureContextOf(input: unknown): FailureContext {
  const fields = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const state = typeof fields.state === 'object' && fields.state !== null ? (fields.state as Record<string, unknown>) : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const workflowId = text(fields.workflowId) ?? text(fields.incidentWorkflowId) ?? text(state.workflowId) ?? asyncLocalStorage.getStore()?.info.workflowExecution?.workflowId;
  const caseId = text(fields.caseId) ?? text(state.caseId);
  return { ...(workflowId ? { workflowId } : {}), ...(caseId ? { caseId } : {}) };
}

export type FailureLog = (line: string) => void;

/**
 * Rethrows `error` as the activity's failure: non-retryable (with a log line naming the activity
 * and its case) when no retry can fix it, as it is otherwise. Counts every failure.
 */
export function toActivityFailure(activity: string, input: unknown, error: unknown, log: FailureLog = console.error): unknown {
  const type = classifyActivityError(error);
  activityFailures.inc({ activity, type: type ?? 'Transient' });
  if (!type) return error;
  const message = error instanceof Error ? error.message : String(error);
  const sqlState = sqlStateOf(error);
  log(
    JSON.stringify({
      level: 'error',
      msg: 'activity failed with a non-retryable error',
      activity,
      type,
      ...failureContextOf(input),
      ...(sqlState ? { sqlState } : {}),
      error: message,
    }),
  );
  return ApplicationFailure.create({
    message: `${activity}: ${message}`,
    type,
    nonRetryable: true,
    details: sqlState ? [{ sqlState }] : [],
    cause: error instanceof Error ? error : undefined,
  });
}

type AnyActivity = (...args: any[]) => Promise<unknown>;

/** Wraps every activity so its failures are classified (see toActivityFailure); names and signatures are kept. */
export function withFailureClassification<Activities extends Record<string, AnyActivity>>(activities: Activities, log?: FailureLog): Activities {
  const wrapped: Record<string, AnyActivity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        throw toActivityFailure(name, args[0], error, log);
      }
    };
  }
  return wrapped as Activities;
}
