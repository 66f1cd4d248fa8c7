import { createRoute, z } from '@hono/zod-openapi';
import { pingDatabase } from '../../db/health';
import type { ApiDeps } from '../deps';
import { newRouter } from '../router';

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  summary: 'The process is up',
  responses: { 200: { description: 'Up', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});

const readinessSchema = z.object({ status: z.enum(['ready', 'not-ready', 'draining']), checks: z.object({ postgres: z.string(), temporal: z.string() }) });

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['health'],
  summary: 'Postgres and Temporal both answer, and the process is not shutting down',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: readinessSchema } } },
    503: { description: 'A dependency is down, or the process is draining before it stops', content: { 'application/json': { schema: readinessSchema } } },
  },
});

async function check(probe: () => Promise<unknown>): Promise<string> {
  try {
    await Promise.race([probe(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 3 s')), 3000).unref())]);
    return 'ok';
  } catch (error) {
    return `failing: ${(error as Error).message}`;
  }
}

export function healthRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(readyz, async (c) => {
      // Shutting down: load balancers and supervisors stop sending work before the listener closes.
      if (deps.draining?.aborted) return c.json({ status: 'draining' as const, checks: { postgres: 'not checked: draining', temporal: 'not checked: draining' } }, 503);
      const [postgres, temporal] = await Promise.all([check(() => pingDatabase(deps.sql)), check(() => deps.temporal.workflowService.getSystemInfo({}))]);
      const ready = postgres === 'ok' && temporal === 'ok';
      const body = { status: ready ? ('ready' as const) : ('not-ready' as const), checks: { postgres, temporal } };
      return ready ? c.json(body, 200) : c.json(body, 503);
    });
}
