import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { config, ConfigError, type Config } from '../config.js';

/**
 * What both `Connection.connect` (clients: API, CLI, workers' own client) and `NativeConnection.connect`
 * (workers) take, so every process reaches the server the same way: plain on a dev server, TLS or mTLS
 * on a real cluster, an API key on Temporal Cloud.
 */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

/** Where clients and workers connect: TEMPORAL_ADDRESS, else the local dev server's port. */
function temporalAddress(settings: Config['temporal'] = config().temporal): string {
  return settings.address ?? `127.0.0.1:${settings.port}`;
}

/** Reads the certificate files named by TEMPORAL_TLS_*_PATH; the key itself is never logged. */
export function temporalConnectionOptions(
  address?: string,
  settings: Config['temporal'] = config().temporal,
): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: address ?? temporalAddress(settings) };
  const apiKey = settings.apiKey();
  if (apiKey) options.apiKey = apiKey;
  const { enabled, caPath, certPath, keyPath, serverName } = settings.tls;
  // Explicit `false`: the SDK turns TLS on by itself when it sees an API key.
  if (!enabled) return { ...options, tls: false };
  const tls: TLSConfig = {};
  if (caPath) tls.serverRootCACertificate = readPem('TEMPORAL_TLS_CA_PATH', caPath);
  if (certPath && keyPath)
    tls.clientCertPair = {
      crt: readPem('TEMPORAL_TLS_CERT_PATH', certPath),
      key: readPem('TEMPORAL_TLS_KEY_PATH', keyPath),
    };
  if (serverName) tls.serverNameOverride = serverName;
  // `true`: TLS with the system's CAs (Temporal Cloud with an API key).
  options.tls = Object.keys(tls).length ? tls : true;
  return options;
}

/** Describes the connection for logs and error messages: the address and how it is secured, no secrets. */
export function describeConnection(options: TemporalConnectionOptions): string {
  const security = [
    !options.tls
      ? 'plaintext'
      : typeof options.tls === 'object' && options.tls.clientCertPair
        ? 'mTLS'
        : 'TLS',
    ...(options.apiKey ? ['API key'] : []),
  ];
  return `${options.address} (${security.join(', ')})`;
}

function readPem(variable: string, file: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  if (!pem.includes('-----BEGIN ')) throw new ConfigError(`${variable}: ${file} is not a PEM file`);
  return pem;
}
