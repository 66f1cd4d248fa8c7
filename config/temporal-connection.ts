import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

/** The settings that say how to reach Temporal (README "Security and operations"). */
export interface TemporalConnectionEnv {
  TEMPORAL_ADDRESS: string;
  /** `true` for TLS with the system's trusted roots and no client certificate; implied by any setting below. */
  TEMPORAL_TLS?: string;
  /** mTLS: paths of the client certificate and its private key (PEM), both or neither. */
  TEMPORAL_TLS_CERT?: string;
  TEMPORAL_TLS_KEY?: string;
  /** A CA (PEM) to trust for the server's certificate, for a self-hosted cluster with a private CA. */
  TEMPORAL_TLS_CA?: string;
  /** The name the server's certificate is checked against (SNI) when it is not the address's host. */
  TEMPORAL_TLS_SERVER_NAME?: string;
  /** Temporal Cloud API-key authentication; implies TLS. */
  TEMPORAL_API_KEY?: string;
}

/** What both `Connection.connect` (client) and `NativeConnection.connect` (worker) accept. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | true;
  apiKey?: string;
}

/**
 * One place turns the environment into connection options for the API, the worker and the
 * scripts. A file that cannot be read, or does not hold PEM, is refused here with the setting's
 * name, instead of as an opaque handshake failure later.
 */
export function temporalConnectionOptions(env: TemporalConnectionEnv): TemporalConnectionOptions {
  // Compose passes unset optional settings as empty strings.
  const setting = (name: keyof TemporalConnectionEnv) => env[name]?.trim() || undefined;
  const tlsFlag = setting('TEMPORAL_TLS')?.toLowerCase();
  if (tlsFlag !== undefined && tlsFlag !== 'true' && tlsFlag !== 'false') throw new Error(`TEMPORAL_TLS must be true or false, not '${tlsFlag}'`);
  const certPath = setting('TEMPORAL_TLS_CERT');
  const keyPath = setting('TEMPORAL_TLS_KEY');
  const caPath = setting('TEMPORAL_TLS_CA');
  const serverName = setting('TEMPORAL_TLS_SERVER_NAME');
  const apiKey = setting('TEMPORAL_API_KEY');

  if (Boolean(certPath) !== Boolean(keyPath)) {
    const [given, missing] = certPath ? ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY'] : ['TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CERT'];
    throw new Error(`${given} is set but ${missing} is not: mTLS needs both the client certificate and its private key`);
  }
  const wantsTls = tlsFlag === 'true' || Boolean(certPath || caPath || serverName || apiKey);
  if (tlsFlag === 'false' && wantsTls) {
    throw new Error('TEMPORAL_TLS is false but a TLS setting (TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME) or TEMPORAL_API_KEY is set: unset TEMPORAL_TLS or those');
  }

  const options: TemporalConnectionOptions = { address: env.TEMPORAL_ADDRESS };
  if (apiKey) options.apiKey = apiKey;
  if (!wantsTls) return options;
  const tls: TLSConfig = {};
  if (certPath && keyPath) tls.clientCertPair = { crt: readPem('TEMPORAL_TLS_CERT', certPath), key: readPem('TEMPORAL_TLS_KEY', keyPath) };
  if (caPath) tls.serverRootCACertificate = readPem('TEMPORAL_TLS_CA', caPath);
  if (serverName) tls.serverNameOverride = serverName;
  options.tls = Object.keys(tls).length > 0 ? tls : true;
  return options;
}

function readPem(settingName: string, path: string): Buffer {
  let contents: Buffer;
  try {
    contents = readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(`${settingName}: cannot read ${path} (${reason}); point ${settingName} at a PEM file this process can read`);
  }
  if (!contents.toString('latin1').includes('-----BEGIN ')) throw new Error(`${settingName}: ${path} is not a PEM file (no -----BEGIN line)`);
  return contents;
}

/** For log lines: how the connection is secured, never the key or file contents. */
export function describeTemporalConnection(options: TemporalConnectionOptions): string {
  const parts = [options.address];
  if (options.tls === true) parts.push('TLS');
  else if (options.tls) parts.push(options.tls.clientCertPair ? 'mTLS' : 'TLS', ...(options.tls.serverNameOverride ? [`server name ${options.tls.serverNameOverride}`] : []));
  if (options.apiKey) parts.push('API key');
  return parts.join(', ');
}
