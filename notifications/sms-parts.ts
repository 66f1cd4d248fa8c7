// Splitting a text into SMPP short_messages: the GSM 03.38 default alphabet when every
// character has a code there, UCS-2 otherwise (3GPP TS 23.038), joined again on the handset
// by a concatenation UDH (TS 23.040 §9.2.3.24.1). Pure.

export interface SmsParts {
  /**
   * 0: GSM 03.38 default alphabet, sent unpacked — one septet per byte, extension characters
   * as ESC (0x1B) + code — which is what an SMSC expects in short_message with data_coding 0;
   * the SMSC packs the septets for the air interface.
   * 8: UCS-2, as UTF-16BE (characters outside the BMP travel as surrogate pairs).
   */
  dataCoding: 0 | 8;
  /** True when every part starts with a concatenation UDH: submit them with esm_class 0x40. */
  udh: boolean;
  /** Each part's short_message, in order: the UDH (when concatenated), then the payload. */
  parts: Buffer[];
}

/** Characters per message: alone, or in a concatenated part, which loses 6 octets to the UDH. */
const limits = {
  gsm: { single: 160, concatenated: 153 },
  ucs2: { single: 70, concatenated: 67 },
};

const maxParts = 255;

// The default alphabet by code; 0x1B is the escape to the extension table, not a character.
const gsmAlphabet = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const escape = 0x1b;
const gsmCodes = new Map([...gsmAlphabet].map((char, code) => [char, code] as const).filter(([, code]) => code !== escape));
const gsmExtensionCodes = new Map<string, number>([
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
]);

/** One character as encoded; it is never split across parts. */
interface EncodedChar {
  /** Its cost against the limits: septets for GSM (2 with the escape), UTF-16 code units for UCS-2. */
  size: number;
  bytes: number[];
}

/**
 * `reference` (0–255) is the concatenation reference carried by every part; the handset joins
 * parts with the same sender, reference and total, so it should differ between messages sent
 * close together to the same number.
 */
export function smsParts(text: string, reference: number): SmsParts {
  if (!Number.isInteger(reference) || reference < 0 || reference > 0xff) throw new RangeError(`concatenation reference must be 0–255, got ${reference}`);
  const gsm = encodeGsm(text);
  const dataCoding = gsm ? 0 : 8;
  const chunks = split(gsm ?? encodeUcs2(text), gsm ? limits.gsm : limits.ucs2);
  if (chunks.length > maxParts) throw new RangeError(`text needs ${chunks.length} SMS parts; at most ${maxParts} can be concatenated`);
  const payloads = chunks.map((chunk) => Buffer.from(chunk.flatMap((char) => char.bytes)));
  if (payloads.length === 1) return { dataCoding, udh: false, parts: payloads };
  const parts = payloads.map((payload, index) => Buffer.concat([concatenationUdh(reference, payloads.length, index + 1), payload]));
  return { dataCoding, udh: true, parts };
}

/** UDH length 5; IE 0x00 (concatenated short messages, 8-bit reference), length 3: reference, total, sequence (from 1). */
function concatenationUdh(reference: number, total: number, sequence: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, reference, total, sequence]);
}

/** Undefined when some character is in neither the default alphabet nor its extension table. */
function encodeGsm(text: string): EncodedChar[] | undefined {
  const chars: EncodedChar[] = [];
  for (const char of text) {
    const code = gsmCodes.get(char);
    const extension = gsmExtensionCodes.get(char);
    if (code !== undefined) chars.push({ size: 1, bytes: [code] });
    else if (extension !== undefined) chars.push({ size: 2, bytes: [escape, extension] });
    else return undefined;
  }
  return chars;
}

/** Iterating by code point keeps each surrogate pair in one piece. */
function encodeUcs2(text: string): EncodedChar[] {
  return [...text].map((char) => ({ size: char.length, bytes: [...Buffer.from(char, 'utf16le').swap16()] }));
}

function split(chars: EncodedChar[], limit: { single: number; concatenated: number }): EncodedChar[][] {
  const total = chars.reduce((sum, char) => sum + char.size, 0);
  if (total <= limit.single) return [chars];
  const chunks: EncodedChar[][] = [];
  let chunk: EncodedChar[] = [];
  let used = 0;
  for (const char of chars) {
    if (used + char.size > limit.concatenated) {
      chunks.push(chunk);
      chunk = [];
      used = 0;
    }
    chunk.push(char);
    used += char.size;
  }
  chunks.push(chunk);
  return chunks;
}
