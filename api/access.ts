import type { OpenAPIHono } from '@hono/zod-openapi';
import { staffRoles, type StaffRole } from '../domain/actors';
import { allowedRolesKey } from './auth';
import type { AppEnv } from './router';

// D6: who may call what. Each route names its roles once, in its own requireRole; this reads them
// back from the app's route table, so the role matrix test, the README table and /openapi.json
// (`x-pledge-roles`) all come from the one place auth itself uses.

export interface RouteAccess {
  method: string;
  /** Hono's path, e.g. /v1/cases/:caseId. */
  path: string;
  /** Staff roles let in; `public` routes take no key (health, docs, the user's tracking routes). */
  roles: readonly StaffRole[] | 'public';
}

/** Paths served without a staff key, whatever the method (DELETE on a tracking code needs one). */
const publicPath = (method: string, path: string) =>
  ['/healthz', '/readyz', '/openapi.json'].includes(path) || path.startsWith('/docs') || path.startsWith('/track/') || (path.startsWith('/v1/track/') && method !== 'DELETE');

export function routeAccess(app: OpenAPIHono<AppEnv>): RouteAccess[] {
  const byRoute = new Map<string, RouteAccess>();
  for (const route of app.routes) {
    if (route.method === 'ALL' || route.path.includes('*')) continue;
    const key = `${route.method} ${route.path}`;
    const roles = (route.handler as { [allowedRolesKey]?: StaffRole[] })[allowedRolesKey];
    const known = byRoute.get(key);
    if (roles) byRoute.set(key, { method: route.method, path: route.path, roles });
    else if (!known) byRoute.set(key, { method: route.method, path: route.path, roles: publicPath(route.method, route.path) ? 'public' : staffRoles });
  }
  return [...byRoute.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** The README's route × role table. */
export function accessTableMarkdown(access: readonly RouteAccess[]): string {
  const header = `| route | ${staffRoles.join(' | ')} |\n|---|${staffRoles.map(() => ':-:').join('|')}|`;
  const rows = access.map((route) => `| \`${route.method} ${route.path}\` | ${staffRoles.map((role) => (route.roles === 'public' ? 'public' : route.roles.includes(role) ? '✓' : '')).join(' | ')} |`);
  return [header, ...rows].join('\n');
}
