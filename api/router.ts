import { OpenAPIHono } from '@hono/zod-openapi';
import type { AuthVariables } from './auth';
import { validationHook } from './errors';

export type AppEnv = { Variables: AuthVariables };

/** Every resource's routes are a small app of this kind, joined in app.ts. */
export function newRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
