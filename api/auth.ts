import { createHash } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { Actor, StaffRole } from '../domain/actors';
import { ApiError } from './errors';

export interface AuthVariables {
  actor: Actor;
  role: StaffRole;
}

/**
 * D6: `Authorization: Bearer <key>` names a role. The key's fingerprint (never the key) and an
 * optional `X-Actor-Name` make the actor recorded on every event.
 */
export function bearerAuth(apiKeys: ReadonlyMap<string, StaffRole>) {
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError(401, 'unauthenticated', 'send Authorization: Bearer <api key>');
    const role = apiKeys.get(match[1]!);
    if (!role) throw new ApiError(401, 'unauthenticated', 'the API key is not known');
    const keyId = createHash('sha256').update(match[1]!).digest('hex').slice(0, 8);
    const name = c.req.header('x-actor-name')?.trim().slice(0, 80);
    c.set('role', role);
    c.set('actor', { id: name ? `${name} (key ${keyId})` : `key ${keyId}`, role });
    await next();
  });
}

export function requireRole(...roles: StaffRole[]) {
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    const role = c.get('role');
    if (!roles.includes(role)) throw new ApiError(403, 'forbidden', `the ${role} role may not do this; allowed: ${roles.join(', ')}`);
    await next();
  });
}
