import { createRoute, z } from '@hono/zod-openapi';
import { listStaffNotifications as staffNotificationsOf } from '../../db/staff-notifications';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { newRouter } from '../router';
import { bearer } from '../schemas';

const staffNotificationSchema = z
  .object({
    id: z.number(),
    role: z.string(),
    caseId: z.string(),
    kind: z.string(),
    subject: z.string(),
    body: z.string(),
    occurredAt: z.string(),
    deliverAfter: z.string(),
  })
  .openapi('StaffNotification');

const listStaffNotifications = createRoute({
  method: 'get',
  path: '/v1/staff/notifications',
  tags: ['staff'],
  summary: 'C9: SLA warnings and escalations for staff; warnings raised in quiet hours appear at the next working hour',
  security: bearer,
  middleware: [requireRole('agent', 'supervisor')] as const,
  request: {
    query: z.object({
      role: z.enum(['agent', 'supervisor']).optional().openapi({ description: 'Defaults to the caller’s role' }),
      includeScheduled: z.enum(['true', 'false']).default('false').openapi({ description: 'Also list messages still held by quiet hours' }),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: { 200: { description: 'Newest first', content: { 'application/json': { schema: z.object({ notifications: z.array(staffNotificationSchema) }) } } } },
});

export function staffRoutes(deps: ApiDeps) {
  return newRouter().openapi(listStaffNotifications, async (c) => {
    const query = c.req.valid('query');
    const role = query.role ?? c.get('role');
    const notifications = await staffNotificationsOf(deps.sql, { role, includeScheduled: query.includeScheduled === 'true', limit: query.limit });
    return c.json({ notifications }, 200);
  });
}
