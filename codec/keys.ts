import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Env } from '../config';
import type { PayloadKey } from './payload-codec';

type KeySettings = Pick<Env, 'NODE_ENV' | 'PLEDGE_PAYLOAD_KEYS' | 'PLEDGE_PAYLOAD_KEY_FILE'>;
type PseudonymSettings = Pick<Env, 'NODE_ENV' | 'PLEDGE_PSEUDONYM_KEY'>;

/**
 * Outside production, without configured keys, payloads are encrypted under this public key, so
 * `npm start` and the tests run the same codec as production. It protects nothing: production
 * refuses to start with it or without keys.
 */
export const devPayloadKey: PayloadKey = { id: 'dev', key: Buffer.from('pledge-development-key-not-safe!', 'utf8') };
export const devPseudonymKey = 'pledge-development-pseudonym-key';

const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;
const generateHint = 'generate one with: openssl rand -base64 32';

const keyFileSchema = z.object({
  keys: z.array(z.object({ id: z.string(), key: z.string() })).min(1, 'list at least one key; the first encrypts'),
});

/**
 * D5: the payload keys, primary (the one that encrypts) first. From `PLEDGE_PAYLOAD_KEYS`
 * (`k2:<base64>,k1:<base64>`) or `PLEDGE_PAYLOAD_KEY_FILE` (JSON `{"keys":[{"id":"k2","key":"<base64>"},…]}`);
 * the development key when neither is set outside production.
 */
export function loadPayloadKeys(env: KeySettings, log: (message: string) => void = warnOnce): PayloadKey[] {
  const inline = blankToUndefined(env.PLEDGE_PAYLOAD_KEYS);
  const file = blankToUndefined(env.PLEDGE_PAYLOAD_KEY_FILE);
  if (inline && file) throw new Error('set PLEDGE_PAYLOAD_KEYS or PLEDGE_PAYLOAD_KEY_FILE, not both');
  if (!inline && !file) {
    if (env.NODE_ENV === 'production') {
      throw new Error(`PLEDGE_PAYLOAD_KEYS (or PLEDGE_PAYLOAD_KEY_FILE) is required in production: Temporal would store customers' data readable (format id:<base64 32 bytes>; ${generateHint})`);
    }
    log(`payload encryption: using the built-in DEVELOPMENT key '${devPayloadKey.id}' (public, protects nothing); set PLEDGE_PAYLOAD_KEYS for real data`);
    return [devPayloadKey];
  }
  const keys = inline ? parseKeyList(inline) : parseKeyFile(file!);
  if (env.NODE_ENV === 'production' && keys.some((entry) => entry.key.equals(devPayloadKey.key))) {
    throw new Error('the development payload key is not allowed in production');
  }
  return keys;
}

/** `id:<base64>,id:<base64>`, names in errors but never the key material. */
export function parseKeyList(spec: string, source = 'PLEDGE_PAYLOAD_KEYS'): PayloadKey[] {
  const entries = spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((entry) => {
      const separator = entry.indexOf(':');
      if (separator < 1) throw new Error(`${source}: each entry is id:<base64 key>; '${entry.slice(0, 12)}…' has no id`);
      return { id: entry.slice(0, separator), key: entry.slice(separator + 1) };
    });
  return checkedKeys(entries, source);
}

function parseKeyFile(path: string): PayloadKey[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`PLEDGE_PAYLOAD_KEY_FILE ${path}: ${(error as Error).message}`);
  }
  const parsed = keyFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`PLEDGE_PAYLOAD_KEY_FILE ${path}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return checkedKeys(parsed.data.keys, `PLEDGE_PAYLOAD_KEY_FILE ${path}`);
}

function checkedKeys(entries: Array<{ id: string; key: string }>, source: string): PayloadKey[] {
  if (entries.length === 0) throw new Error(`${source}: no keys; the first one listed encrypts`);
  const seen = new Set<string>();
  return entries.map(({ id, key }) => {
    if (!keyIdPattern.test(id)) throw new Error(`${source}: key id '${id.slice(0, 64)}' may hold only letters, digits, '.', '_' and '-' (up to 64)`);
    if (seen.has(id)) throw new Error(`${source}: key id '${id}' is listed twice`);
    seen.add(id);
    const bytes = Buffer.from(key, 'base64');
    if (!base64Pattern.test(key) || bytes.length !== 32) throw new Error(`${source}: key '${id}' must be 32 bytes in base64 (${generateHint})`);
    return { id, key: bytes };
  });
}

/** D5: the HMAC key of customer pseudonyms; required in production, a public development key otherwise. */
export function loadPseudonymKey(env: PseudonymSettings, log: (message: string) => void = warnOnce): string {
  const key = blankToUndefined(env.PLEDGE_PSEUDONYM_KEY);
  if (key) {
    if (key.length < 16) throw new Error('PLEDGE_PSEUDONYM_KEY must be 16 characters or more (a random secret; openssl rand -base64 32)');
    if (env.NODE_ENV === 'production' && key === devPseudonymKey) throw new Error('the development pseudonym key is not allowed in production');
    return key;
  }
  if (env.NODE_ENV === 'production') {
    throw new Error('PLEDGE_PSEUDONYM_KEY is required in production: without it customer ids would be guessable from Temporal search attributes (openssl rand -base64 32)');
  }
  log('customer pseudonyms: using the built-in DEVELOPMENT key (public); set PLEDGE_PSEUDONYM_KEY for real data');
  return devPseudonymKey;
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value?.trim() ? value.trim() : undefined;
}

const warned = new Set<string>();

/** Each development-key notice once per process, however many workers and clients a test starts. */
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(message);
}
