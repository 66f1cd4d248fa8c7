import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import { createLogger } from '../../observability/logger';

// One JSON line per request, with what an operator needs to follow it (request id, route, status,
// case and workflow) and nothing a key or a customer could be recovered from.
const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });

function appWithLog() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  const app = createApp({ temporal: {} as never, sql: {} as never, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue: 'log', logger });
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { app, lines, entries };
}

describe('request log', () => {
  it('carries the caller’s request id (echoed back), the route, status, duration, case and workflow — and no key or query value', async () => {
    const { app, lines, entries } = appWithLog();
    const response = await app.request('/v1/cases/CMP-2026-000042?customerId=cust-secret-77&q=Zhang%20Wei', {
      headers: { authorization: 'Bearer wrong-key-but-secret-1234', 'x-request-id': 'req-abc.123', 'x-actor-name': 'Li Na' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-request-id')).toBe('req-abc.123');
    expect(entries()).toEqual([
      {
        level: 'info',
        time: expect.any(String),
        pid: process.pid,
        msg: 'request',
        requestId: 'req-abc.123',
        method: 'GET',
        path: '/v1/cases/:caseId',
        status: 401,
        durationMs: expect.any(Number),
        caseId: 'CMP-2026-000042',
        workflowId: 'complaint-CMP-2026-000042',
      },
    ]);
    const raw = lines.join('');
    for (const secret of ['wrong-key-but-secret-1234', 'cust-secret-77', 'Zhang', 'Li Na', 'Bearer']) expect(raw).not.toContain(secret);
  });

  it('makes up a request id when none (or an unusable one) is sent, and logs the role, never the key', async () => {
    const { app, entries } = appWithLog();
    const first = await app.request('/v1/cases?type=complaint', { method: 'DELETE', headers: { authorization: 'Bearer dev-agent-key', 'x-request-id': 'x'.repeat(200) } });
    expect(first.status).toBe(405);
    const [entry] = entries();
    expect(entry).toMatchObject({ method: 'DELETE', path: '/v1/cases', status: 405, role: 'agent' });
    expect(entry!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.headers.get('x-request-id')).toBe(entry!.requestId);
    expect(JSON.stringify(entries())).not.toContain('dev-agent-key');
  });

  it('a path no route knows is logged by its first two segments only; probes are logged at debug', async () => {
    const { app, entries } = appWithLog();
    await app.request('/v1/customers/cust-000003/secret-thing', { headers: { authorization: 'Bearer dev-agent-key' } });
    await app.request('/healthz');
    expect(entries()).toEqual([expect.objectContaining({ path: '/v1/customers/…', status: 404 })]);
    expect(JSON.stringify(entries())).not.toContain('cust-000003');
  });

  it('a path segment that is not a case number is not logged as one', async () => {
    const { app, entries } = appWithLog();
    await app.request('/v1/cases/Zhang%20Wei', { headers: { authorization: 'Bearer wrong-key-xxxxxxxx' } });
    expect(entries()[0]).not.toHaveProperty('caseId');
    expect(JSON.stringify(entries())).not.toContain('Zhang');
  });
});
