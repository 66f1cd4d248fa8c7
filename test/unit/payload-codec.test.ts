import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { encodeErrorToFailure, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { pledgeDataConverter } from '../../codec/data-converter';
import { devPayloadKey, loadPayloadKeys, loadPseudonymKey, parseKeyList } from '../../codec/keys';
import { AesGcmPayloadCodec, encryptedEncoding, type PayloadKey } from '../../codec/payload-codec';
import { pseudonymiseCustomerId } from '../../codec/pseudonym';
import { devApiKeys, loadPolicies, parseApiKeys, readEnv } from '../../config';
import { devKeys } from '../support/stack';

const k1: PayloadKey = { id: 'k1', key: randomBytes(32) };
const k2: PayloadKey = { id: 'k2', key: randomBytes(32) };
const secret = { customerId: 'cust-d5-0001', summary: 'Zhao Mingyue was charged twice', phone: '+8613800138000' };
const text = (payload: Payload) => Buffer.from(payload.data ?? []).toString('utf8');
const metadata = (payload: Payload, name: string) => Buffer.from(payload.metadata?.[name] ?? []).toString('utf8');
const tempDir = mkdtempSync(join(tmpdir(), 'pledge-codec-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

describe('the payload codec (D5)', () => {
  it('D5: round-trips a payload, metadata included, and stores neither its text nor its encoding in the clear', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const original = defaultPayloadConverter.toPayload(secret);
    const [encrypted] = await codec.encode([original]);
    expect(metadata(encrypted!, 'encoding')).toBe(encryptedEncoding);
    expect(metadata(encrypted!, 'encryption-key-id')).toBe('k1');
    for (const clear of [secret.customerId, secret.summary, secret.phone, 'json/plain']) expect(text(encrypted!)).not.toContain(clear);
    const [decoded] = await codec.decode([encrypted!]);
    expect(metadata(decoded!, 'encoding')).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(secret);
  });

  it('D5: draws a fresh 96-bit IV for every payload, so equal payloads never encrypt alike', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const payload = defaultPayloadConverter.toPayload(secret);
    const encrypted = await codec.encode(Array.from({ length: 1000 }, () => payload));
    const ivs = new Set(encrypted.map((entry) => Buffer.from(entry.data!).subarray(0, 12).toString('hex')));
    expect(ivs.size).toBe(1000);
    expect(new Set(encrypted.map((entry) => Buffer.from(entry.data!).toString('hex'))).size).toBe(1000);
  });

  it('D5: refuses a payload whose ciphertext, tag or key id was altered', async () => {
    const codec = new AesGcmPayloadCodec([k1, k2]);
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(secret)]);
    const data = Buffer.from(encrypted!.data!);
    for (const index of [0, 12, data.length - 1]) {
      const altered = Buffer.from(data);
      altered[index]! ^= 0x01;
      await expect(codec.decode([{ ...encrypted!, data: altered }])).rejects.toThrow(/key 'k1'.*failed authentication/);
    }
    // The key id is bound to the ciphertext: relabelling it as another known key fails too.
    const relabelled = { ...encrypted!, metadata: { ...encrypted!.metadata, 'encryption-key-id': Buffer.from('k2') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/key 'k2'.*failed authentication/);
    await expect(codec.decode([{ ...encrypted!, data: data.subarray(0, 20) }])).rejects.toThrow(/too short/);
  });

  it('D5: an unknown key id fails clearly, naming the key and where to configure it', async () => {
    const [encrypted] = await new AesGcmPayloadCodec([{ id: 'k9', key: randomBytes(32) }]).encode([defaultPayloadConverter.toPayload(secret)]);
    await expect(new AesGcmPayloadCodec([k2, k1]).decode([encrypted!])).rejects.toThrow(
      "a payload is encrypted with key 'k9', which is not configured (known: k2, k1): add it to PLEDGE_PAYLOAD_KEYS or the key file",
    );
  });

  it('D5: payloads that were never encrypted (histories from before encryption) pass through decode unchanged', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const plain = [defaultPayloadConverter.toPayload(secret), defaultPayloadConverter.toPayload(null), defaultPayloadConverter.toPayload(new Uint8Array([1, 2, 3])), { data: Buffer.from('x') }];
    expect(await codec.decode(plain)).toEqual(plain);
  });

  it('D5: rotation: a payload written under k1 decodes after k2 became primary; new payloads use k2; k1 cannot be dropped while it is in use', async () => {
    const [underK1] = await new AesGcmPayloadCodec([k1]).encode([defaultPayloadConverter.toPayload(secret)]);
    const rotated = new AesGcmPayloadCodec([k2, k1]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([underK1!]))[0]!)).toEqual(secret);
    const [underK2] = await rotated.encode([defaultPayloadConverter.toPayload(secret)]);
    expect(metadata(underK2!, 'encryption-key-id')).toBe('k2');
    await expect(new AesGcmPayloadCodec([k2]).decode([underK1!])).rejects.toThrow(/key 'k1', which is not configured/);
  });

  it('D5: failure messages and stacks are encoded as a payload, so the codec encrypts them', async () => {
    const converter = loadDataConverter(pledgeDataConverter(new AesGcmPayloadCodec([k1])));
    const failure = await encodeErrorToFailure(converter, new Error(`could not reach ${secret.phone}`));
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    expect(metadata(failure.encodedAttributes!, 'encoding')).toBe(encryptedEncoding);
    expect(JSON.stringify(failure)).not.toContain(secret.phone);
  });
});

describe('payload keys and pseudonyms (D5)', () => {
  const base64 = (key: PayloadKey) => key.key.toString('base64');

  it('D5: PLEDGE_PAYLOAD_KEYS lists keys primary first; a key file does the same', () => {
    const keys = loadPayloadKeys({ NODE_ENV: 'production', PLEDGE_PAYLOAD_KEYS: `k2:${base64(k2)}, k1:${base64(k1)}` });
    expect(keys.map((key) => key.id)).toEqual(['k2', 'k1']);
    expect(keys[0]!.key.equals(k2.key)).toBe(true);
    const file = join(tempDir, 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [{ id: 'k1', key: base64(k1) }] }));
    expect(loadPayloadKeys({ NODE_ENV: 'production', PLEDGE_PAYLOAD_KEY_FILE: file }).map((key) => key.id)).toEqual(['k1']);
  });

  it('D5: refuses to run production without keys, or on the development key; development says it uses the public key', () => {
    expect(() => loadPayloadKeys({ NODE_ENV: 'production' })).toThrow(/PLEDGE_PAYLOAD_KEYS \(or PLEDGE_PAYLOAD_KEY_FILE\) is required in production/);
    expect(() => loadPayloadKeys({ NODE_ENV: 'production', PLEDGE_PAYLOAD_KEYS: `dev:${base64(devPayloadKey)}` })).toThrow(/development payload key is not allowed/);
    const logged: string[] = [];
    expect(loadPayloadKeys({ NODE_ENV: 'development' }, (message) => logged.push(message))).toEqual([devPayloadKey]);
    expect(logged).toEqual([expect.stringContaining('DEVELOPMENT key')]);
    expect(() => loadPseudonymKey({ NODE_ENV: 'production' })).toThrow(/PLEDGE_PSEUDONYM_KEY is required in production/);
  });

  it('D5: a malformed key list names the entry, never the key material', () => {
    expect(() => parseKeyList(`k1:${randomBytes(16).toString('base64')}`)).toThrow("key 'k1' must be 32 bytes in base64");
    expect(() => parseKeyList(`k1:${base64(k1)},k1:${base64(k2)}`)).toThrow("key id 'k1' is listed twice");
    expect(() => parseKeyList(base64(k1))).toThrow(/has no id/);
    expect(() => loadPayloadKeys({ NODE_ENV: 'development', PLEDGE_PAYLOAD_KEYS: `k1:${base64(k1)}`, PLEDGE_PAYLOAD_KEY_FILE: '/x' })).toThrow(/not both/);
  });

  it('D5: the CustomerId pseudonym is a keyed HMAC: stable per key, different under another key, not the id', () => {
    const pseudonym = pseudonymiseCustomerId('a-secret-of-16-chars', secret.customerId);
    expect(pseudonym).toMatch(/^c_[0-9a-f]{16}$/);
    expect(pseudonymiseCustomerId('a-secret-of-16-chars', secret.customerId)).toBe(pseudonym);
    expect(pseudonymiseCustomerId('another-secret-of-16', secret.customerId)).not.toBe(pseudonym);
    expect(pseudonymiseCustomerId('a-secret-of-16-chars', 'cust-d5-0002')).not.toBe(pseudonym);
  });
});

describe('the codec endpoint for the Temporal UI (D5)', () => {
  const env = readEnv({ PLEDGE_API_KEYS: devApiKeys });
  const codec = new AesGcmPayloadCodec([k2, k1]);
  const uiOrigin = 'http://127.0.0.1:18272';
  const app = createApp({ temporal: {} as never, sql: {} as never, apiKeys: parseApiKeys(env), policies: loadPolicies(env), taskQueue: 'codec', payloadCodec: codec, codecCorsOrigins: [uiOrigin] });
  const toJson = (payload: Payload) => ({
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('D5: decodes and encodes in the codec server protocol for a staff key; 401 without one, 403 for the alert source', async () => {
    const [underK1] = await new AesGcmPayloadCodec([k1]).encode([defaultPayloadConverter.toPayload(secret)]);
    const body = { payloads: [toJson(underK1!), toJson(defaultPayloadConverter.toPayload('plain'))] };
    const decoded = await post('/codec/decode', body, { authorization: `Bearer ${devKeys.auditor}`, 'x-namespace': 'default' });
    expect(decoded.status).toBe(200);
    const { payloads } = (await decoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual(secret);
    expect(payloads[1]).toEqual(body.payloads[1]);

    const encoded = await post('/codec/encode', { payloads: [payloads[0]] }, { authorization: `Bearer ${devKeys.agent}` });
    const reencrypted = ((await encoded.json()) as { payloads: Array<{ metadata: Record<string, string> }> }).payloads[0]!;
    expect(Buffer.from(reencrypted.metadata['encryption-key-id']!, 'base64').toString()).toBe('k2');

    expect((await post('/codec/decode', body)).status).toBe(401);
    expect((await post('/codec/decode', body, { authorization: 'Bearer not-a-staff-key' })).status).toBe(401);
    expect((await post('/codec/decode', body, { authorization: `Bearer ${devKeys.alertSource}` })).status).toBe(403);
    const altered = { payloads: [{ ...toJson(underK1!), data: Buffer.alloc(40).toString('base64') }] };
    expect((await post('/codec/decode', altered, { authorization: `Bearer ${devKeys.agent}` })).status).toBe(422);
  });

  it("D5: answers the UI's preflight without a key, for the UI's origin only", async () => {
    const preflight = (origin: string) =>
      app.request('/codec/decode', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
    const allowed = await preflight(uiOrigin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('D5: a browser signs in once with a staff key; the HttpOnly cookie then authorises the UI’s codec calls', async () => {
    const form = await app.request('/codec/session', { headers: { accept: 'text/html' } });
    expect(form.status).toBe(401);
    expect(await form.text()).toContain('name="key"');
    const refused = await app.request('/codec/session', { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: 'key=not-a-staff-key' });
    expect(refused.status).toBe(401);
    const signedIn = await app.request('/codec/session', { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: `key=${devKeys.supervisor}` });
    expect(signedIn.status).toBe(200);
    const cookie = signedIn.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^pledge_codec_session=.+; Max-Age=28800; Path=\/codec; HttpOnly; SameSite=Strict$/);
    const [underK1] = await new AesGcmPayloadCodec([k1]).encode([defaultPayloadConverter.toPayload(secret)]);
    const decoded = await post('/codec/decode', { payloads: [toJson(underK1!)] }, { cookie: cookie.split(';')[0]!, origin: uiOrigin });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect((await post('/codec/decode', { payloads: [] }, { cookie: 'pledge_codec_session=not-a-staff-key' })).status).toBe(401);
  });

  it("D5: staff find a customer's cases in the Temporal UI by the pseudonym the API gives them", async () => {
    const response = await app.request(`/v1/customers/${secret.customerId}/temporal-search`, { headers: { authorization: `Bearer ${devKeys.auditor}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { value: string; query: string };
    expect(body.value).toMatch(/^c_[0-9a-f]{16}$/);
    expect(body.query).toBe(`CustomerId = '${body.value}'`);
    expect((await app.request(`/v1/customers/${secret.customerId}/temporal-search`)).status).toBe(401);
  });
});
