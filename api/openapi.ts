import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './router';

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

/**
 * The answers every route can give besides its own, documented once: malformed JSON and invalid
 * fields on any route with input, missing or insufficient credentials on every authenticated one.
 */
const commonErrors = {
  400: errorResponse('Malformed request (e.g. the body is not JSON)'),
  401: errorResponse('Missing or unknown API key'),
  403: errorResponse('The API key’s role may not do this'),
  413: errorResponse('The body is over 256 KiB'),
  422: errorResponse('Invalid field; `fields` names each one'),
  429: {
    ...errorResponse('Too many failed authentications from this client: refused for a while'),
    headers: { 'Retry-After': { description: 'Seconds until the client may try again', schema: { type: 'integer' } } },
  },
} as const;

type Operation = { responses?: Record<string, unknown>; security?: unknown[]; parameters?: unknown[]; requestBody?: unknown };

/** The OpenAPI 3.1 document of the app, with the common error answers added to each operation. */
export function openApiDocument(app: OpenAPIHono<AppEnv>) {
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'Pledge API', version: '0.1.0', description: "Cases that keep an ISP's written promises: complaints, incidents, compensation and more." },
  });
  for (const pathItem of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(pathItem as Record<string, Operation>)) {
      if (!operation || typeof operation !== 'object' || !operation.responses) continue;
      const takesInput = Boolean(operation.requestBody) || (operation.parameters?.length ?? 0) > 0;
      const authenticated = (operation.security?.length ?? 0) > 0;
      const applicable = {
        ...(takesInput ? { 400: commonErrors[400], 422: commonErrors[422] } : {}),
        ...(operation.requestBody ? { 413: commonErrors[413] } : {}),
        ...(authenticated ? { 401: commonErrors[401], 403: commonErrors[403], 429: commonErrors[429] } : {}),
      };
      operation.responses = { ...applicable, ...operation.responses };
    }
  }
  return document;
}
