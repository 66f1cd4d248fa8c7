import { describe, it, expect } from 'vitest';
import { smsParts } from '../../notifications/sms-parts';

const udhLength = 6;

function ucs2Text(parts: Buffer[], udh: boolean): string {
  return parts
    .map((part) =>
      Buffer.from(part.subarray(udh ? udhLength : 0))
        .swap16()
        .toString('utf16le'),
    )
    .join('');
}

describe('smsParts: GSM 03.38', () => {
  it('sends 160 ASCII characters as one part without a UDH', () => {
    const text = 'a'.repeat(160);
    const { dataCoding, udh, parts } = smsParts(text, 7);
    expect(dataCoding).toBe(0);
    expect(udh).toBe(false);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toEqual(Buffer.from(text, 'ascii'));
  });

  it('splits 161 characters into 153 + 8 with a concatenation UDH', () => {
    const { dataCoding, udh, parts } = smsParts('b'.repeat(161), 42);
    expect(dataCoding).toBe(0);
    expect(udh).toBe(true);
    expect(parts.map((part) => part.length - udhLength)).toEqual([153, 8]);
    expect(parts[0]!.subarray(0, udhLength)).toEqual(Buffer.from([0x05, 0x00, 0x03, 42, 2, 1]));
    expect(parts[1]!.subarray(0, udhLength)).toEqual(Buffer.from([0x05, 0x00, 0x03, 42, 2, 2]));
  });

  it('writes unpacked default-alphabet codes, extension characters as ESC + code', () => {
    const { dataCoding, parts } = smsParts('@£_€[', 1);
    expect(dataCoding).toBe(0);
    expect(parts[0]).toEqual(Buffer.from([0x00, 0x01, 0x11, 0x1b, 0x65, 0x1b, 0x3c]));
  });

  it('counts an extension character as two septets', () => {
    expect(smsParts('€'.repeat(80), 1).parts).toHaveLength(1);
    const { parts } = smsParts('a'.repeat(159) + '{', 1);
    expect(parts).toHaveLength(2);
  });

  it('never splits an escape pair across parts', () => {
    const { parts } = smsParts('a'.repeat(152) + '€' + 'z'.repeat(10), 3);
    expect(parts.map((part) => part.length - udhLength)).toEqual([152, 12]);
    expect(parts[1]!.subarray(udhLength, udhLength + 2)).toEqual(Buffer.from([0x1b, 0x65]));
  });

  it('keeps an empty text as one empty part', () => {
    expect(smsParts('', 0)).toEqual({ dataCoding: 0, udh: false, parts: [Buffer.alloc(0)] });
  });
});

describe('smsParts: UCS-2', () => {
  it('sends 70 Chinese characters as one UTF-16BE part', () => {
    const text = '您'.repeat(70);
    const { dataCoding, udh, parts } = smsParts(text, 9);
    expect(dataCoding).toBe(8);
    expect(udh).toBe(false);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.subarray(0, 2)).toEqual(Buffer.from([0x60, 0xa8]));
    expect(ucs2Text(parts, false)).toBe(text);
  });

  it('splits 71 Chinese characters into 67 + 4', () => {
    const text = '网'.repeat(71);
    const { dataCoding, udh, parts } = smsParts(text, 9);
    expect(dataCoding).toBe(8);
    expect(udh).toBe(true);
    expect(parts.map((part) => (part.length - udhLength) / 2)).toEqual([67, 4]);
    expect(ucs2Text(parts, true)).toBe(text);
  });

  it('switches the whole text to UCS-2 for one character outside the GSM alphabet', () => {
    expect(smsParts('plain ascii and one ç', 1).dataCoding).toBe(8);
    expect(smsParts('a backtick `', 1).dataCoding).toBe(8);
  });

  it('moves a surrogate pair that would straddle the boundary into the next part', () => {
    const text = 'a'.repeat(66) + '😀' + 'b'.repeat(10);
    const { parts } = smsParts(text, 5);
    expect(parts).toHaveLength(2);
    expect(parts.map((part) => (part.length - udhLength) / 2)).toEqual([66, 12]);
    expect(parts[1]!.subarray(udhLength, udhLength + 4)).toEqual(Buffer.from([0xd8, 0x3d, 0xde, 0x00]));
    // Each part decodes on its own: no lone surrogate at either end.
    for (const part of parts) expect(Buffer.from(part.subarray(udhLength)).swap16().toString('utf16le')).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    expect(ucs2Text(parts, true)).toBe(text);
  });
});

describe('smsParts: concatenation', () => {
  it('numbers every part with the same reference, the total and its sequence', () => {
    const text = 'x'.repeat(153 * 4 + 1);
    const { parts } = smsParts(text, 0xab);
    expect(parts).toHaveLength(5);
    parts.forEach((part, index) => {
      expect([...part.subarray(0, udhLength)]).toEqual([0x05, 0x00, 0x03, 0xab, 5, index + 1]);
    });
    expect(parts.map((part) => part.subarray(udhLength).toString('ascii')).join('')).toBe(text);
  });

  it('refuses a reference outside 0–255 and a text needing more than 255 parts', () => {
    expect(() => smsParts('hi', 256)).toThrow(RangeError);
    expect(() => smsParts('hi', -1)).toThrow(RangeError);
    expect(() => smsParts('y'.repeat(153 * 255 + 1), 1)).toThrow(/256 SMS parts/);
  });
});
