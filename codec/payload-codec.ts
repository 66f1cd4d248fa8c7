import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import protos from '@temporalio/proto';
import { aesGcmDecrypt, aesGcmEncrypt, aesGcmOverheadBytes } from './aes-gcm';

/** The metadata an encrypted payload carries in Temporal (the names other SDKs' encryption samples use). */
export const encryptedEncoding = 'binary/encrypted';
export const encryptionKeyIdKey = 'encryption-key-id';

/** A data key: 32 bytes for AES-256-GCM, named by the id stored beside every payload it encrypts. */
export interface PayloadKey {
  id: string;
  key: Buffer;
}

const { Payload: PayloadMessage } = protos.temporal.api.common.v1;

/**
 * D5: every payload Pledge hands Temporal (workflow inputs and results, activity inputs and results,
 * memo, static summaries, query and update answers, failure messages) is stored as
 * `iv (12 bytes) ‖ AES-256-GCM(the whole original payload, metadata included) ‖ tag (16 bytes)`
 * under the primary key, with the key id in the clear metadata and bound to the ciphertext as
 * associated data. Decoding uses whichever configured key the payload names, so payloads written
 * before a rotation stay readable; payloads that were never encrypted (histories from before
 * encryption) pass through unchanged.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;
  /** The key new payloads are encrypted with. */
  readonly primary: PayloadKey;

  /** `keys[0]` encrypts; every key decrypts. */
  constructor(keys: readonly PayloadKey[]) {
    if (keys.length === 0) throw new ValueError('the payload codec needs at least one key');
    for (const { id, key } of keys) {
      if (key.length !== 32) throw new ValueError(`payload key '${id}' is ${key.length} bytes; AES-256 needs 32`);
    }
    this.keys = new Map(keys.map(({ id, key }) => [id, key]));
    if (this.keys.size !== keys.length) throw new ValueError('payload key ids must be unique');
    this.primary = keys[0]!;
  }

  /** A configured key by id (customer data keys are wrapped by these too: codec/customer-data-keys.ts). */
  keyFor(id: string): Buffer | undefined {
    return this.keys.get(id);
  }

  /** The ids this codec can decrypt, primary first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const { id, key } = this.primary;
    const data = aesGcmEncrypt(key, PayloadMessage.encode(payload).finish(), id);
    return {
      metadata: { [METADATA_ENCODING_KEY]: Buffer.from(encryptedEncoding), [encryptionKeyIdKey]: Buffer.from(id, 'utf8') },
      data,
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || Buffer.from(encoding).toString('utf8') !== encryptedEncoding) return payload;
    const idBytes = payload.metadata?.[encryptionKeyIdKey];
    if (!idBytes) throw new ValueError(`an encrypted payload has no '${encryptionKeyIdKey}' metadata: it cannot be decrypted`);
    const id = Buffer.from(idBytes).toString('utf8');
    const key = this.keys.get(id);
    if (!key) {
      throw new ValueError(`a payload is encrypted with key '${id}', which is not configured (known: ${this.keyIds.join(', ')}): add it to PLEDGE_PAYLOAD_KEYS or the key file`);
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < aesGcmOverheadBytes) throw new ValueError(`an encrypted payload (key '${id}') is too short to be one`);
    const plaintext = aesGcmDecrypt(key, data, id);
    if (!plaintext) {
      throw new ValueError(`an encrypted payload (key '${id}') failed authentication: it was altered or the key '${id}' configured here is not the one it was written with`);
    }
    return PayloadMessage.decode(plaintext);
  }
}
