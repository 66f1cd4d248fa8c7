import { OpenAPIHono } from '@hono/zod-openapi';
import { except } from 'hono/combine';
import { bodyLimit } from 'hono/body-limit';
import { bearerAuth } from './auth';
import { createAuthThrottle } from './auth-throttle';
import type { ApiDeps } from './deps';
import { ApiError, handleError, rejectNulCharacters, validationHook } from './errors';
import { openApiDocument } from './openapi';
import { requestLog } from './request-log';
import type { AppEnv } from './router';
import { alertRoutes } from './routes/alerts';
import { availabilityRoutes } from './routes/availability';
import { calendarRoutes } from './routes/calendar';
import { caseRoutes } from './routes/cases';
import { complaintRoutes } from './routes/complaints';
import { customerRoutes } from './routes/customers';
import { docsRoutes } from './routes/docs';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';
import { staffRoutes } from './routes/staff';
import { claimRoutes } from './routes/claims';
import { codecRoutes } from './routes/codec';
import { reportRoutes } from './routes/reports';
import { incidentRoutes } from './routes/incidents';
import { renewalRoutes } from './routes/renewals';
import { serviceChangeRoutes } from './routes/service-changes';
import { isPublicTrackingRequest, trackRoutes } from './routes/track';
import { terminationRoutes, terminationTrackingRoutes } from './routes/terminations';
import { dataRequestRoutes, dataRequestTrackingRoutes } from './routes/data-requests';
import { privacyRoutes } from './routes/privacy';

const maxBodyBytes = 256 * 1024;

/** The methods routes declare for a concrete path (ignoring catch-all middleware). */
function allowedMethods(app: OpenAPIHono<AppEnv>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === 'ALL' || route.path.includes('*')) continue;
    const pattern = new RegExp(`^${route.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}$`);
    if (pattern.test(path)) methods.add(route.method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/** The whole HTTP API, built from its dependencies and served by server.ts (or app.request in tests). */
export function createApp(deps: ApiDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(handleError);
  app.notFound((c) => {
    // An existing path asked with a method it does not have is a 405 naming the ones it has.
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length > 0) {
      c.header('Allow', allowed.join(', '));
      throw new ApiError(405, 'method_not_allowed', `${c.req.method} is not allowed here; allowed: ${allowed.join(', ')}`);
    }
    throw new ApiError(404, 'not_found', 'no such route; see /docs');
  });
  app.use('*', requestLog(deps.logger));
  // D9: bodies are bounded before anything reads them.
  // Alert webhooks carry whole batches and have their own, larger bound (api/routes/alerts.ts).
  app.use(
    '*',
    except(
      (c) => c.req.path.startsWith('/v1/alerts/'),
      bodyLimit({
        maxSize: maxBodyBytes,
        onError: () => {
          throw new ApiError(413, 'payload_too_large', `request bodies are limited to ${maxBodyBytes / 1024} KiB`);
        },
      }),
    ),
  );
  // C8: users follow their case with the code from their messages, not a staff key.
  const auth = bearerAuth(deps.apiKeys, createAuthThrottle(deps.authThrottle));
  app.use('/v1/*', except(isPublicTrackingRequest, auth), rejectNulCharacters);
  app.use('/metrics', auth);

  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(deps));
  app.route('/', complaintRoutes(deps));
  app.route('/', caseRoutes(deps));
  app.route('/', customerRoutes(deps));
  app.route('/', calendarRoutes(deps));
  app.route('/', staffRoutes(deps));
  app.route('/', incidentRoutes(deps));
  app.route('/', claimRoutes(deps));
  app.route('/', serviceChangeRoutes(deps));
  app.route('/', renewalRoutes(deps));
  app.route('/', alertRoutes(deps));
  app.route('/', availabilityRoutes(deps));
  app.route('/', terminationRoutes(deps));
  app.route('/', dataRequestRoutes(deps));
  app.route('/', privacyRoutes(deps));
  // Before the termination's: a data request's export by its tracking code; other codes pass on.
  app.route('/', dataRequestTrackingRoutes(deps));
  app.route('/', terminationTrackingRoutes(deps));
  app.route('/', trackRoutes(deps));
  app.route('/', codecRoutes(deps));
  app.route('/', reportRoutes(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'An API key from PLEDGE_API_KEYS' });
  app.get('/openapi.json', (c) => c.json(openApiDocument(app)));
  app.route('/', docsRoutes());
  return app;
}
