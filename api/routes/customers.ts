import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, errorBodySchema } from '../errors';
import { newRouter } from '../router';
import { bearer } from '../schemas';

const customerIdParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash and underscore, at most 64').openapi({ param: { name: 'id', in: 'path' }, example: 'cust-000001' }),
});

// D4: only what cases need: how to reach the customer and what they are subscribed to.
const customerBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    email: z.email().nullable().optional(),
    phone: z.string().regex(/^\+?[0-9 -]{5,20}$/).nullable().optional(),
    channels: z.array(z.enum(['inbox', 'email'])).min(1).default(['inbox']),
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

const errors = { 401: { description: 'Unauthenticated', content: { 'application/json': { schema: errorBodySchema } } }, 404: { description: 'Unknown customer', content: { 'application/json': { schema: errorBodySchema } } } };

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

type CustomerRow = { id: string; name: string; email: string | null; phone: string | null; channels: string[]; locale: string; plan: string; services: string[]; region: string; updated_at: Date };

const customerBody = (row: CustomerRow) => ({
  id: row.id,
  name: row.name,
  email: row.email,
  phone: row.phone,
  channels: row.channels,
  locale: row.locale,
  plan: row.plan,
  services: row.services,
  region: row.region,
  updatedAt: row.updated_at.toISOString(),
});

export function customerRoutes(deps: ApiDeps) {
  return newRouter()
    .openapi(putCustomer, async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const [row] = await deps.sql<(CustomerRow & { created: boolean })[]>`
        insert into customers (id, name, email, phone, channels, locale, plan, services, region)
        values (${id}, ${body.name}, ${body.email ?? null}, ${body.phone ?? null}, ${body.channels}, ${body.locale}, ${body.plan}, ${body.services}, ${body.region})
        on conflict (id) do update set
          name = excluded.name, email = excluded.email, phone = excluded.phone, channels = excluded.channels,
          locale = excluded.locale, plan = excluded.plan, services = excluded.services, region = excluded.region,
          updated_at = now()
        returning *, (xmax = 0) as created`;
      return row!.created ? c.json(customerBody(row!), 201) : c.json(customerBody(row!), 200);
    })
    .openapi(getCustomer, async (c) => {
      const { id } = c.req.valid('param');
      const [row] = await deps.sql<CustomerRow[]>`select * from customers where id = ${id}`;
      if (!row) throw new ApiError(404, 'customer_not_found', `no customer ${id}`);
      return c.json(customerBody(row), 200);
    })
    .openapi(listNotifications, async (c) => {
      const { id } = c.req.valid('param');
      const { channel, limit } = c.req.valid('query');
      const [customer] = await deps.sql`select id from customers where id = ${id}`;
      if (!customer) throw new ApiError(404, 'customer_not_found', `no customer ${id}`);
      const rows = await deps.sql`
        select id, case_id, channel, template, locale, subject, body, status, created_at, sent_at
        from notifications
        where customer_id = ${id} ${channel ? deps.sql`and channel = ${channel}` : deps.sql``}
        order by created_at desc, id desc
        limit ${limit}`;
      return c.json(
        {
          notifications: rows.map((row) => ({
            id: Number(row.id),
            caseId: row.case_id,
            channel: row.channel,
            template: row.template,
            locale: row.locale,
            subject: row.subject,
            body: row.body,
            status: row.status,
            createdAt: row.created_at.toISOString(),
            sentAt: row.sent_at?.toISOString() ?? null,
          })),
        },
        200,
      );
    });
}
