import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { parseApiKeys, type Env } from '../config';
import type { StaffRole } from '../domain/actors';

/**
 * D9: staff keys rotated without a restart. With `PLEDGE_API_KEYS_FILE` (the same `role:key`
 * entries, by comma or line) the file is read again when it changes or on SIGHUP: add the new key,
 * hand it out, then remove the old one; both are valid in between. A file that does not parse
 * leaves the keys as they were and says why. Without the file, `PLEDGE_API_KEYS` as read at start.
 */
export function liveApiKeys(env: Env, log: (message: string) => void = console.error): { keys: ReadonlyMap<string, StaffRole>; close(): void } {
  const file = process.env.PLEDGE_API_KEYS_FILE;
  if (!file) return { keys: parseApiKeys(env), close: () => {} };
  const keys = new Map<string, StaffRole>();
  const reload = () => {
    try {
      const fresh = parseApiKeys({ ...env, PLEDGE_API_KEYS: readFileSync(file, 'utf8').split(/[\n,]/).join(',') });
      keys.clear();
      for (const [key, role] of fresh) keys.set(key, role);
      log(`api keys loaded from ${file}: ${keys.size} keys`);
    } catch (error) {
      log(`api keys in ${file} not reloaded, the previous ones stay: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  reload();
  if (keys.size === 0) throw new Error(`PLEDGE_API_KEYS_FILE ${file} holds no valid key`);
  watchFile(file, { interval: 1000 }, reload);
  process.on('SIGHUP', reload);
  return {
    keys,
    close() {
      unwatchFile(file, reload);
      process.off('SIGHUP', reload);
    },
  };
}
