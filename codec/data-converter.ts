import { fileURLToPath } from 'node:url';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { loadPayloadKeys } from './keys';
import { AesGcmPayloadCodec } from './payload-codec';

/** Loaded by path: by the worker and clients with require(), and bundled into the workflow sandbox. */
export const failureConverterPath = fileURLToPath(new URL('./failure-converter.mjs', import.meta.url));

/**
 * D5: how Pledge's clients, workers and replays talk to Temporal: every payload through the
 * encrypting codec, failure messages and stacks encoded as payloads so they are encrypted too.
 */
export function pledgeDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath };
}

let current: { raw: string; codec: AesGcmPayloadCodec } | undefined;

/**
 * The codec with the deployment's keys (PLEDGE_PAYLOAD_KEYS or PLEDGE_PAYLOAD_KEY_FILE; the
 * development key outside production), read when first needed and again when they change.
 */
export function payloadCodecFromEnv(source: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec {
  const settings = { NODE_ENV: source.NODE_ENV ?? 'development', PLEDGE_PAYLOAD_KEYS: source.PLEDGE_PAYLOAD_KEYS, PLEDGE_PAYLOAD_KEY_FILE: source.PLEDGE_PAYLOAD_KEY_FILE };
  const raw = JSON.stringify(settings);
  if (current?.raw !== raw) current = { raw, codec: new AesGcmPayloadCodec(loadPayloadKeys(settings)) };
  return current.codec;
}
