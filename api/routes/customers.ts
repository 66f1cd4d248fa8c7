import { createRoute, z } from '@hono/zod-openapi';
import { customerExists, findCustomer, upsertCustomer } from '../../db/customers';
import { findCustomerStanding } from '../../db/customer-lifecycle';
import { ledgerOfCustomer } from '../../db/ledger';
import { listCustomerNotifications } from '../../db/notifications';
import { customerChannels, hasConsent, recordConsents } from '../../domain/channels';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { newRouter } from '../router';
import { bearer } from '../schemas';
import { nonBlank } from '../../domain/case-actions';

const customerIdParams = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash and underscore, at most 64')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'cust-000001' }),
});

const hhmm = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'local time as HH:MM');

const consentInputSchema = z
  .object({
    granted: z.boolean(),
    source: z.string().trim().min(1).meta(nonBlank).max(200).openapi({ description: 'Where the customer gave or withdrew it', example: 'signup form v3' }),
  })
  .openapi('ChannelConsentInput');

/** What Intl knows as IANA zones, as /openapi.json lists them (Intl also takes aliases and any letter case). */
const timeZones = [...new Set([...Intl.supportedValuesOf('timeZone'), 'UTC'])].sort();

const isTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

// D4: only what cases need: how to reach the customer, on which channels with their consent, and
// what they are subscribed to.
const customerBodySchema = z
  .object({
    name: z.string().trim().min(1).meta(nonBlank).max(200),
    email: z.email().nullable().optional(),
    phone: z
      .string()
      .regex(/^\+[1-9][0-9]{6,14}$/, 'E.164, e.g. +8613800138000')
      .nullable()
      .optional(),
    channels: z
      .array(z.enum(customerChannels))
      .min(1)
      .max(customerChannels.length)
      .refine((channels) => new Set(channels).size === channels.length, 'each channel at most once')
      .meta({ uniqueItems: true })
      .default(['inbox'])
      .openapi({ description: 'Preferred channels, first choice first; the later ones are fallbacks. The in-app inbox always gets a copy.' }),
    consents: z
      .object({ sms: consentInputSchema.optional(), email: consentInputSchema.optional() })
      .strict()
      .default({})
      .openapi({ description: 'D4: consent per external channel; a channel without granted consent is never used' }),
    quietHours: z
      .object({ from: hhmm, to: hhmm })
      .nullable()
      .default(null)
      .openapi({ description: 'Non-urgent SMS and e-mail wait until the window ends; outage and termination notices do not', example: { from: '22:00', to: '08:00' } }),
    timeZone: z.string().refine(isTimeZone, 'an IANA time zone, e.g. Asia/Shanghai').meta({ enum: timeZones }).default('Asia/Shanghai'),
    locale: z.enum(['zh-CN', 'en']).default('zh-CN'),
    plan: z.string().trim().min(1).meta(nonBlank).max(64),
    services: z.array(z.string().trim().min(1).meta(nonBlank).max(64)).max(50).default([]),
    region: z.string().trim().min(1).meta(nonBlank).max(64),
  })
  .refine((body) => !body.channels.includes('email') || Boolean(body.email), { message: 'the email channel needs an email address', path: ['email'] })
  .refine((body) => !body.channels.includes('sms') || Boolean(body.phone), { message: 'the sms channel needs a phone number', path: ['phone'] })
  .meta({
    description:
      "A channel in `channels` other than the inbox needs its address and the customer's granted consent (D4): in `consents`, or recorded before for this customer (then this body may leave it out).",
    allOf: (['email', 'sms'] as const).map((channel) => ({
      anyOf: [
        { properties: { channels: { items: { enum: customerChannels.filter((other) => other !== channel) } } } },
        {
          required: [channel === 'email' ? 'email' : 'phone', 'consents'],
          properties: {
            [channel === 'email' ? 'email' : 'phone']: { type: 'string' },
            consents: { required: [channel], properties: { [channel]: { properties: { granted: { const: true } } } } },
          },
        },
      ],
    })),
  })
  .openapi('CustomerInput', {
    example: {
      name: 'Li Wei',
      email: 'li.wei@example.com',
      phone: '+8613800138000',
      channels: ['sms', 'inbox'],
      consents: { sms: { granted: true, source: 'signup form v3' } },
      plan: 'home-500',
      services: ['broadband'],
      region: 'shanghai-pudong',
    },
  });

const consentSchema = z.object({ granted: z.boolean(), recordedAt: z.string(), source: z.string() }).openapi('ChannelConsent');

const customerSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    channels: z.array(z.string()),
    consents: z.record(z.string(), consentSchema),
    quietHours: z.object({ from: z.string(), to: z.string() }).nullable(),
    timeZone: z.string(),
    locale: z.string(),
    plan: z.string(),
    services: z.array(z.string()),
    region: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Customer');

const errors = {
  401: { description: 'Unauthenticated', content: { 'application/json': { schema: errorBodySchema } } },
  404: { description: 'Unknown customer', content: { 'application/json': { schema: errorBodySchema } } },
};

const putCustomer = createRoute({
  method: 'put',
  path: '/v1/customers/{id}',
  tags: ['customers'],
  summary: 'Create or update a customer (sync from a CRM)',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: { params: customerIdParams, body: { required: true, content: { 'application/json': { schema: customerBodySchema } } } },
  responses: {
    200: { description: 'Updated', content: { 'application/json': { schema: customerSchema } } },
    201: { description: 'Created', content: { 'application/json': { schema: customerSchema } } },
    409: { description: "The customer's personal data was deleted (D3): their key is destroyed; a returning customer gets a new id", content: { 'application/json': { schema: errorBodySchema } } },
    422: { description: "Invalid field, or a channel without the customer's consent", content: { 'application/json': { schema: errorBodySchema } } },
  },
});

const getCustomer = createRoute({
  method: 'get',
  path: '/v1/customers/{id}',
  tags: ['customers'],
  summary: 'Read a customer',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor', 'auditor')] as const,
  request: { params: customerIdParams },
  responses: { 200: { description: 'The customer', content: { 'application/json': { schema: customerSchema } } }, ...errors },
});

const notificationSchema = z
  .object({
    id: z.number(),
    caseId: z.string().nullable(),
    channel: z.string(),
    template: z.string(),
    locale: z.string(),
    subject: z.string(),
    body: z.string(),
    status: z.string(),
    createdAt: z.string(),
    sentAt: z.string().nullable(),
  })
  .openapi('Notification');

const listNotifications = createRoute({
  method: 'get',
  path: '/v1/customers/{id}/notifications',
  tags: ['customers'],
  summary: 'What the customer was told, newest first, on every channel with its delivery state',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor', 'auditor')] as const,
  request: {
    params: customerIdParams,
    query: z.object({ channel: z.enum(customerChannels).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
  },
  responses: { 200: { description: 'Notifications', content: { 'application/json': { schema: z.object({ notifications: z.array(notificationSchema) }) } } }, ...errors },
});

const ledgerEntrySchema = z
  .object({
    id: z.number(),
    kind: z.string().openapi({ description: 'service-credit, coupon or points', example: 'service-credit' }),
    amountCents: z.number().openapi({ description: 'Cents (points for kind points); negative on a reversal', example: 1290 }),
    currency: z.string().openapi({ example: 'CNY' }),
    policyVersion: z.string().nullable().openapi({ description: 'P2: the policy the amount was computed under', example: 'compensation/2026.1' }),
    caseId: z.string().nullable().openapi({ description: 'The case that paid or reversed it', example: 'INC-2026-000042' }),
    reversesId: z.number().nullable().openapi({ description: 'P6: on a reversal, the entry it takes back' }),
    reversedById: z.number().nullable().openapi({ description: 'P6: on a reversed entry, its reversal' }),
    reason: z.string().nullable().openapi({ description: 'Why a reversal or a repayment was made' }),
    createdAt: z.string(),
  })
  .openapi('LedgerEntry');

const ledgerBalanceSchema = z
  .object({
    kind: z.string(),
    currency: z.string(),
    amountCents: z.number().openapi({ description: 'Every entry of this kind and currency, reversals included' }),
  })
  .openapi('LedgerBalance');

const getLedger = createRoute({
  method: 'get',
  path: '/v1/customers/{id}/ledger',
  tags: ['customers'],
  summary: 'The remedies paid to the customer and their reversals, newest first, with the balance per remedy kind (P5, P6)',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor', 'auditor')] as const,
  request: {
    params: customerIdParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) }),
  },
  responses: {
    200: {
      description: 'Ledger',
      content: {
        'application/json': {
          schema: z
            .object({
              entries: z.array(ledgerEntrySchema),
              total: z.number().openapi({ description: 'Entries in the ledger, however many `limit` returned' }),
              balances: z.array(ledgerBalanceSchema),
            })
            .openapi('CustomerLedger'),
        },
      },
    },
    ...errors,
  },
});

export function customerRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(putCustomer, async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const previous = await findCustomer(deps.sql, id);
      const standing = previous && (await findCustomerStanding(deps.sql, id));
      if (standing?.anonymisedAt) {
        const message = `the personal data of ${id} was deleted on ${standing.anonymisedAt}; a returning customer gets a new id`;
        throw new ApiError(409, 'customer_anonymised', message, [{ field: 'id', message }]);
      }
      const consents = recordConsents(previous?.consents ?? {}, body.consents, new Date().toISOString());
      for (const channel of body.channels) {
        if (!hasConsent(channel, { consents })) {
          throw new ApiError(422, 'invalid_request', 'invalid request body', [{ field: `consents.${channel}`, message: `the ${channel} channel needs the customer's granted consent (D4)` }]);
        }
      }
      const { customer, created } = await upsertCustomer(deps.sql, id, { ...body, email: body.email ?? null, phone: body.phone ?? null, consents });
      return created ? c.json(customer, 201) : c.json(customer, 200);
    })
    .openapi(getCustomer, async (c) => {
      const { id } = c.req.valid('param');
      const customer = await findCustomer(deps.sql, id);
      if (!customer) throw new ApiError(404, 'customer_not_found', `no customer ${id}`);
      return c.json(customer, 200);
    })
    .openapi(listNotifications, async (c) => {
      const { id } = c.req.valid('param');
      const { channel, limit } = c.req.valid('query');
      if (!(await customerExists(deps.sql, id))) throw new ApiError(404, 'customer_not_found', `no customer ${id}`);
      return c.json({ notifications: await listCustomerNotifications(deps.sql, id, { channel, limit }) }, 200);
    })
    .openapi(getLedger, async (c) => {
      const { id } = c.req.valid('param');
      const { limit } = c.req.valid('query');
      if (!(await customerExists(deps.sql, id))) throw new ApiError(404, 'customer_not_found', `no customer ${id}`);
      const { entries, total, balances } = await ledgerOfCustomer(deps.sql, id, { limit });
      return c.json(
        {
          entries: entries.map((entry) => ({
            id: entry.id,
            kind: entry.kind,
            amountCents: entry.amountCents,
            currency: entry.currency,
            policyVersion: entry.policyVersion,
            caseId: entry.caseId,
            reversesId: entry.reversesId,
            reversedById: entry.reversedById,
            reason: entry.reason,
            createdAt: entry.createdAt,
          })),
          total,
          balances,
        },
        200,
      );
    });
}
