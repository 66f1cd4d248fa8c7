import { asyncLocalStorage, Context } from '@temporalio/activity';

/**
 * Runs `work`, heartbeating every `everyMs` while it runs, so that an activity whose worker dies
 * (SIGKILL, a crash) is retried once its heartbeat timeout passes rather than its whole
 * start-to-close timeout (minutes for an export). A plain call outside an activity (tests).
 */
export async function whileHeartbeating<T>(work: () => Promise<T>, everyMs = 5_000): Promise<T> {
  if (!asyncLocalStorage.getStore()) return work();
  const context = Context.current();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
