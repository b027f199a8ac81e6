import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapter, parseOperatorsYaml } from '../../../src/operators/registry.js';

const KEY = 's3cr3t-key-123';

/** Errors that leave an adapter, from a real HTTP server answering like a hostile or broken operator. */
describe('adapter errors', () => {
  let server: http.Server;
  let body = '';
  let baseUrl: string;
  beforeAll(async () => {
    server = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(body),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ops/b`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const adapter = () =>
    createAdapter(
      parseOperatorsYaml(
        `operators:\n  - { id: b, name: B, dialect: B, baseUrl: '${baseUrl}', apiKeyEnv: KEY_ENV }\n`,
        'ops.yaml',
      )[0],
      { secret: () => KEY, rateLimiter: { acquire: async () => undefined } },
    );

  it('never carries an API key the operator echoes inside a 200 error body', async () => {
    body = JSON.stringify({
      requestStatus: {
        success: false,
        error: { errorCode: 'INVALID_API_KEY', errorMessage: `The apiKey ${KEY} is not valid` },
      },
    });
    const err = await failure(adapter().listPage(undefined, { mode: 'full' }));
    expect(err).toMatchObject({ type: 'OperatorApplicationError', retryable: false });
    expect(err.message).toContain('REDACTED');
    expect(`${err.message}\n${err.stack}`).not.toContain(KEY);
  });

  it('a listing answered NOT_FOUND fails instead of ending as an empty (complete) listing', async () => {
    body = JSON.stringify({
      requestStatus: { success: false, error: { errorCode: 'NOT_FOUND', errorMessage: 'no products' } },
    });
    const err = await failure(adapter().listPage(undefined, { mode: 'full' }));
    expect(err).toMatchObject({ type: 'OperatorPayloadInvalid' });
    expect(err.message).toMatch(/NOT_FOUND instead of a page/);
  });
});

async function failure(p: Promise<unknown>): Promise<Error> {
  const outcome = await p.then(
    () => undefined,
    (e: Error) => e,
  );
  if (!outcome) throw new Error('expected the call to fail');
  return outcome;
}
