/**
 * Prints the route × role table (D6) that README.md carries between its access-table markers,
 * read from the routes themselves (api/access.ts); `--write` replaces the README's copy.
 *
 *   npx tsx scripts/access-table.ts [--write]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accessTableMarkdown, routeAccess } from '../api/access';
import { createApp } from '../api/app';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../config';
import { repoRoot } from './toolchain/paths';

export const readmeMarkers = { start: '<!-- access-table:start -->', end: '<!-- access-table:end -->' };

export function currentAccessTable(): string {
  const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
  const app = createApp({ temporal: {} as never, sql: {} as never, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue: 'access-table' });
  return accessTableMarkdown(routeAccess(app));
}

export function readmeWithTable(readme: string, table: string): string {
  const start = readme.indexOf(readmeMarkers.start);
  const end = readme.indexOf(readmeMarkers.end);
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${readmeMarkers.start} … ${readmeMarkers.end} markers`);
  return `${readme.slice(0, start + readmeMarkers.start.length)}\n${table}\n${readme.slice(end)}`;
}

if (process.argv[1]?.endsWith('access-table.ts')) {
  const table = currentAccessTable();
  if (process.argv.includes('--write')) {
    const file = join(repoRoot, 'README.md');
    writeFileSync(file, readmeWithTable(readFileSync(file, 'utf8'), table));
    console.log('README.md: access table updated');
  } else console.log(table);
}
