import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { liveApiKeys } from '../../api/api-keys';
import { createApp } from '../../api/app';
import { authFailures } from '../../api/auth-throttle';
import type { ApiDeps } from '../../api/deps';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';

// D9 at the door, before Temporal or Postgres are asked anything (both are stubs here): wrong
// methods, oversized bodies, guessed keys, rotated keys.
const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
const app = (overrides: Partial<ApiDeps> = {}) => createApp({ temporal: {} as never, sql: {} as never, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue: 'guards', ...overrides });
const withKey = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
const tempDir = mkdtempSync(join(tmpdir(), 'pledge-keys-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe('API guards (D9)', () => {
  it('an undeclared method on an existing path is a 405 naming the allowed methods; an unknown path stays a 404', async () => {
    const put = await app().request('/v1/complaints', { method: 'PUT', ...withKey('dev-agent-key') });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('POST');
    expect(((await put.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    const deleteCase = await app().request('/v1/cases/CMP-2026-000001', { method: 'DELETE', ...withKey('dev-agent-key') });
    expect(deleteCase.status).toBe(405);
    expect(deleteCase.headers.get('allow')).toBe('GET, HEAD');
    expect((await app().request('/v1/nothing-here', withKey('dev-agent-key'))).status).toBe(404);
  });

  it('D9: a body over 256 KiB is refused with 413 before it is read', async () => {
    const response = await app().request('/v1/complaints', {
      method: 'POST',
      headers: { authorization: 'Bearer dev-agent-key', 'content-type': 'application/json' },
      body: JSON.stringify({ summary: 'x'.repeat(300 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  it('D9: repeated wrong keys are slowed, then refused with 429 and Retry-After, valid key or not, and counted', async () => {
    const guarded = app({ authThrottle: { slowAfter: 3, blockAfter: 6, blockMs: 60_000, maxDelayMs: 300, log: () => {} } });
    const before = (await authFailures.get()).values;
    const count = (outcome: string, values = before) => values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
    const timings: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const started = performance.now();
      expect((await guarded.request('/v1/cases', withKey(`guess-${attempt}-xxxxxxxx`))).status).toBe(401);
      timings.push(performance.now() - started);
    }
    expect(Math.max(...timings.slice(0, 3))).toBeLessThan(80);
    expect(timings[4]).toBeGreaterThanOrEqual(190);
    expect((await guarded.request('/v1/cases', withKey('guess-6-xxxxxxxx'))).status).toBe(401);
    const refused = await guarded.request('/v1/cases', withKey('dev-agent-key'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(50);
    const after = (await authFailures.get()).values;
    expect(count('rejected', after) - count('rejected')).toBe(3);
    expect(count('slowed', after) - count('slowed')).toBe(3);
    expect(count('blocked', after) - count('blocked')).toBe(1);
    // Another app (another process) knows nothing of it: the block is per client and per process.
    expect((await app().request('/openapi.json')).status).toBe(200);
  });

  it('D9: keys rotate without a restart: old and new both valid, then the old one refused', async () => {
    const file = join(tempDir, 'keys');
    writeFileSync(file, 'agent:old-agent-key-123\nsupervisor:dev-supervisor-key\n');
    process.env.PLEDGE_API_KEYS_FILE = file;
    const live = liveApiKeys(env, () => {});
    try {
      const rotating = app({ apiKeys: live.keys });
      const status = async (key: string) => (await rotating.request('/v1/complaints', { method: 'PUT', ...withKey(key) })).status;
      expect(await status('old-agent-key-123')).toBe(405);
      writeFileSync(file, 'agent:old-agent-key-123\nagent:new-agent-key-456\nsupervisor:dev-supervisor-key\n');
      process.kill(process.pid, 'SIGHUP');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect([await status('old-agent-key-123'), await status('new-agent-key-456')]).toEqual([405, 405]);
      writeFileSync(file, 'agent:new-agent-key-456\nsupervisor:dev-supervisor-key\n');
      process.kill(process.pid, 'SIGHUP');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect([await status('old-agent-key-123'), await status('new-agent-key-456')]).toEqual([401, 405]);
      writeFileSync(file, 'not a key file');
      process.kill(process.pid, 'SIGHUP');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await status('new-agent-key-456')).toBe(405);
    } finally {
      live.close();
      delete process.env.PLEDGE_API_KEYS_FILE;
    }
  });
});
