import { describe, expect, it } from 'vitest';
import { customerCipher, erasedValue, isSealed, newWrappedDataKey, openDeep, sealFields, unwrapDataKey } from '../../codec/customer-data-keys';
import { AesGcmPayloadCodec } from '../../codec/payload-codec';
import { personalEventFields } from '../../domain/personal-data';

const k1 = { id: 'k1', key: Buffer.alloc(32, 1) };
const k2 = { id: 'k2', key: Buffer.alloc(32, 2) };
const deployment = new AesGcmPayloadCodec([k1]);

describe('customer data keys and sealed fields (D5)', () => {
  it('D5: seals a value under the customer key so that the stored text holds none of it, and opens it again', () => {
    const cipher = customerCipher(deployment, 'cust-1', { wrapped: newWrappedDataKey(deployment, 'cust-1'), shredded: false });
    const sealed = cipher.seal('Wang Wei, +8613800000001');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('Wang');
    expect(cipher.open(sealed)).toBe('Wang Wei, +8613800000001');
    expect(cipher.seal(null)).toBeNull();
    expect(cipher.open('not sealed')).toBe('not sealed');
    expect(cipher.open(cipher.seal({ field: 'name', from: 'a', to: 'b' }))).toEqual({ field: 'name', from: 'a', to: 'b' });
  });

  it('D5: seals only the personal fields of an event, and opens them at any depth', () => {
    const cipher = customerCipher(deployment, 'cust-1', { wrapped: newWrappedDataKey(deployment, 'cust-1'), shredded: false });
    const data = { clock: 'firstResponse', rating: 4, description: 'my router reboots', changes: [{ field: 'email', from: 'a@x.cn', to: 'b@x.cn' }] };
    const sealed = sealFields(cipher, data, personalEventFields);
    expect(sealed.clock).toBe('firstResponse');
    expect(sealed.rating).toBe(4);
    expect(JSON.stringify(sealed)).not.toMatch(/router|a@x\.cn|b@x\.cn/);
    expect(openDeep(cipher, { nested: [sealed] })).toEqual({ nested: [data] });
  });

  it('D3: once the key is destroyed a sealed value reads as erased and new values are written erased', () => {
    const wrapped = newWrappedDataKey(deployment, 'cust-1');
    const live = customerCipher(deployment, 'cust-1', { wrapped, shredded: false });
    const sealed = live.seal('complaint text');
    const shredded = customerCipher(deployment, 'cust-1', { wrapped: null, shredded: true });
    expect(shredded.open(sealed)).toBe(erasedValue);
    expect(shredded.seal('new text')).toBe(erasedValue);
    expect(shredded.open('a plain value')).toBe('a plain value');
  });

  it('D5: a data key is bound to its customer: another customer cannot unwrap it, and a value sealed for one is refused by another', () => {
    const wrapped = newWrappedDataKey(deployment, 'cust-1');
    expect(() => unwrapDataKey(deployment, 'cust-2', wrapped)).toThrow(/does not unwrap/);
    const one = customerCipher(deployment, 'cust-1', { wrapped, shredded: false });
    const two = customerCipher(deployment, 'cust-2', { wrapped: newWrappedDataKey(deployment, 'cust-2'), shredded: false });
    expect(() => two.open(one.seal('secret'))).toThrow(/failed authentication/);
  });

  it('D5: a key wrapped under deployment key k1 still unwraps after k2 becomes primary, and not once k1 is removed', () => {
    const wrapped = newWrappedDataKey(deployment, 'cust-1');
    const sealed = customerCipher(deployment, 'cust-1', { wrapped, shredded: false }).seal('kept');
    const rotated = new AesGcmPayloadCodec([k2, k1]);
    expect(customerCipher(rotated, 'cust-1', { wrapped, shredded: false }).open(sealed)).toBe('kept');
    expect(newWrappedDataKey(rotated, 'cust-3')).toMatch(/^k2:/);
    expect(() => unwrapDataKey(new AesGcmPayloadCodec([k2]), 'cust-1', wrapped)).toThrow(/'k1', which is not configured/);
  });

  it('D5: a customer without a data key yet (rows from before field encryption) keeps values as they are', () => {
    const cipher = customerCipher(deployment, 'cust-9', { wrapped: null, shredded: false });
    expect(cipher.state).toBe('unkeyed');
    expect(cipher.seal('plain')).toBe('plain');
    expect(sealFields(cipher, { description: 'plain' }, personalEventFields)).toEqual({ description: 'plain' });
  });
});
