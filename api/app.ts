import { OpenAPIHono } from '@hono/zod-openapi';
import { except } from 'hono/combine';
import { bearerAuth } from './auth';
import type { ApiDeps } from './deps';
import { ApiError, handleError, rejectNulCharacters, validationHook } from './errors';
import { openApiDocument } from './openapi';
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
import { incidentRoutes } from './routes/incidents';
import { isPublicTrackingRequest, trackRoutes } from './routes/track';

/** The whole HTTP API, built from its dependencies and served by server.ts (or app.request in tests). */
export function createApp(deps: ApiDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(handleError);
  app.notFound(() => {
    throw new ApiError(404, 'not_found', 'no such route; see /docs');
  });
  // C8: users follow their case with the code from their messages, not a staff key.
  app.use('/v1/*', except(isPublicTrackingRequest, bearerAuth(deps.apiKeys)), rejectNulCharacters);
  app.use('/metrics', bearerAuth(deps.apiKeys));

  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(deps));
  app.route('/', complaintRoutes(deps));
  app.route('/', caseRoutes(deps));
  app.route('/', customerRoutes(deps));
  app.route('/', calendarRoutes(deps));
  app.route('/', staffRoutes(deps));
  app.route('/', incidentRoutes(deps));
  app.route('/', claimRoutes(deps));
  app.route('/', alertRoutes(deps));
  app.route('/', availabilityRoutes(deps));
  app.route('/', trackRoutes(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'An API key from PLEDGE_API_KEYS' });
  app.get('/openapi.json', (c) => c.json(openApiDocument(app)));
  app.route('/', docsRoutes());
  return app;
}
