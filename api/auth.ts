import { createHash, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { Actor, StaffRole } from '../domain/actors';
import { createAuthThrottle, TooManyFailures, type AuthThrottle } from './auth-throttle';
import { ApiError } from './errors';

export interface AuthVariables {
  actor: Actor;
  role: StaffRole;
}

/**
 * D6: `Authorization: Bearer <key>` names a role. The key's fingerprint (never the key) and an
 * optional `X-Actor-Name` make the actor recorded on every event. D9: the presented key is
 * compared with every configured key in constant time, whichever matches; a client that keeps
 * failing is slowed, then refused with 429 for a while. `apiKeys` is read at each request, so a
 * map the server reloads (rotation: old and new key both valid for a while) takes effect at once.
 */
export function bearerAuth(apiKeys: ReadonlyMap<string, StaffRole>, throttle: AuthThrottle = createAuthThrottle()) {
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    try {
      throttle.admit(c);
    } catch (error) {
      if (!(error instanceof TooManyFailures)) throw error;
      c.header('Retry-After', String(error.retryAfterSeconds));
      throw new ApiError(429, 'too_many_failed_authentications', error.message);
    }
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError(401, 'unauthenticated', 'send Authorization: Bearer <api key>');
    const role = roleOfKey(apiKeys, match[1]!);
    if (!role) {
      await throttle.failed(c);
      throw new ApiError(401, 'unauthenticated', 'the API key is not known');
    }
    const keyId = createHash('sha256').update(match[1]!).digest('hex').slice(0, 8);
    const name = c.req.header('x-actor-name')?.trim().slice(0, 80);
    c.set('role', role);
    c.set('actor', { id: name ? `${name} (key ${keyId})` : `key ${keyId}`, role });
    await next();
  });
}

/** Compares digests (equal length) with every key, never stopping early, so timing tells nothing. */
export function roleOfKey(apiKeys: ReadonlyMap<string, StaffRole>, presented: string): StaffRole | undefined {
  const digest = createHash('sha256').update(presented).digest();
  let found: StaffRole | undefined;
  for (const [key, role] of apiKeys) {
    if (timingSafeEqual(digest, createHash('sha256').update(key).digest())) found = role;
  }
  return found;
}

/** The roles a route's requireRole lets in, readable from the route table (api/access.ts). */
export const allowedRolesKey = Symbol('pledge.allowedRoles');

export function requireRole(...roles: StaffRole[]) {
  const middleware = createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    const role = c.get('role');
    if (!roles.includes(role)) throw new ApiError(403, 'forbidden', `the ${role} role may not do this; allowed: ${roles.join(', ')}`);
    await next();
  });
  return Object.assign(middleware, { [allowedRolesKey]: roles });
}
