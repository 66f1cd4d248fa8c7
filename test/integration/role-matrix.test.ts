import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { routeAccess } from '../../api/access';
import { createApp } from '../../api/app';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import { staffRoles } from '../../domain/actors';
import { currentAccessTable, readmeMarkers } from '../../scripts/access-table';
import { repoRoot } from '../../scripts/toolchain/paths';

// D6: the whole route × role matrix, every operation with every role, with no key and with a
// wrong key. Temporal and Postgres are stubs: a caller let in gets past auth and fails later (a
// 4xx on its input or a 500 on the stub), which is all this test asks; one kept out gets 401/403.
const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
const app = createApp({
  temporal: {} as never,
  sql: {} as never,
  apiKeys: parseApiKeys(env),
  policies: loadPolicies(env),
  taskQueue: 'role-matrix',
  authThrottle: { blockAfter: 1_000_000, slowAfter: 1_000_000 },
});
const keyOf = Object.fromEntries(
  devApiKeys
    .split(',')
    .map((entry) => entry.split(':') as [string, string])
    .map(([role, key]) => [role, key]),
);
const samples: Record<string, string> = { caseId: 'CMP-2026-000001', id: 'cust-000001', code: 'abcdefghjkmnpqrstvwx', year: '2027', action: 'note', dir: 'x', file: 'x.js' };
const concrete = (path: string) => path.replace(/:([A-Za-z]+)/g, (_, name: string) => samples[name] ?? 'x');

async function statusOf(method: string, path: string, key: string | undefined): Promise<number> {
  const response = await app.request(concrete(path), {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
    ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('role matrix (D6)', () => {
  const access = routeAccess(app);

  it('D6: every operation refuses every role it does not name (403), no key and a wrong key (401), and lets its roles past auth', async () => {
    let checked = 0;
    const wrong: string[] = [];
    for (const route of access) {
      if (route.roles === 'public') {
        for (const key of [undefined, 'not-a-key-at-all']) {
          const status = await statusOf(route.method, route.path, key);
          checked++;
          if (status === 401 || status === 403) wrong.push(`${route.method} ${route.path} public, got ${status} with ${key ?? 'no key'}`);
        }
        continue;
      }
      for (const [label, key, expected] of [
        ['no key', undefined, 401],
        ['a wrong key', 'not-a-key-at-all', 401],
      ] as const) {
        const status = await statusOf(route.method, route.path, key);
        checked++;
        if (status !== expected) wrong.push(`${route.method} ${route.path} with ${label}: ${status}, expected ${expected}`);
      }
      for (const role of staffRoles) {
        const status = await statusOf(route.method, route.path, keyOf[role]);
        checked++;
        const allowed = route.roles.includes(role);
        if (allowed ? status === 401 || status === 403 : status !== 403) wrong.push(`${route.method} ${route.path} as ${role}: ${status}, expected ${allowed ? 'past auth' : 403}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(access.length).toBeGreaterThan(50);
    expect(checked).toBeGreaterThan(access.length * 2);
  });

  it('D6: the README table is the one the routes give (npx tsx scripts/access-table.ts --write)', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const start = readme.indexOf(readmeMarkers.start) + readmeMarkers.start.length;
    expect(readme.slice(start, readme.indexOf(readmeMarkers.end)).trim()).toBe(currentAccessTable());
  });
});
