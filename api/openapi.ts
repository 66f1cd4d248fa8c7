import { z, type OpenAPIHono } from '@hono/zod-openapi';
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

/**
 * A zod regex in JSON Schema terms that every reader takes the same way: `\\d` is an ASCII digit in
 * JavaScript (which checks it) but any Unicode digit in other languages' regex engines (Python's,
 * which schemathesis and many generators use), so it is spelled `[0-9]`.
 */
export function portablePattern(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '\\') {
      const next = pattern[i + 1] ?? '';
      i++;
      out += next === 'd' ? (inClass ? '0-9' : '[0-9]') : `\\${next}`;
      continue;
    }
    if (char === '[' && !inClass) inClass = true;
    else if (char === ']' && inClass) inClass = false;
    out += char;
  }
  return out;
}

/**
 * The patterns zod checks for the string formats the API takes (z.iso.datetime({ offset: true }),
 * z.iso.date(), z.email()). A format alone says less: RFC 3339 allows a lowercase `t` and leap
 * seconds that zod refuses, and zod's e-mail check refuses RFC 5322 addresses (and takes a few it does not).
 */
const formatPatterns: Record<string, string | undefined> = {
  'date-time': z.toJSONSchema(z.iso.datetime({ offset: true })).pattern,
  date: z.toJSONSchema(z.iso.date()).pattern,
  email: z.regexes.email.source,
};

/** Keywords whose values are data, not schemas: left as they are. */
const literalKeys = new Set(['example', 'examples', 'default', 'const', 'enum']);

/** zod's integers are safe integers: `z.number().int()` refuses anything beyond ±(2^53 − 1). */
const safeIntegerBounds = { minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };

/**
 * What zod checks and its JSON Schema leaves out: every pattern made portable, every string format
 * given the pattern zod checks for it, every integer its safe range.
 */
function exactScalars(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) exactScalars(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  const types = Array.isArray(record.type) ? (record.type as unknown[]) : [record.type];
  if (types.includes('integer')) {
    if (record.minimum === undefined && record.exclusiveMinimum === undefined) record.minimum = safeIntegerBounds.minimum;
    if (record.maximum === undefined && record.exclusiveMaximum === undefined) record.maximum = safeIntegerBounds.maximum;
  }
  if (typeof record.format === 'string' && record.pattern === undefined && formatPatterns[record.format]) record.pattern = formatPatterns[record.format];
  // zod's e-mail pattern takes some addresses RFC 5322 (`format: email`) does not: the pattern alone is the truth.
  if (record.format === 'email' && record.pattern === formatPatterns.email) delete record.format;
  for (const [key, value] of Object.entries(record)) {
    if (key === 'pattern' && typeof value === 'string') record[key] = portablePattern(value);
    else if (!literalKeys.has(key)) exactScalars(value);
  }
}

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
  exactScalars(document);
  return document;
}
