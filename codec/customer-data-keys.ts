import { randomBytes } from 'node:crypto';
import { aesGcmDecrypt, aesGcmEncrypt } from './aes-gcm';
import type { AesGcmPayloadCodec } from './payload-codec';

// D5 in Postgres: each customer's personal fields are sealed under a data key of their own, stored
// beside them wrapped by the deployment key (the primary payload key). Destroying the wrapped key
// (crypto-shredding, D3/T6) leaves every sealed value in place (D1) and none of them readable.

/** Sealed values are strings `pii:v1:<base64 iv ‖ ciphertext ‖ tag>`, of the value's JSON. */
export const sealedPrefix = 'pii:v1:';
/** What a sealed value reads as once its customer's key is destroyed. */
export const erasedValue = '[erased]';

export const isSealed = (value: unknown): value is string => typeof value === 'string' && value.startsWith(sealedPrefix);

/** A new data key for `customerId`, wrapped by the primary deployment key: `<key id>:<base64>`, bound to the customer id. */
export function newWrappedDataKey(deploymentKeys: AesGcmPayloadCodec, customerId: string): string {
  const { id, key } = deploymentKeys.primary;
  return `${id}:${aesGcmEncrypt(key, randomBytes(32), wrapAad(id, customerId)).toString('base64')}`;
}

/** The customer's data key, unwrapped by whichever deployment key wrapped it (so rotation keeps old keys readable). */
export function unwrapDataKey(deploymentKeys: AesGcmPayloadCodec, customerId: string, wrapped: string): Buffer {
  const separator = wrapped.indexOf(':');
  const id = wrapped.slice(0, separator);
  const key = deploymentKeys.keyFor(id);
  if (separator < 1 || !key) throw new Error(`the data key of customer ${customerId} is wrapped by key '${id}', which is not configured (known: ${deploymentKeys.keyIds.join(', ')})`);
  const dataKey = aesGcmDecrypt(key, Buffer.from(wrapped.slice(separator + 1), 'base64'), wrapAad(id, customerId));
  if (!dataKey || dataKey.length !== 32) throw new Error(`the data key of customer ${customerId} does not unwrap with key '${id}': it was altered or belongs to another customer`);
  return dataKey;
}

const wrapAad = (keyId: string, customerId: string) => `pledge-customer-data-key:${keyId}:${customerId}`;

/**
 * How one customer's personal values are written and read. `keyed`: sealed and opened with their
 * data key. `shredded`: their key is destroyed — sealed values read as erasedValue, and anything
 * new is written as erasedValue. `unkeyed`: a customer with no data key yet (rows from before
 * field encryption, or written straight into the table): values stay as they are.
 */
export interface CustomerCipher {
  readonly state: 'keyed' | 'shredded' | 'unkeyed';
  /** The value sealed (null and undefined stay as they are). */
  seal<T>(value: T): T | string;
  /** The value a sealed one holds; anything else as it is. */
  open(value: unknown): unknown;
}

export function customerCipher(deploymentKeys: AesGcmPayloadCodec, customerId: string, key: { wrapped: string | null; shredded: boolean }): CustomerCipher {
  if (key.shredded) return shreddedCipher;
  if (!key.wrapped) return unkeyedCipher;
  const dataKey = unwrapDataKey(deploymentKeys, customerId, key.wrapped);
  return {
    state: 'keyed',
    seal: (value) =>
      value === null || value === undefined || isSealed(value) ? value : sealedPrefix + aesGcmEncrypt(dataKey, Buffer.from(JSON.stringify(value), 'utf8'), sealedPrefix).toString('base64'),
    open: (value) => {
      if (!isSealed(value)) return value;
      const plaintext = aesGcmDecrypt(dataKey, Buffer.from(value.slice(sealedPrefix.length), 'base64'), sealedPrefix);
      if (!plaintext) throw new Error(`a sealed value of customer ${customerId} failed authentication: it was altered, or sealed under another customer's key`);
      return JSON.parse(plaintext.toString('utf8')) as unknown;
    },
  };
}

export const shreddedCipher: CustomerCipher = {
  state: 'shredded',
  seal: (value) => (value === null || value === undefined ? value : erasedValue),
  open: (value) => (isSealed(value) ? erasedValue : value),
};

export const unkeyedCipher: CustomerCipher = {
  state: 'unkeyed',
  seal: (value) => value,
  open: (value) => (isSealed(value) ? erasedValue : value),
};

/** `data` with the listed top-level fields sealed. */
export function sealFields<T extends object>(cipher: CustomerCipher, data: T, fields: ReadonlySet<string>): T {
  return mapFields(cipher, data, fields, (value) => cipher.seal(value));
}

/** `row` with the listed top-level fields opened (a row read from a table, its other values as they are). */
export function openFields<T extends object>(cipher: CustomerCipher, row: T, fields: ReadonlySet<string>): T {
  return mapFields(cipher, row, fields, (value) => cipher.open(value));
}

function mapFields<T extends object>(cipher: CustomerCipher, data: T, fields: ReadonlySet<string>, map: (value: unknown) => unknown): T {
  if (cipher.state === 'unkeyed') return data;
  const mapped = { ...data } as Record<string, unknown>;
  for (const field of Object.keys(mapped)) if (fields.has(field)) mapped[field] = map(mapped[field]);
  return mapped as T;
}

/** `value` with every sealed string inside it (at any depth) opened. */
export function openDeep(cipher: CustomerCipher, value: unknown): unknown {
  if (isSealed(value)) return cipher.open(value);
  if (Array.isArray(value)) return value.map((item) => openDeep(cipher, item));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, openDeep(cipher, item)]));
  return value;
}
