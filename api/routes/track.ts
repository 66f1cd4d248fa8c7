import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { html, raw } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z as zod } from 'zod';
import { findRecordedCaseState } from '../../db/cases';
import { findCustomerContact } from '../../db/customers';
import { listCaseNotificationsForCustomer } from '../../db/notifications';
import { ensureTrackingCodes, findTrackingCode, revokeTrackingCode, trackingPairKey, type TrackingCode } from '../../db/tracking-codes';
import { actionTables } from '../../domain/action-tables';
import { checkAction, type ActionRule } from '../../domain/case-actions';
import type { CaseState } from '../../domain/case-state';
import { caseTypeOfCaseId } from '../../domain/case-types';
import { userClaimSchema, type UserClaim } from '../../domain/claim';
import { defaultLocale, formatDateTime, resolveLocale, type Locale } from '../../domain/notification-templates';
import { deadlineLabel, normalizeTrackingCode, statusLabel, trackedCase, trackingPageText, userNextStep, type TrackedCase } from '../../domain/tracking';
import { actionBodySchema, actionNeedsInput, actionsByName, claimActionKey, idempotencyKeyHeader } from '../actions';
import { requireRole } from '../auth';
import { actOnCase, readCaseState } from '../case-workflows';
import type { ApiDeps } from '../deps';
import { ApiError, errorResponses } from '../errors';
import { newRouter } from '../router';
import { bearer } from '../schemas';
import { openClaim } from './claims';

// C8: users follow their own case with the tracking code every message carries. The code is the
// credential: no staff key; unknown, malformed and revoked codes all get the same 404.

/** The tracking routes users call without a staff key; revoking a code (DELETE) still needs one. */
export const isPublicTrackingRequest = (c: Context) => c.req.method !== 'DELETE' && c.req.path.startsWith('/v1/track/');

const messagesShown = 200;
const notFound = () => new ApiError(404, 'not_found', 'no such tracking code');

const codeParams = z.object({
  code: z.string().openapi({ param: { name: 'code', in: 'path' }, example: '7k3m9q2x8p4w6r1t5v0z', description: 'The tracking code from a message' }),
});

const trackedCaseSchema = z
  .object({
    caseId: z.string().openapi({ example: 'CMP-2026-000042' }),
    type: z.string(),
    status: z.string(),
    nextStep: z.string().nullable(),
    expectedCompletionAt: z.string().nullable(),
    openedAt: z.string(),
    updatedAt: z.string(),
    locale: z.enum(['zh-CN', 'en']),
    deadlines: z.array(z.object({ name: z.string(), dueAt: z.string().nullable(), state: z.string() })),
    rating: z.object({ rating: z.number().int(), comment: z.string().nullable() }).nullable().openapi({ description: "The user's own rating of the outcome (C10)" }),
    messages: z
      .array(
        z.object({
          subject: z.string(),
          body: z.string(),
          queuedAt: z.string(),
          deliveries: z.array(z.object({ channel: z.string(), status: z.string().openapi({ description: 'pending, sending, sent or failed' }), sentAt: z.string().nullable() })),
        }),
      )
      .openapi({ description: 'What this customer was sent about this case, newest first' }),
    allowedActions: z.array(z.string()).openapi({ description: 'What the user may do now (POST /v1/track/{code}/actions/{action})' }),
  })
  .openapi('TrackedCase', { description: "The user's view of their case (C8): never internal notes, staff, the assignee or the case's details" });

const revokedSchema = z.object({ code: z.string(), caseId: z.string(), customerId: z.string(), createdAt: z.string(), revokedAt: z.string().nullable() }).openapi('RevokedTrackingCode');

const getTracked = createRoute({
  method: 'get',
  path: '/v1/track/{code}',
  tags: ['tracking'],
  summary: "The user's view of their case (C8), by the tracking code in their messages; no staff key",
  description:
    'Status, next step, expected completion, deadlines, the messages sent to this customer about this case, and the actions the user may take now. An unknown or revoked code is a 404, either way.',
  security: [],
  request: { params: codeParams },
  responses: { 200: { description: 'The case as the user sees it', content: { 'application/json': { schema: trackedCaseSchema } } }, ...errorResponses([404]) },
});

const revoke = createRoute({
  method: 'delete',
  path: '/v1/track/{code}',
  tags: ['tracking'],
  summary: 'Revoke a tracking code; the next message of the case to the customer carries a new one',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: { params: codeParams },
  responses: { 200: { description: 'The revoked code (revoking again changes nothing)', content: { 'application/json': { schema: revokedSchema } } }, ...errorResponses([401, 403, 404]) },
});

const customerActionRoutes = Object.entries(actionsByName((rule) => rule.roles.includes('customer'))).map(([name, rules]) =>
  createRoute({
    method: 'post',
    path: `/v1/track/{code}/actions/${name}`,
    operationId: `track_${name.replaceAll('-', '_')}`,
    tags: ['tracking'],
    summary: `The user: ${rules.map((rule) => `${rule.type}: ${rule.describe}`).join(' · ')}`,
    description: `Recorded as the customer's action (D1). ${rules.map((rule) => `${rule.type} — when ${rule.from.join(' or ')}`).join('; ')}.`,
    security: [],
    request: {
      params: codeParams,
      headers: idempotencyKeyHeader,
      body: { required: actionNeedsInput(rules), content: { 'application/json': { schema: actionBodySchema(name, rules) } } },
    },
    responses: { 200: { description: 'The case after the action, as the user sees it', content: { 'application/json': { schema: trackedCaseSchema } } }, ...errorResponses([403, 404, 409, 422, 500]) },
  }),
);

// Not in /openapi.json: every request it takes is refused (the named routes above are the user's actions).
const otherAction = createRoute({
  method: 'post',
  path: '/v1/track/{code}/actions/{action}',
  hide: true,
  tags: ['tracking'],
  summary: 'Any other action is not the user’s to take: 403',
  security: [],
  request: {
    params: codeParams.extend({
      action: z
        .string()
        .min(1)
        .max(40)
        .openapi({ param: { name: 'action', in: 'path' } }),
    }),
  },
  responses: errorResponses([403, 404]),
});

const claimFromTracking = createRoute({
  method: 'post',
  path: '/v1/track/{code}/claims',
  tags: ['tracking'],
  summary: 'The user claims compensation for the outage this code tracks (P3): a claim case of their own, with its own tracking code',
  description: "Only on an incident's code. Without an Idempotency-Key, one claim per user and outage: posting again returns the same claim. Recorded as the customer's (D1).",
  security: [],
  request: {
    params: codeParams,
    headers: idempotencyKeyHeader,
    body: { required: true, content: { 'application/json': { schema: userClaimSchema.openapi('UserClaim', { example: { reason: 'No service for a day' } }) } } },
  },
  responses: {
    201: {
      description: 'The claim as the user sees it, and the code to follow it by',
      content: { 'application/json': { schema: z.object({ trackingCode: z.string(), claim: trackedCaseSchema }).openapi('TrackedClaim') } },
    },
    ...errorResponses([404, 409, 422]),
  },
});

/** Tracking answers are private to whoever holds the code: not cached, not indexed, never sent on as a Referer. */
const privateAnswer = createMiddleware(async (c, next) => {
  await next();
  c.header('Cache-Control', 'no-store');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Robots-Tag', 'noindex, nofollow');
});

export function trackRoutes(deps: ApiDeps) {
  /**
   * The code's record, if it names a live code. Checked in Postgres (one indexed lookup) before
   * anything asks Temporal, so guessing costs the server little; malformed codes cost nothing.
   */
  async function liveCode(raw: string): Promise<TrackingCode> {
    const code = normalizeTrackingCode(raw);
    const found = code ? await findTrackingCode(deps.sql, code) : undefined;
    if (!found || found.revokedAt !== null) throw notFound();
    return found;
  }

  /** Live from the workflow, as GET /v1/cases/{id}; the read model once the workflow is gone (D2). */
  async function caseState(caseId: string): Promise<CaseState> {
    try {
      return await readCaseState(deps.temporal, caseId);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      const recorded = await findRecordedCaseState(deps.sql, caseId);
      if (!recorded) throw notFound();
      return recorded;
    }
  }

  async function view(code: TrackingCode, state?: CaseState): Promise<TrackedCase> {
    const [live, messages, contact] = await Promise.all([
      state ?? caseState(code.caseId),
      listCaseNotificationsForCustomer(deps.sql, { caseId: code.caseId, customerId: code.customerId, limit: messagesShown }),
      findCustomerContact(deps.sql, code.customerId),
    ]);
    return trackedCase(live, { messages, actions: actionTables[live.type], locale: contact?.locale ?? defaultLocale });
  }

  /** The user's action: the staff route's checks with the customer's role, recorded as the customer's (D1). */
  async function act(code: TrackingCode, action: string, input: unknown, idempotencyKey?: string): Promise<TrackedCase> {
    const table = actionTableOf(code);
    const early = checkAction(table ?? {}, { action, input, actorRole: 'customer' });
    if (!early.ok) {
      if (early.kind === 'invalid-input') throw new ApiError(422, 'invalid_request', early.message, early.fields);
      throw new ApiError(403, 'forbidden', `'${action}' is not an action you can take on this case`);
    }
    const updateId = idempotencyKey
      ? await claimActionKey(deps.sql, {
          scope: `customer-action:${code.caseId}:${code.customerId}`,
          caseId: code.caseId,
          key: idempotencyKey,
          request: { action, input: early.input },
          updateIdPrefix: `customer-idempotency:${code.customerId}:`,
        })
      : undefined;
    const after = await actOnCase(deps.temporal, code.caseId, { action, input: early.input, actor: { id: code.customerId, role: 'customer' } }, updateId);
    return view(code, after);
  }

  /** P3: the user's claim for the outage `code` tracks, under one key per user and outage unless they give their own. */
  async function claim(code: TrackingCode, input: UserClaim, idempotencyKey?: string): Promise<{ trackingCode: string; claim: TrackedCase }> {
    if (caseTypeOfCaseId(code.caseId) !== 'incident') throw new ApiError(409, 'conflict', 'compensation is claimed from the page of the outage it is for');
    const opened = await openClaim(
      deps,
      { customerId: code.customerId, incidentId: code.caseId, ...input },
      { openedBy: { id: code.customerId, role: 'customer' }, idempotencyKey: `track-claim:${code.caseId}:${code.customerId}${idempotencyKey ? `:${idempotencyKey}` : ''}` },
    );
    const pair = { caseId: opened.state.caseId, customerId: code.customerId };
    const codes = await ensureTrackingCodes(deps.sql, [pair]);
    const claimCode = codes.get(trackingPairKey(pair))!;
    return { trackingCode: claimCode, claim: await view({ ...code, code: claimCode, caseId: pair.caseId }, opened.state) };
  }

  const router = newRouter();
  router.use('/v1/track/*', privateAnswer);
  router.use('/track/*', privateAnswer);

  router
    .openapi(getTracked, async (c) => {
      const code = await liveCode(c.req.valid('param').code);
      return c.json(await view(code), 200);
    })
    .openapi(revoke, async (c) => {
      const code = normalizeTrackingCode(c.req.valid('param').code);
      const revoked = code ? await revokeTrackingCode(deps.sql, code, c.get('actor').id) : undefined;
      if (!revoked) throw notFound();
      return c.json(revoked, 200);
    });
  for (const route of customerActionRoutes) {
    const name = route.path.split('/').at(-1)!;
    router.openapi(route, async (c) => {
      const code = await liveCode(c.req.valid('param').code);
      const body = (c.req.valid('json') ?? {}) as { input?: unknown };
      return c.json(await act(code, name, body.input, c.req.valid('header')['idempotency-key']), 200);
    });
  }
  router.openapi(claimFromTracking, async (c) => {
    const code = await liveCode(c.req.valid('param').code);
    return c.json(await claim(code, c.req.valid('json'), c.req.valid('header')['idempotency-key']), 201);
  });
  // Registered after the user's actions, so only a name none of them matches lands here.
  router.openapi(otherAction, async (c) => {
    const { code, action } = c.req.valid('param');
    await liveCode(code);
    throw new ApiError(403, 'forbidden', `'${action}' is not an action you can take on this case`);
  });

  // The page users open from a message: the same view, server-rendered, in their locale, usable on a phone.
  router.get('/track/:code', async (c) => {
    const locale = pageLocale(c);
    let code: TrackingCode;
    try {
      code = await liveCode(c.req.param('code'));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return c.html(notFoundPage(locale), 404);
      throw error;
    }
    const tracked = await view(code);
    const done = c.req.query('done');
    return c.html(trackPage(tracked, { locale: pageLocale(c, tracked.locale), timeZone: deps.policies.timeZone, code: code.code, actions: actionTableOf(code), done }));
  });

  // P3: the claim form of an outage's page opens the user's claim and takes them to its own page.
  router.post('/track/:code/claim', bodyLimit({ maxSize: 32 * 1024, onError: (c) => c.text('request too large', 413) }), async (c) => {
    let code: TrackingCode;
    try {
      code = await liveCode(c.req.param('code'));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return c.html(notFoundPage(pageLocale(c)), 404);
      throw error;
    }
    const form = await c.req.parseBody();
    const langQuery = c.req.query('lang') ? `&lang=${encodeURIComponent(c.req.query('lang')!)}` : '';
    const input = userClaimSchema.safeParse({ reason: form.reason, evidence: typeof form.evidence === 'string' ? form.evidence : '' });
    try {
      if (!input.success) throw new ApiError(422, 'invalid_request', `${input.error.issues[0]?.path.join('.') || 'reason'}: ${input.error.issues[0]?.message ?? 'invalid'}`);
      const opened = await claim(code, input.data);
      return c.redirect(`../${opened.trackingCode}?done=claim${langQuery}`, 303);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status >= 500) throw error;
      const tracked = await view(code);
      const page = trackPage(tracked, { locale: pageLocale(c, tracked.locale), timeZone: deps.policies.timeZone, code: code.code, actions: actionTableOf(code), error: error.message, base: '../' });
      return c.html(page, error.status as ContentfulStatusCode);
    }
  });

  // Its forms (no JavaScript): one POST per action, then back to the page (303), or the page with the refusal.
  router.post('/track/:code/actions/:action', bodyLimit({ maxSize: 32 * 1024, onError: (c) => c.text('request too large', 413) }), async (c) => {
    const action = c.req.param('action');
    let code: TrackingCode;
    try {
      code = await liveCode(c.req.param('code'));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return c.html(notFoundPage(pageLocale(c)), 404);
      throw error;
    }
    const form = await c.req.parseBody();
    const langQuery = c.req.query('lang') ? `&lang=${encodeURIComponent(c.req.query('lang')!)}` : '';
    try {
      await act(code, action, formInput(actionTableOf(code)?.[action], form));
      // Relative, so the page also works behind a proxy that serves Pledge under a path.
      return c.redirect(`../../${code.code}?done=${encodeURIComponent(action)}${langQuery}`, 303);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status >= 500) throw error;
      const tracked = await view(code);
      const page = trackPage(tracked, { locale: pageLocale(c, tracked.locale), timeZone: deps.policies.timeZone, code: code.code, actions: actionTableOf(code), error: error.message, base: '../../' });
      return c.html(page, error.status as ContentfulStatusCode);
    }
  });
  return router;
}

function actionTableOf(code: TrackingCode) {
  const type = caseTypeOfCaseId(code.caseId);
  return type ? actionTables[type] : undefined;
}

/** `?lang=` first, then the customer's locale, then the browser's. */
function pageLocale(c: Context, customerLocale?: Locale): Locale {
  const requested = c.req.query('lang') ?? customerLocale ?? c.req.header('accept-language')?.split(',')[0];
  return requested ? resolveLocale(requested) : defaultLocale;
}

/** A form's strings as the action's input: numbers where the schema wants numbers, empty optional fields left out, no NUL characters. */
function formInput(rule: ActionRule<string> | undefined, form: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const field of rule ? formFields(rule) : []) {
    const value = form[field.name];
    if (typeof value !== 'string' || value.trim() === '') continue;
    if (value.includes('\u0000')) throw new ApiError(422, 'invalid_request', 'text must not contain NUL characters', [{ field: `input.${field.name}`, message: 'contains \\u0000' }]);
    input[field.name] = field.kind === 'number' ? Number(value) : value;
  }
  return input;
}

interface FormField {
  name: string;
  kind: 'number' | 'text' | 'choice';
  required: boolean;
  min?: number;
  max?: number;
  maxLength?: number;
  options?: string[];
}

/** The fields of an action's input, read from its zod schema (what the API checks), so every user action gets a form. */
function formFields(rule: ActionRule<string>): FormField[] {
  const schema = rule.request ?? rule.input;
  if (!(schema instanceof zod.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, zod.ZodType>).flatMap(([name, declared]): FormField[] => {
    let field: zod.ZodType = declared;
    const required = !(field instanceof zod.ZodOptional || field instanceof zod.ZodDefault);
    while (field instanceof zod.ZodOptional || field instanceof zod.ZodDefault) field = field.unwrap() as zod.ZodType;
    if (field instanceof zod.ZodNumber)
      return [{ name, kind: 'number', required, ...(field.minValue !== null ? { min: field.minValue } : {}), ...(field.maxValue !== null ? { max: field.maxValue } : {}) }];
    if (field instanceof zod.ZodString) return [{ name, kind: 'text', required, ...(field.maxLength !== null ? { maxLength: field.maxLength } : {}) }];
    if (field instanceof zod.ZodEnum) return [{ name, kind: 'choice', required, options: field.options.map(String) }];
    return [];
  });
}

const pageStyle = `
  body { font: 16px/1.5 system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0; background: #f5f6f8; color: #1d2430; }
  main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
  section { background: #fff; border-radius: 8px; padding: 1rem; margin: 0 0 1rem; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  h1 { font-size: 1.4rem; margin: .5rem 0 1rem; } h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; } dt { color: #5b6475; } dd { margin: 0; }
  .status { display: inline-block; padding: .1rem .6rem; border-radius: 999px; background: #e6f0ff; color: #0b4aa2; font-weight: 600; }
  table { width: 100%; border-collapse: collapse; } td { padding: .3rem .5rem .3rem 0; border-top: 1px solid #eceef2; vertical-align: top; } td:first-child, td:last-child { white-space: nowrap; }
  .state-breached { color: #b42318; } .state-met { color: #067647; }
  article { border-top: 1px solid #eceef2; padding: .75rem 0; } article:first-of-type { border-top: 0; }
  article h3 { font-size: 1rem; margin: 0; } .meta { color: #5b6475; font-size: .85rem; } .body { white-space: pre-wrap; overflow-wrap: anywhere; }
  form { border-top: 1px solid #eceef2; padding: .75rem 0; } form:first-of-type { border-top: 0; }
  label { display: block; margin: .4rem 0 .2rem; } textarea, select { width: 100%; box-sizing: border-box; font: inherit; padding: .4rem; }
  fieldset { border: 0; padding: 0; margin: 0; } .stars label { display: inline-block; margin-right: .8rem; }
  button { margin-top: .5rem; font: inherit; padding: .5rem 1.2rem; border: 0; border-radius: 6px; background: #0b4aa2; color: #fff; }
  .notice { background: #ecfdf3; color: #067647; } .error { background: #fef3f2; color: #b42318; }
  nav { text-align: right; font-size: .9rem; }`;

/** `base` makes the page's relative links resolve under /track/ from wherever it is served (the page itself, or a refused form's POST). */
function layout(locale: Locale, title: string, content: unknown, base = './') {
  return html`<!doctype html>
    <html lang="${locale}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <meta name="referrer" content="no-referrer" />
        <base href="${base}" />
        <title>${title}</title>
        <style>
          ${raw(pageStyle)}
        </style>
      </head>
      <body>
        <main>${content}</main>
      </body>
    </html>`;
}

function notFoundPage(locale: Locale) {
  const other: Locale = locale === 'en' ? 'zh-CN' : 'en';
  return layout(
    locale,
    trackingPageText[locale].title,
    html`<h1>${trackingPageText[locale].title}</h1>
      <section>
        <p>${trackingPageText[locale].notFound}</p>
        <p lang="${other}">${trackingPageText[other].notFound}</p>
      </section>`,
  );
}

function trackPage(
  tracked: TrackedCase,
  options: { locale: Locale; timeZone: string; code: string; actions: Record<string, ActionRule<string>> | undefined; done?: string | undefined; error?: string; base?: string },
) {
  const { locale, timeZone, code } = options;
  const text = trackingPageText[locale];
  const when = (iso: string | null) => (iso ? formatDateTime(iso, locale, timeZone) : '—');
  const other: Locale = locale === 'en' ? 'zh-CN' : 'en';
  const nextStep = userNextStep(tracked, locale);
  const deadlines = tracked.deadlines.filter((deadline) => deadline.state !== 'cancelled');
  const forms = tracked.allowedActions.flatMap((action) => {
    const rule = options.actions?.[action];
    if (!rule) return [];
    const fields = formFields(rule);
    return [
      html`<form method="post" action="${code}/actions/${action}?lang=${locale}">
        <h2>${text.actionNames[action] ?? action}</h2>
        ${fields.map((field) => formField(field, text))}
        <button type="submit">${text.submit}</button>
      </form>`,
    ];
  });
  return layout(
    locale,
    `${text.title} · ${tracked.caseId}`,
    html`<nav><a href="${code}?lang=${other}">${other === 'en' ? 'English' : '中文'}</a></nav>
      <h1>${text.types[tracked.type] ?? tracked.type} ${tracked.caseId}</h1>
      ${options.done ? html`<section class="notice" role="status">${text.done}</section>` : ''} ${options.error ? html`<section class="error" role="alert">${options.error}</section>` : ''}
      <section>
        <dl>
          <dt>${text.status}</dt>
          <dd><span class="status" data-status="${tracked.status}">${statusLabel(tracked.type, tracked.status, locale)}</span></dd>
          ${
            nextStep
              ? html`<dt>${text.nextStep}</dt>
                  <dd>${nextStep}</dd>`
              : ''
          }
          ${
            tracked.expectedCompletionAt
              ? html`<dt>${text.expectedCompletion}</dt>
                  <dd>${when(tracked.expectedCompletionAt)}</dd>`
              : ''
          }
          ${
            tracked.rating
              ? html`<dt>${text.yourRating}</dt>
                  <dd>${'★'.repeat(tracked.rating.rating)}${'☆'.repeat(Math.max(0, 5 - tracked.rating.rating))}${tracked.rating.comment ? html` — ${tracked.rating.comment}` : ''}</dd>`
              : ''
          }
        </dl>
      </section>
      ${
        deadlines.length
          ? html`<section>
              <h2>${text.deadlines}</h2>
              <table>
                ${deadlines.map(
                  (deadline) =>
                    html`<tr>
                      <td>${deadlineLabel(deadline.name, locale)}</td>
                      <td>${when(deadline.dueAt)}</td>
                      <td class="state-${deadline.state}">${text.deadlineStates[deadline.state] ?? deadline.state}</td>
                    </tr>`,
                )}
              </table>
            </section>`
          : ''
      }
      ${
        forms.length
          ? html`<section>
              <h2>${text.actions}</h2>
              ${forms}
            </section>`
          : ''
      }
      ${
        tracked.type === 'incident'
          ? html`<section>
              <form method="post" action="${code}/claim?lang=${locale}">
                <h2>${text.claim.title}</h2>
                <p>${text.claim.intro}</p>
                <label for="claim-reason">${text.claim.reason}</label>
                <textarea id="claim-reason" name="reason" required maxlength="2000" rows="3"></textarea>
                <label for="claim-evidence">${text.claim.evidence}</label>
                <textarea id="claim-evidence" name="evidence" maxlength="5000" rows="3"></textarea>
                <button type="submit">${text.claim.submit}</button>
              </form>
            </section>`
          : ''
      }
      <section>
        <h2>${text.messages}</h2>
        ${
          tracked.messages.length
            ? tracked.messages.map(
                (message) =>
                  html`<article>
                    <h3>${message.subject}</h3>
                    <div class="meta">
                      ${when(message.queuedAt)} · ${text.via}:
                      ${message.deliveries.map((delivery) => `${text.channels[delivery.channel] ?? delivery.channel} (${text.deliveryStates[delivery.status] ?? delivery.status})`).join(', ')}
                    </div>
                    <div class="body">${message.body}</div>
                  </article>`,
              )
            : html`<p>${text.noMessages}</p>`
        }
      </section>`,
    options.base,
  );
}

function formField(field: FormField, text: (typeof trackingPageText)[Locale]) {
  const label = `${text.fields[field.name] ?? field.name}${field.required ? '' : text.optional}`;
  if (field.kind === 'number' && field.min !== undefined && field.max !== undefined && field.max - field.min <= 10) {
    const values = Array.from({ length: field.max - field.min + 1 }, (_, index) => field.max! - index);
    return html`<fieldset class="stars">
      <legend>${label}</legend>
      ${values.map((value) => html`<label><input type="radio" name="${field.name}" value="${value}" ${field.required ? 'required' : ''} /> ${value}</label>`)}
    </fieldset>`;
  }
  if (field.kind === 'number') return html`<label>${label}<input type="number" name="${field.name}" ${field.required ? 'required' : ''} /></label>`;
  if (field.kind === 'choice') {
    return html`<label
      >${label}<select name="${field.name}" ${field.required ? 'required' : ''}>
        ${(field.options ?? []).map((option) => html`<option>${option}</option>`)}
      </select></label
    >`;
  }
  return html`<label for="f-${field.name}">${label}</label
    ><textarea id="f-${field.name}" name="${field.name}" rows="3" ${field.maxLength ? html`maxlength="${field.maxLength}"` : ''} ${field.required ? 'required' : ''}></textarea>`;
}
