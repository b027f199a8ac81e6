import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { isTemporalUp } from '../../../src/infra/temporal-reachable.js';
import { describeConnection, temporalConnectionOptions } from '../../../src/infra/temporal-connection.js';

/** The settings of a self-hosted cluster with mTLS, from the certificates made below. */
const mtls = () => ({
  TEMPORAL_TLS_CA_PATH: file('ca.pem'),
  TEMPORAL_TLS_CERT_PATH: file('client.pem'),
  TEMPORAL_TLS_KEY_PATH: file('client.key'),
  TEMPORAL_TLS_SERVER_NAME: 'frontend.test',
});

/** The options every process connects with, from the environment alone. */
function optionsFrom(env: Record<string, string>) {
  return temporalConnectionOptions(undefined, loadConfig({ NODE_ENV: 'test', ...env }).temporal);
}

let dir: string;
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });

beforeAll(() => {
  // A throwaway CA, and a server and a client certificate it signed.
  dir = mkdtempSync(path.join(os.tmpdir(), 'temporal-tls-'));
  openssl(
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca'],
    ...['-keyout', file('ca.key'), '-out', file('ca.pem')],
  );
  const extensions = {
    server: 'subjectAltName=DNS:frontend.test\nextendedKeyUsage=serverAuth',
    client: 'extendedKeyUsage=clientAuth',
  };
  for (const [name, ext] of Object.entries(extensions)) {
    writeFileSync(file(`${name}.ext`), `basicConstraints=CA:FALSE\n${ext}\n`);
    openssl(
      ...['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`],
      ...['-keyout', file(`${name}.key`), '-out', file(`${name}.csr`)],
    );
    openssl(
      ...['x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key')],
      ...['-CAcreateserial', '-days', '1', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`)],
    );
  }
  writeFileSync(file('not-pem.txt'), 'hello');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A stand-in for a Temporal frontend behind mTLS: it answers every gRPC call with an empty message
 * (enough for GetSystemInfo, which both connection kinds call first) and records the Authorization header.
 */
async function mtlsFrontend() {
  const authorizations: (string | undefined)[] = [];
  const server = http2.createSecureServer({
    key: readFileSync(file('server.key')),
    cert: readFileSync(file('server.pem')),
    ca: readFileSync(file('ca.pem')),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('stream', (stream, headers) => {
    authorizations.push(headers['authorization']);
    stream.resume();
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.alloc(5)); // not compressed, length 0
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { address, authorizations, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('Temporal connection options', () => {
  it('connects in plaintext to the local dev server when nothing is set', () => {
    expect(optionsFrom({})).toEqual({ address: '127.0.0.1:7233', tls: false });
    expect(optionsFrom({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_TLS: '' })).toEqual({
      address: 'temporal:7233',
      tls: false,
    });
  });

  it('uses mTLS with the server CA, client pair and server name from TEMPORAL_TLS_*', () => {
    const options = optionsFrom({ ...mtls(), TEMPORAL_ADDRESS: 'temporal.internal:7233' });
    expect(options.address).toBe('temporal.internal:7233');
    expect(options.apiKey).toBeUndefined();
    expect(options.tls).toEqual({
      serverRootCACertificate: readFileSync(file('ca.pem')),
      clientCertPair: { crt: readFileSync(file('client.pem')), key: readFileSync(file('client.key')) },
      serverNameOverride: 'frontend.test',
    });
    expect(describeConnection(options)).toBe('temporal.internal:7233 (mTLS)');
  });

  it('reaches an mTLS frontend with the API key, from clients and workers alike', async () => {
    const frontend = await mtlsFrontend();
    try {
      const key = 'secret-api-key-77e0';
      const options = optionsFrom({ ...mtls(), TEMPORAL_ADDRESS: frontend.address, TEMPORAL_API_KEY: key });
      expect(await isTemporalUp(options)).toBe(true); // what the API and the CLI check first, then connect with
      await (await NativeConnection.connect(options)).close(); // the workers' connection
      expect(frontend.authorizations.length).toBeGreaterThanOrEqual(2);
      expect(new Set(frontend.authorizations)).toEqual(new Set([`Bearer ${key}`]));

      const { TEMPORAL_TLS_CERT_PATH: _, TEMPORAL_TLS_KEY_PATH: __, ...withoutClientPair } = mtls();
      const tlsOnly = optionsFrom({ ...withoutClientPair, TEMPORAL_ADDRESS: frontend.address });
      expect(await isTemporalUp(tlsOnly, 1_000), 'no client certificate').toBe(false);
      const plain = optionsFrom({ TEMPORAL_ADDRESS: frontend.address });
      expect(await isTemporalUp(plain, 1_000), 'plaintext').toBe(false);
    } finally {
      await frontend.close();
    }
  });

  it('uses TLS with the system CAs and the API key for Temporal Cloud, and never shows the key', () => {
    const key = 'secret-api-key-5c1d';
    const env = { TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233', TEMPORAL_API_KEY: key };
    const options = optionsFrom(env);
    expect(options).toEqual({ address: env.TEMPORAL_ADDRESS, tls: true, apiKey: key });
    expect(describeConnection(options)).toBe('eu-west-1.aws.api.temporal.io:7233 (TLS, API key)');
    expect(JSON.stringify(loadConfig({ NODE_ENV: 'test', ...env }))).not.toContain(key);
  });

  it('TEMPORAL_TLS decides when set', () => {
    expect(optionsFrom({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' })).toEqual({
      address: '127.0.0.1:7233',
      tls: false,
      apiKey: 'k',
    });
    expect(optionsFrom({ TEMPORAL_TLS: 'true' }).tls).toBe(true);
  });

  it('names the variable when a certificate setting is unusable', () => {
    expect(() => optionsFrom({ TEMPORAL_TLS_CERT_PATH: file('client.pem') })).toThrow(
      /TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together/,
    );
    expect(() => optionsFrom({ TEMPORAL_TLS_CA_PATH: file('missing.pem') })).toThrow(
      new ConfigError(`TEMPORAL_TLS_CA_PATH: cannot read ${file('missing.pem')} (ENOENT)`),
    );
    expect(() => optionsFrom({ TEMPORAL_TLS_CA_PATH: file('not-pem.txt') })).toThrow(
      /TEMPORAL_TLS_CA_PATH: .* is not a PEM file/,
    );
  });
});
