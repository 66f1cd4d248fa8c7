import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { FieldIssue } from '../domain/case-actions';
import { logger } from '../observability/logger';

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_request' }),
      message: z.string(),
      fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

/** Every 4xx/5xx leaves the API in this one shape: a code, a sentence, and the fields at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly fields?: FieldIssue[],
  ) {
    super(message);
  }
}

export function fieldIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: issue.message,
  }));
}

/** The validation hook shared by every route: a 422 that names each bad field. */
export function validationHook(result: { success: boolean; target: string; error?: z.ZodError }, c: Context) {
  if (result.success || !result.error) return undefined;
  const prefix = result.target === 'json' ? undefined : result.target;
  const what = { json: 'request body', query: 'query parameters', param: 'path', header: 'headers' }[result.target] ?? result.target;
  return c.json({ error: { code: 'invalid_request', message: `invalid ${what}`, fields: fieldIssues(result.error, prefix) } }, 422);
}

/**
 * Postgres text cannot hold NUL, so a request carrying one would fail deep inside (or, passed into a
 * workflow, in every retry of its record). It is refused at the door instead.
 */
export const rejectNulCharacters = createMiddleware(async (c, next) => {
  const where = c.req.url.includes('%00') ? 'url' : c.req.header('content-type')?.includes('json') && /\\u0000/i.test(await c.req.text()) ? 'body' : undefined;
  if (where) throw new ApiError(422, 'invalid_request', 'text must not contain NUL characters', [{ field: where, message: 'contains \\u0000' }]);
  await next();
});

export function handleError(error: Error, c: Context): Response {
  if (error instanceof ApiError) {
    return c.json({ error: { code: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}) } }, error.status);
  }
  if (error instanceof HTTPException) {
    const code = error.status === 400 ? 'malformed_request' : 'http_error';
    return c.json({ error: { code, message: error.message || 'request refused' } }, error.status);
  }
  logger.error({ err: error }, 'unhandled API error');
  return c.json({ error: { code: 'internal_error', message: 'internal error; the request was not applied' } }, 500);
}

/** OpenAPI responses for these error statuses, each with the error body. */
export const errorResponses = (codes: number[]) => Object.fromEntries(codes.map((code) => [code, { description: 'Error', content: { 'application/json': { schema: errorBodySchema } } }]));
