import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeTemporalConnection, temporalConnectionOptions, type TemporalConnectionEnv } from '../../config/temporal-connection';

const dir = mkdtempSync(join(tmpdir(), 'pledge-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pem = (name: string, label: string) => {
  const path = join(dir, name);
  writeFileSync(path, `-----BEGIN ${label}-----\n${name}\n-----END ${label}-----\n`);
  return path;
};
const cert = pem('client.crt', 'CERTIFICATE');
const key = pem('client.key', 'PRIVATE KEY');
const ca = pem('ca.crt', 'CERTIFICATE');
const address = 'pledge.a1b2c.tmprl.cloud:7233';
const options = (settings: Partial<TemporalConnectionEnv>) => temporalConnectionOptions({ TEMPORAL_ADDRESS: address, ...settings });

describe('Temporal connection options from the environment', () => {
  it('is plain gRPC when nothing is set, and when the settings are empty (as compose passes them)', () => {
    expect(options({})).toEqual({ address });
    expect(options({ TEMPORAL_TLS: '', TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: ' ', TEMPORAL_TLS_CA: '', TEMPORAL_TLS_SERVER_NAME: '', TEMPORAL_API_KEY: '' })).toEqual({ address });
    expect(options({ TEMPORAL_TLS: 'false' })).toEqual({ address });
  });

  it('TEMPORAL_TLS=true alone is TLS with the system roots', () => {
    expect(options({ TEMPORAL_TLS: 'true' })).toEqual({ address, tls: true });
  });

  it('an API key implies TLS (Temporal Cloud)', () => {
    expect(options({ TEMPORAL_API_KEY: 'cloud-api-key' })).toEqual({ address, tls: true, apiKey: 'cloud-api-key' });
  });

  it('mTLS: the certificate and key files become the client pair', () => {
    const result = options({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key });
    expect(result.apiKey).toBeUndefined();
    expect(result.tls).toEqual({ clientCertPair: { crt: expect.any(Buffer), key: expect.any(Buffer) } });
    const tls = result.tls as { clientCertPair: { crt: Buffer; key: Buffer } };
    expect(tls.clientCertPair.crt.toString()).toContain('client.crt');
    expect(tls.clientCertPair.key.toString()).toContain('client.key');
  });

  it('a private CA and a server name, with or without a client pair and an API key', () => {
    expect(options({ TEMPORAL_TLS_CA: ca })).toEqual({ address, tls: { serverRootCACertificate: expect.any(Buffer) } });
    expect(options({ TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' })).toEqual({ address, tls: { serverNameOverride: 'temporal.internal' } });
    const everything = options({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal', TEMPORAL_API_KEY: 'k' });
    expect(everything).toEqual({
      address,
      apiKey: 'k',
      tls: { clientCertPair: { crt: expect.any(Buffer), key: expect.any(Buffer) }, serverRootCACertificate: expect.any(Buffer), serverNameOverride: 'temporal.internal' },
    });
  });

  it('a certificate without its key (or the reverse) is refused, naming the missing setting', () => {
    expect(() => options({ TEMPORAL_TLS_CERT: cert })).toThrow(/TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not/);
    expect(() => options({ TEMPORAL_TLS_KEY: key })).toThrow(/TEMPORAL_TLS_KEY is set but TEMPORAL_TLS_CERT is not/);
  });

  it('a missing or non-PEM file is refused, naming the setting and the path', () => {
    const missing = join(dir, 'nope.pem');
    expect(() => options({ TEMPORAL_TLS_CA: missing })).toThrow(new RegExp(`^TEMPORAL_TLS_CA: cannot read ${missing} \\(ENOENT\\)`));
    expect(() => options({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: missing })).toThrow(/^TEMPORAL_TLS_KEY: cannot read/);
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    expect(() => options({ TEMPORAL_TLS_CA: notPem })).toThrow(/^TEMPORAL_TLS_CA: .* is not a PEM file/);
  });

  it('TEMPORAL_TLS must be true or false, and false contradicts the other TLS settings', () => {
    expect(() => options({ TEMPORAL_TLS: 'yes' })).toThrow(/TEMPORAL_TLS must be true or false/);
    expect(() => options({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })).toThrow(/TEMPORAL_TLS is false but/);
  });

  it('describes the connection for logs without the key', () => {
    expect(describeTemporalConnection(options({}))).toBe(address);
    expect(describeTemporalConnection(options({ TEMPORAL_API_KEY: 'secret-cloud-key' }))).toBe(`${address}, TLS, API key`);
    expect(describeTemporalConnection(options({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_SERVER_NAME: 'x' }))).toBe(`${address}, mTLS, server name x`);
  });
});
