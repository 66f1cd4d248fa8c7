import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Counter, Gauge } from 'prom-client';

// D9: a client that keeps failing to authenticate is slowed, then refused for a while, so keys
// cannot be guessed at line speed. Counted per client address, in this process's memory.

export interface AuthThrottleOptions {
  /** Failures within `windowMs` before responses to the client are slowed. */
  slowAfter?: number;
  /** Failures within `windowMs` before the client is refused outright for `blockMs`. */
  blockAfter?: number;
  windowMs?: number;
  blockMs?: number;
  /** The longest a failed attempt is held before its 401. */
  maxDelayMs?: number;
  log?: (fields: object, message: string) => void;
}

export const authFailures = new Counter({
  name: 'pledge_auth_failures_total',
  help: 'D9: failed authentications by outcome (rejected: a plain 401; slowed: a 401 held back; blocked: a 429)',
  labelNames: ['outcome'],
  registers: [],
});

export const blockedClients = new Gauge({ name: 'pledge_auth_blocked_clients', help: 'D9: clients refused for repeated failed authentication right now', registers: [] });

interface ClientRecord {
  failures: number[];
  blockedUntilMs: number;
}

export interface AuthThrottle {
  /** Refuses (429) a client that is blocked; call before checking its key. */
  admit(c: Context): void;
  /** A failed attempt: recorded, slowed once there were many, and may start a block. */
  failed(c: Context): Promise<void>;
}

export class TooManyFailures extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed authentications from this client; retry after ${retryAfterSeconds} s`);
  }
}

/**
 * A positive whole number from the environment, or `fallback`. PLEDGE_AUTH_SLOW_AFTER and
 * PLEDGE_AUTH_BLOCK_AFTER exist for tools that fail authentication on purpose, such as the API
 * fuzz run (scripts/fuzz-api.sh); deployments keep the defaults.
 */
function countFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, not '${raw}'`);
  return value;
}

export function createAuthThrottle(options: AuthThrottleOptions = {}): AuthThrottle {
  const slowAfter = options.slowAfter ?? countFromEnv('PLEDGE_AUTH_SLOW_AFTER', 5);
  const blockAfter = options.blockAfter ?? countFromEnv('PLEDGE_AUTH_BLOCK_AFTER', 20);
  const windowMs = options.windowMs ?? 60_000;
  const blockMs = options.blockMs ?? 5 * 60_000;
  const maxDelayMs = options.maxDelayMs ?? 2_000;
  const log = options.log ?? ((fields, message) => console.warn(JSON.stringify({ level: 'warn', message, ...fields })));
  const clients = new Map<string, ClientRecord>();

  function countBlocked(nowMs: number): void {
    let blocked = 0;
    for (const [client, record] of clients) {
      if (record.blockedUntilMs > nowMs) blocked++;
      else if (record.failures.every((atMs) => atMs <= nowMs - windowMs)) clients.delete(client);
    }
    blockedClients.set(blocked);
  }

  return {
    admit(c) {
      const record = clients.get(clientOf(c));
      const nowMs = Date.now();
      if (record && record.blockedUntilMs > nowMs) {
        authFailures.inc({ outcome: 'blocked' });
        throw new TooManyFailures(Math.ceil((record.blockedUntilMs - nowMs) / 1000));
      }
    },

    async failed(c) {
      const client = clientOf(c);
      const nowMs = Date.now();
      const record = clients.get(client) ?? { failures: [], blockedUntilMs: 0 };
      record.failures = [...record.failures.filter((atMs) => atMs > nowMs - windowMs), nowMs];
      clients.set(client, record);
      const count = record.failures.length;
      if (count >= blockAfter) {
        record.blockedUntilMs = nowMs + blockMs;
        record.failures = [];
        log({ client, failures: count, blockedForSeconds: blockMs / 1000 }, 'client blocked after repeated failed authentication');
      }
      countBlocked(nowMs);
      if (count > slowAfter) {
        authFailures.inc({ outcome: 'slowed' });
        await new Promise((resolve) => setTimeout(resolve, Math.min(maxDelayMs, 100 * 2 ** (count - slowAfter - 1))));
      } else {
        authFailures.inc({ outcome: 'rejected' });
      }
    },
  };
}

/** The peer's address; behind a proxy every client shares it unless PLEDGE_TRUST_PROXY lets X-Forwarded-For name them. */
function clientOf(c: Context): string {
  if (process.env.PLEDGE_TRUST_PROXY === 'true') {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // app.request() in tests has no socket.
    return 'local';
  }
}
