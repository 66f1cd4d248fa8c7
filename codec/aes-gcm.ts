import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ivBytes = 12;
const tagBytes = 16;
/** The bytes aesGcmEncrypt adds to the plaintext: its iv and its tag. */
export const aesGcmOverheadBytes = ivBytes + tagBytes;

/** `iv (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes)`, with `aad` bound to it. */
export function aesGcmEncrypt(key: Buffer, plaintext: Uint8Array, aad: string): Buffer {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
}

/** The plaintext of aesGcmEncrypt's output; undefined when it is too short, altered, or under another key or `aad`. */
export function aesGcmDecrypt(key: Buffer, data: Buffer, aad: string): Buffer | undefined {
  if (data.length < aesGcmOverheadBytes) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, ivBytes));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(data.subarray(data.length - tagBytes));
  try {
    return Buffer.concat([decipher.update(data.subarray(ivBytes, data.length - tagBytes)), decipher.final()]);
  } catch {
    return undefined;
  }
}
