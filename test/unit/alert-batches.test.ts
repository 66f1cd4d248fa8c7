import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { maxAlertPostBytes, maxSignalBytes, slimAlert, splitAlertBatches } from '../../api/routes/alerts';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import type { IncidentAlert } from '../../domain/incident';

const envelope = { source: 'alertmanager' as const, sentBy: { id: 'alert-source/am', role: 'alert-source' as const }, receivedAt: '2026-11-20T08:00:00.000Z', groupKey: 'x'.repeat(4000) };

function alert(n: number, status: 'firing' | 'resolved' = 'firing'): IncidentAlert {
  return {
    fingerprint: `fp-${String(n).padStart(6, '0')}`,
    status,
    labels: { alertname: 'OltDown', instance: `olt-${n}.example:9100`, severity: 'critical', service: 'broadband', region: `region-${String(n % 30).padStart(2, '0')}`, job: 'node' },
    annotations: { summary: 'OLT down', description: 'd'.repeat(500), runbook_url: 'https://runbooks.example/olt' },
    startsAt: '2026-11-20T07:00:00.000Z',
    endsAt: status === 'resolved' ? '2026-11-20T07:59:00.000Z' : null,
  };
}

describe('alert signals at scale (issue 8, item 5)', () => {
  it('slims an alert to what the incident reads', () => {
    expect(slimAlert(alert(7, 'resolved'))).toEqual({
      fingerprint: 'fp-000007',
      status: 'resolved',
      startsAt: '2026-11-20T07:00:00.000Z',
      endsAt: '2026-11-20T07:59:00.000Z',
      labels: { severity: 'critical', service: 'broadband', region: 'region-07' },
    });
  });

  it('splits 20,000 alerts into signals of at most 256 KB of JSON, every alert once, firing before resolved', () => {
    const alerts = Array.from({ length: 20_000 }, (_, index) => slimAlert(alert(index, index % 3 === 0 ? 'resolved' : 'firing')));
    const batches = splitAlertBatches(envelope, alerts);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(maxSignalBytes);
      expect(batch).toMatchObject({ source: 'alertmanager', groupKey: envelope.groupKey });
    }
    const sent = batches.flatMap((batch) => batch.alerts);
    expect(new Set(sent.map((sentAlert) => sentAlert.fingerprint)).size).toBe(20_000);
    const firstResolved = sent.findIndex((sentAlert) => sentAlert.status === 'resolved');
    expect(sent.slice(firstResolved).every((sentAlert) => sentAlert.status === 'resolved')).toBe(true);
    // Full, not fragmented: every batch but the last is close to the bound.
    for (const batch of batches.slice(0, -1)) expect(Buffer.byteLength(JSON.stringify(batch))).toBeGreaterThan(maxSignalBytes - 1024);
  });

  it('keeps a small post in one signal and sends none for no alerts', () => {
    expect(splitAlertBatches(envelope, [slimAlert(alert(1))])).toHaveLength(1);
    expect(splitAlertBatches(envelope, [])).toEqual([]);
  });

  it('fills each batch exactly up to the byte bound', () => {
    const alerts = Array.from({ length: 50 }, (_, index) => slimAlert(alert(index)));
    const one = Buffer.byteLength(JSON.stringify({ ...envelope, alerts: alerts.slice(0, 10) }));
    const batches = splitAlertBatches(envelope, alerts, one);
    expect(batches.map((batch) => batch.alerts.length)).toEqual([10, 10, 10, 10, 10]);
    expect(splitAlertBatches(envelope, alerts, one - 1)[0]!.alerts).toHaveLength(9);
  });
});

describe('alert webhook size bounds', () => {
  // Neither Temporal nor Postgres is reached: the size check answers first.
  const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
  const app = createApp({ temporal: {} as never, sql: {} as never, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue: 'alert-bounds' });
  const alertKey = [...parseApiKeys(env)].find(([, role]) => role === 'alert-source')![0];

  it('refuses a body over 10 MB with a 413 that says the bound', async () => {
    const body = JSON.stringify({ version: '4', groupKey: 'g', status: 'firing', alerts: [], padding: 'x'.repeat(maxAlertPostBytes) });
    const response = await app.request('/v1/alerts/alertmanager', {
      method: 'POST',
      headers: { authorization: `Bearer ${alertKey}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({ code: 'payload_too_large', message: expect.stringContaining(String(maxAlertPostBytes)) });
  });

  it('documents the bound, and no longer caps the number of alerts', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as any;
    for (const path of ['/v1/alerts/alertmanager', '/v1/alerts/grafana']) {
      const operation = document.paths[path].post;
      expect(operation.responses['413']).toBeDefined();
      expect(operation.description).toContain('10 MB');
    }
    expect(document.components.schemas.AlertmanagerWebhook.properties.alerts.maxItems).toBeUndefined();
  });
});
