import { createRoute, z } from '@hono/zod-openapi';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import { payloadCodecFromEnv } from '../../codec/data-converter';
import { customerPseudonym } from '../../codec/pseudonym';
import type { StaffRole } from '../../domain/actors';
import { bearerAuth, requireRole, roleOfKey, type AuthVariables } from '../auth';
import { createAuthThrottle, TooManyFailures, type AuthThrottle } from '../auth-throttle';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { newRouter, type AppEnv } from '../router';
import { bearer } from '../schemas';

// D5: the Temporal UI's remote codec (the codec server protocol: POST <endpoint>/decode and
// /encode with {"payloads":[{"metadata":{…base64},"data":"base64"}]}), so staff read decrypted
// payloads in the UI while Temporal stores only ciphertext. Staff keys only; the browser proves it
// with an HttpOnly cookie set by /codec/session, sent when the UI includes cross-origin credentials.

const staff: StaffRole[] = ['agent', 'supervisor', 'auditor'];
const sessionCookie = 'pledge_codec_session';
const sessionSeconds = 8 * 3600;

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64');
const jsonPayloadSchema = z
  .object({
    metadata: z
      .record(z.string(), base64)
      .nullish()
      .openapi({ description: 'Metadata values, base64', example: { encoding: 'YmluYXJ5L2VuY3J5cHRlZA==' } }),
    data: base64.nullish().openapi({ description: 'The payload bytes, base64' }),
  })
  .openapi('CodecPayload');
const payloadsSchema = z.object({ payloads: z.array(jsonPayloadSchema).max(1000) }).openapi('CodecPayloads');
type JsonPayload = z.infer<typeof jsonPayloadSchema>;

/** The UI origins allowed to call the codec: PLEDGE_CODEC_CORS_ORIGIN, else the local dev UI on PLEDGE_TEMPORAL_UI_PORT (8233). */
export function codecCorsOrigins(source: NodeJS.ProcessEnv = process.env): string[] {
  const configured = source.PLEDGE_CODEC_CORS_ORIGIN?.split(',').map((origin) => origin.trim().replace(/\/$/, ''));
  if (configured?.some(Boolean)) return configured.filter(Boolean);
  const uiPort = source.PLEDGE_TEMPORAL_UI_PORT ?? '8233';
  return [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`];
}

const codecRoute = (operation: 'decode' | 'encode', auth: ReturnType<typeof codecAuth>) =>
  createRoute({
    method: 'post',
    path: `/codec/${operation}`,
    tags: ['temporal'],
    summary: operation === 'decode' ? 'D5: decrypt Temporal payloads for the Temporal UI (remote codec)' : 'D5: encrypt payloads the Temporal UI sends (signals, resets)',
    description: 'The Temporal codec server protocol. A staff key as `Authorization: Bearer`, or the cookie `/codec/session` sets. CORS for PLEDGE_CODEC_CORS_ORIGIN.',
    security: bearer,
    middleware: [auth, requireRole(...staff)] as const,
    request: { body: { required: true, content: { 'application/json': { schema: payloadsSchema } } } },
    responses: {
      200: { description: 'The same payloads, converted in order', content: { 'application/json': { schema: payloadsSchema } } },
      401: { description: 'No staff key', content: { 'application/json': { schema: errorBodySchema } } },
      422: { description: 'A payload could not be converted (unknown key id, altered data)', content: { 'application/json': { schema: errorBodySchema } } },
    },
  });

const temporalSearch = createRoute({
  method: 'get',
  path: '/v1/customers/{id}/temporal-search',
  tags: ['customers', 'temporal'],
  summary: "D5: how to find a customer's cases in the Temporal UI (CustomerId holds a pseudonym)",
  security: bearer,
  middleware: [requireRole(...staff)] as const,
  request: {
    params: z.object({
      id: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/)
        .openapi({ param: { name: 'id', in: 'path' }, example: 'cust-000001' }),
    }),
  },
  responses: {
    200: {
      description: 'The pseudonym and the visibility query',
      content: {
        'application/json': {
          schema: z.object({ customerId: z.string(), searchAttribute: z.literal('CustomerId'), value: z.string().openapi({ example: 'c_3f9a0c1e5b7d2a64' }), query: z.string() }),
        },
      },
    },
  },
});

export function codecRoutes(deps: ApiDeps) {
  const codec: PayloadCodec = deps.payloadCodec ?? payloadCodecFromEnv();
  const origins = deps.codecCorsOrigins ?? codecCorsOrigins();
  const throttle = createAuthThrottle(deps.authThrottle);
  const router = newRouter();
  router.use(
    '/codec/*',
    cors({
      origin: (origin) => (origins.includes(origin) ? origin : null),
      allowMethods: ['POST', 'GET'],
      allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
      credentials: true,
      maxAge: 600,
    }),
  );

  for (const operation of ['decode', 'encode'] as const) {
    router.openapi(codecRoute(operation, codecAuth(deps.apiKeys, throttle)), async (c) => {
      const { payloads } = c.req.valid('json');
      let converted: Payload[];
      try {
        converted = await codec[operation](payloads.map(fromJson));
      } catch (error) {
        throw new ApiError(422, 'payload_not_converted', (error as Error).message);
      }
      return c.json({ payloads: converted.map(toJson) }, 200);
    });
  }

  // A browser signs in once with a staff key (the form, or a Bearer header); the cookie then rides on the UI's codec calls.
  const sessionPage = (c: Context<AppEnv>) => c.html(signedInPage(c.get('role'), new URL(c.req.url).origin));
  router.get('/codec/session', codecAuth(deps.apiKeys, throttle), requireRole(...staff), sessionPage);
  router.post('/codec/session', codecAuth(deps.apiKeys, throttle, { fromForm: true }), requireRole(...staff), (c) => {
    const key = presentedKeys.get(c.req.raw);
    if (key) setCookie(c, sessionCookie, key, { httpOnly: true, sameSite: 'Strict', path: '/codec', maxAge: sessionSeconds, secure: servedOverHttps(c) });
    return sessionPage(c);
  });

  router.openapi(temporalSearch, (c) => {
    const { id } = c.req.valid('param');
    const value = customerPseudonym(id);
    return c.json({ customerId: id, searchAttribute: 'CustomerId' as const, value, query: `CustomerId = '${value}'` }, 200);
  });
  return router;
}

/** The key each authenticated codec request presented, for the sign-in's cookie. */
const presentedKeys = new WeakMap<Request, string>();

/**
 * The staff key of a codec call: `Authorization: Bearer` (scripts, a UI passing a token) goes
 * through the API's own bearerAuth; otherwise the session cookie, or on sign-in the form's `key`.
 * A browser with neither gets the sign-in form with its 401.
 */
function codecAuth(apiKeys: ReadonlyMap<string, StaffRole>, throttle: AuthThrottle, options: { fromForm?: boolean } = {}) {
  const byHeader = bearerAuth(apiKeys, throttle);
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    const headerKey = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (headerKey) {
      presentedKeys.set(c.req.raw, headerKey);
      return byHeader(c, next);
    }
    const key = (options.fromForm ? await keyFromForm(c) : undefined) ?? getCookie(c, sessionCookie);
    if (key === undefined) return wantsHtml(c) ? c.html(signInPage('Sign in with your staff key to let the Temporal UI decode payloads.'), 401) : byHeader(c, next);
    try {
      throttle.admit(c);
    } catch (error) {
      if (!(error instanceof TooManyFailures)) throw error;
      c.header('Retry-After', String(error.retryAfterSeconds));
      throw new ApiError(429, 'too_many_failed_authentications', error.message);
    }
    const role = roleOfKey(apiKeys, key);
    if (!role) {
      await throttle.failed(c);
      if (wantsHtml(c)) return c.html(signInPage('That key is not known (or it was revoked). Try again.'), 401);
      throw new ApiError(401, 'unauthenticated', 'the codec session or key is not known; sign in again at /codec/session');
    }
    presentedKeys.set(c.req.raw, key);
    c.set('role', role);
    c.set('actor', { id: 'codec session', role });
    await next();
  });
}

async function keyFromForm(c: Context): Promise<string | undefined> {
  if (!c.req.header('content-type')?.includes('application/x-www-form-urlencoded')) return undefined;
  const key = (await c.req.parseBody())['key'];
  return typeof key === 'string' && key.trim() ? key.trim() : undefined;
}

const wantsHtml = (c: Context) => c.req.header('accept')?.includes('text/html') ?? false;
const servedOverHttps = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function fromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: metadata ? Object.fromEntries(Object.entries(metadata).map(([name, value]) => [name, Buffer.from(value, 'base64')])) : undefined,
    data: data ? Buffer.from(data, 'base64') : undefined,
  };
}

function toJson({ metadata, data }: Payload): JsonPayload {
  return {
    metadata: metadata ? Object.fromEntries(Object.entries(metadata).map(([name, value]) => [name, Buffer.from(value).toString('base64')])) : undefined,
    data: data ? Buffer.from(data).toString('base64') : undefined,
  };
}

function signInPage(message: string): string {
  return page(
    'Temporal payload decoding',
    `<p>${message}</p>
<form method="post" action="/codec/session"><label>Staff key (agent, supervisor or auditor) <input type="password" name="key" autocomplete="off" required></label> <button>Sign in</button></form>`,
  );
}

function signedInPage(role: StaffRole, origin: string): string {
  return page(
    'Temporal payload decoding is on',
    `<p>This browser may decode Temporal payloads as <b>${role}</b> for ${sessionSeconds / 3600} hours.</p>
<p>In the Temporal UI open <i>Codec Server</i> (the data encoder icon in the top bar), set the endpoint to <code>${escapeHtml(origin)}/codec</code>, tick
<i>Include cross-origin credentials</i> and use your browser setting. Payloads then show decrypted; Temporal itself stores ciphertext only.</p>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto"><h1>${title}</h1>${body}</body></html>`;
}
