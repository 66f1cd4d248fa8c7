import { createRoute, z } from '@hono/zod-openapi';
import { Gauge, Registry, type Metric } from 'prom-client';
import type postgres from 'postgres';
import { countCasesByTypeStatusPriority, countCasesOpenedClosedByType, countOpenBreachedCasesByType, countSlaEvents, secondsToNextDeadline } from '../../db/cases';
import { countNotificationsByChannelStatus, deliveryLatencyBuckets, outboxQueue } from '../../db/notifications';
import { requireRole } from '../auth';
import { authFailures, blockedClients } from '../auth-throttle';
import { requestDuration } from '../request-log';
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
  new Gauge({
    name: 'pledge_outbox_queue_depth',
    help: 'O4: messages due and not yet handed to their channel, by channel and priority (0 urgent, 1 case, 2 routine)',
    labelNames: ['channel', 'priority'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await outboxQueue(sql)) this.set({ channel: row.channel, priority: String(row.priority) }, row.depth);
    },
  });
  new Gauge({
    name: 'pledge_outbox_oldest_age_seconds',
    help: 'O4: how long the oldest due message has waited, by channel and priority',
    labelNames: ['channel', 'priority'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await outboxQueue(sql)) this.set({ channel: row.channel, priority: String(row.priority) }, row.oldestSeconds);
    },
  });
  registry.registerMetric(deliveryLatencyHistogram(sql));
  registry.registerMetric(authFailures);
  registry.registerMetric(requestDuration);
  new Gauge({
    name: 'pledge_cases_opened',
    help: 'Cases ever opened, by type (the read model; rises like a counter)',
    labelNames: ['type'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await countCasesOpenedClosedByType(sql)) this.set({ type: row.type }, row.opened);
    },
  });
  new Gauge({
    name: 'pledge_cases_closed',
    help: 'Cases closed (or otherwise ended), by type',
    labelNames: ['type'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await countCasesOpenedClosedByType(sql)) this.set({ type: row.type }, row.closed);
    },
  });
  new Gauge({
    name: 'pledge_sla_events',
    help: 'C9: SLA warnings and breaches ever recorded, by case type, clock and kind',
    labelNames: ['type', 'clock', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await countSlaEvents(sql)) this.set({ type: row.type, clock: row.clock, kind: row.kind }, row.count);
    },
  });
  registry.registerMetric(blockedClients);
  return registry;
}

const latencyBounds = [1, 5, 15, 60, 300, 900, 3600, 7200];

/**
 * Seconds from queued to delivered, per channel, read from the outbox at each scrape. A histogram
 * the usual way (histogram_quantile works on it), built from the table rather than from one
 * process's memory, so every dispatcher's deliveries count.
 */
function deliveryLatencyHistogram(sql: postgres.Sql): Metric {
  return {
    name: 'pledge_notification_delivery_seconds',
    async get() {
      const values = (await deliveryLatencyBuckets(sql, latencyBounds)).flatMap((row) => [
        ...latencyBounds.map((bound, index) => ({ labels: { channel: row.channel, le: bound }, value: row.buckets[index]!, metricName: 'pledge_notification_delivery_seconds_bucket' })),
        { labels: { channel: row.channel, le: '+Inf' }, value: row.count, metricName: 'pledge_notification_delivery_seconds_bucket' },
        { labels: { channel: row.channel }, value: row.sumSeconds, metricName: 'pledge_notification_delivery_seconds_sum' },
        { labels: { channel: row.channel }, value: row.count, metricName: 'pledge_notification_delivery_seconds_count' },
      ]);
      return { name: 'pledge_notification_delivery_seconds', help: 'Seconds from queued to delivered, by channel', type: 'histogram', values, aggregator: 'sum' };
    },
  } as unknown as Metric;
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
