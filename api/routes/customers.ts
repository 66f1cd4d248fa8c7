import { createRoute, z } from '@hono/zod-openapi';
import { customerExists, findCustomer, upsertCustomer } from '../../db/customers';
import { ledgerOfCustomer } from '../../db/ledger';
import { listCustomerNotifications } from '../../db/notifications';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { newRouter } from '../router';
import { bearer } from '../schemas';

const customerIdParams = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash and underscore, at most 64')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'cust-000001' }),
});

// D4: only what cases need: how to reach the customer and what they are subscribed to.
const customerBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    email: z.email().nullable().optional(),
    phone: z
      .string()
      .regex(/^\+?[0-9 -]{5,20}$/)
      .nullable()
      .optional(),
    channels: z
      .array(z.enum(['inbox', 'email']))
      .min(1)
      .default(['inbox']),
    locale: z.enum(['zh-CN', 'en']).default('zh-CN'),
    plan: z.string().trim().min(1).max(64),
    services: z.array(z.string().trim().min(1).max(64)).max(50).default([]),
    region: z.string().trim().min(1).max(64),
  })
  .refine((body) => !body.channels.includes('email') || Boolean(body.email), { message: 'the email channel needs an email address', path: ['email'] })
  .openapi('CustomerInput');

const customerSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    channels: z.array(z.string()),
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
    422: { description: 'Invalid field', content: { 'application/json': { schema: errorBodySchema } } },
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
    query: z.object({ channel: z.enum(['inbox', 'email']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
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
      const { customer, created } = await upsertCustomer(deps.sql, id, { ...body, email: body.email ?? null, phone: body.phone ?? null });
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
