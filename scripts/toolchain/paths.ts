import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Toolchains (Temporal CLI, test server, JVM archives) live outside the clone so clean clones reuse them. */
export const cacheDir = resolve(process.env.PLEDGE_CACHE_DIR ?? join(homedir(), '.cache', 'pledge'));

/** Runtime state of the local stack: Postgres cluster, Temporal's SQLite file, logs. */
export const dataDir = resolve(process.env.PLEDGE_DATA_DIR ?? join(repoRoot, '.data'));
