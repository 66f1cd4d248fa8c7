import { createRoute, z } from '@hono/zod-openapi';
import { Gauge, Registry } from 'prom-client';
import type postgres from 'postgres';
import { countCasesByTypeStatusPriority, countOpenBreachedCasesByType, secondsToNextDeadline } from '../../db/cases';
import { countNotificationsByChannelStatus } from '../../db/notifications';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { newRouter } from '../router';
import { bearer } from '../schemas';

/**
 * C9 "visible in monitoring": the read model as Prometheus gauges, computed at each scrape, so an
 * Alertmanager rule can page on breached cases or a stuck outbox.
 */
function caseMetrics(sql: postgres.Sql): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'pledge_cases',
    help: 'Cases by type, status and priority (read model)',
    labelNames: ['type', 'status', 'priority'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await countCasesByTypeStatusPriority(sql)) this.set({ type: row.type, status: row.status, priority: row.priority ?? '' }, row.count);
    },
  });
  new Gauge({
    name: 'pledge_cases_sla_breached_open',
    help: 'Cases not yet closed with at least one breached SLA clock',
    labelNames: ['type'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await countOpenBreachedCasesByType(sql)) this.set({ type: row.type }, row.count);
    },
  });
  new Gauge({
    name: 'pledge_cases_next_deadline_seconds',
    help: 'Seconds until the earliest pending deadline of any open case (negative when already past)',
    registers: [registry],
    async collect() {
      const seconds = await secondsToNextDeadline(sql);
      if (seconds !== null) this.set(seconds);
    },
  });
  new Gauge({
    name: 'pledge_notifications',
    help: 'Customer notifications by channel and delivery status (outbox)',
    labelNames: ['channel', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await countNotificationsByChannelStatus(sql)) this.set({ channel: row.channel, status: row.status }, row.count);
    },
  });
  return registry;
}

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['health'],
  summary: 'Prometheus metrics: cases by status, breached SLAs, the next deadline, the notification outbox',
  security: bearer,
  middleware: [requireRole('supervisor', 'auditor', 'alert-source')] as const,
  responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } },
});

export function metricsRoutes(deps: ApiDeps) {
  const registry = caseMetrics(deps.sql);
  return newRouter().openapi(metrics, async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));
}
