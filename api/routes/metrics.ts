import { createRoute, z } from '@hono/zod-openapi';
import { Gauge, Registry } from 'prom-client';
import type postgres from 'postgres';
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
      const rows = await sql<{ type: string; status: string; priority: string | null; count: string }[]>`
        select type, status, priority, count(*) as count from cases group by type, status, priority`;
      for (const row of rows) this.set({ type: row.type, status: row.status, priority: row.priority ?? '' }, Number(row.count));
    },
  });
  new Gauge({
    name: 'pledge_cases_sla_breached_open',
    help: 'Cases not yet closed with at least one breached SLA clock',
    labelNames: ['type'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await sql<{ type: string; count: string }[]>`
        select type, count(*) as count from cases where sla_breached and status <> 'closed' group by type`;
      for (const row of rows) this.set({ type: row.type }, Number(row.count));
    },
  });
  new Gauge({
    name: 'pledge_cases_next_deadline_seconds',
    help: 'Seconds until the earliest pending deadline of any open case (negative when already past)',
    registers: [registry],
    async collect() {
      const [row] = await sql<{ seconds: number | null }[]>`
        select extract(epoch from min(next_deadline_at) - now())::float8 as seconds from cases where status <> 'closed'`;
      if (row?.seconds !== null && row?.seconds !== undefined) this.set(row.seconds);
    },
  });
  new Gauge({
    name: 'pledge_notifications',
    help: 'Customer notifications by channel and delivery status (outbox)',
    labelNames: ['channel', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await sql<{ channel: string; status: string; count: string }[]>`
        select channel, status, count(*) as count from notifications group by channel, status`;
      for (const row of rows) this.set({ channel: row.channel, status: row.status }, Number(row.count));
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
