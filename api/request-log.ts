import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { Histogram } from 'prom-client';
import { matchedRoutes } from 'hono/route';
import { caseTypeOfCaseId, caseWorkflowId } from '../domain/case-types';
import { logger as processLogger, requestContext, type Logger, type RequestContext } from '../observability/logger';
import type { AppEnv } from './router';

/** A caller's id is kept when it looks like one (a UUID, a trace id); anything else is replaced. */
const acceptableRequestId = /^[\w.:-]{1,128}$/;
/** Probes arrive every few seconds from supervisors and load balancers: logged at debug only. */
const probePaths = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One JSON line per request: method, the route's pattern (never the raw path or query, which can
 * hold customer ids and tracking codes), status, duration, the request id (the caller's
 * `X-Request-Id` or a new one, echoed back) and the case and workflow when the route has one.
 * Nothing from headers or bodies: keys, tokens and personal data stay out of the logs.
 */
/** Metrics: request latency by route pattern, method and status class, registered by /metrics. */
export const requestDuration = new Histogram({
  name: 'pledge_api_request_duration_seconds',
  help: 'API request latency by route pattern, method and status class',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [],
});

export function requestLog(log: Logger = processLogger) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    const presented = c.req.header('x-request-id');
    const context: RequestContext = { requestId: presented && acceptableRequestId.test(presented) ? presented : randomUUID() };
    try {
      await requestContext.run(context, next);
    } finally {
      c.header('X-Request-Id', context.requestId);
      const route = handledRoute(c);
      // A case number from the path is logged only when it is one (CMP-2026-000042), not whatever a client sent.
      const candidate = context.caseId ?? (route ? caseIdInPath(route, c.req.path) : undefined);
      const caseType = candidate ? caseTypeOfCaseId(candidate) : undefined;
      const caseId = context.caseId ?? (caseType ? candidate : undefined);
      const workflowId = context.workflowId ?? (caseId && caseType ? caseWorkflowId(caseType, caseId) : undefined);
      const status = c.res.status;
      requestDuration.observe({ method: c.req.method, route: route ?? 'unmatched', status: `${Math.floor(status / 100)}xx` }, (performance.now() - started) / 1000);
      const level = status >= 500 ? 'error' : probePaths.has(c.req.path) ? 'debug' : 'info';
      log[level](
        {
          requestId: context.requestId,
          method: c.req.method,
          path: route ?? unmatchedPath(c.req.path),
          status,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          ...(caseId ? { caseId } : {}),
          ...(workflowId ? { workflowId } : {}),
          ...(c.get('role') ? { role: c.get('role') } : {}),
        },
        'request',
      );
    }
  });
}

/** The pattern of the route that answered (`/v1/cases/:caseId`), not the middleware around it. */
function handledRoute(c: Context): string | undefined {
  const handlers = matchedRoutes(c).filter((route) => route.method !== 'ALL');
  return handlers[handlers.length - 1]?.path;
}

/**
 * The `:caseId` segment, read from the path by the route's pattern: the route's own parameters are
 * not parsed when a middleware (auth, body limit) answered before it.
 */
function caseIdInPath(route: string, path: string): string | undefined {
  const at = route.split('/').indexOf(':caseId');
  const segment = at < 0 ? undefined : path.split('/')[at];
  try {
    return segment ? decodeURIComponent(segment) : undefined;
  } catch {
    return undefined;
  }
}

/** A path no route matched: its first two segments only, since the rest may be anything a client sent. */
function unmatchedPath(path: string): string {
  const segments = path.split('/').filter(Boolean);
  return `/${segments.slice(0, 2).join('/')}${segments.length > 2 ? '/…' : ''}`;
}
