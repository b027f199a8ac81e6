import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OperatorHttpError,
  OperatorPayloadError,
  OperatorThrottledError,
} from '../../../src/operators/errors.js';
import { MAX_RETRY_AFTER_MS } from '../../../src/net/retry-after.js';
import { createOperatorHttp, withQuery, type OperatorHttp } from '../../../src/operators/http.js';

const KEY = 'super-secret-key-42';
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes: Record<string, Handler> = {
  '/ops/x/ok': (req, res) => {
    res.setHeader('content-type', 'application/json;version=2.0');
    res.end(JSON.stringify({ key: req.headers['exp-api-key'], ua: req.headers['user-agent'] }));
  },
  '/ops/x/throttled': (req, res) => {
    const retryAfter = new URL(req.url!, 'http://x').searchParams.get('ra');
    if (retryAfter) res.setHeader('retry-after', retryAfter);
    res.writeHead(429, { 'content-type': 'application/json', 'ratelimit-reset': '30' });
    res.end('{"code":"TOO_MANY_REQUESTS","message":"slow down"}');
  },
  '/ops/x/plain429': (_req, res) => res.writeHead(429).end(),
  '/ops/x/quota403': (_req, res) =>
    res
      .writeHead(403, { 'x-ratelimit-remaining': '0', 'content-type': 'text/xml' })
      .end('<error>quota</error>'),
  '/ops/x/auth403': (_req, res) => res.writeHead(403).end('forbidden'),
  '/ops/x/boom': (_req, res) => res.writeHead(500).end('internal'),
  '/ops/x/maintenance': (_req, res) => res.writeHead(503, { 'retry-after': '3' }).end(),
  // Dialect A sends its quota window's reset on every response; it says nothing about a 503.
  '/ops/x/unavailable': (_req, res) => res.writeHead(503, { 'ratelimit-reset': '240' }).end(),
  '/ops/x/echo-key': (req, res) => res.writeHead(400).end(`bad request ${req.url} with key ${KEY}`),
  '/ops/x/malformed': (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(`{"products": [${'x'.repeat(500)}`),
  '/ops/x/html': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'),
  '/ops/x/huge': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('['.padEnd(4096, ' '));
    setTimeout(() => res.end(' '.repeat(4096) + ']'), 20);
  },
  '/ops/x/huge-declared': (_req, res) =>
    res
      .writeHead(200, { 'content-type': 'application/json', 'content-length': '9000' })
      .end('['.padEnd(8999, ' ') + ']'),
  '/ops/x/slow': () => undefined,
  '/ops/x/missing': (_req, res) =>
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"NOT_FOUND"}'),
  '/ops/x/redirect': (_req, res) => res.writeHead(302, { location: 'http://elsewhere.example/steal' }).end(),
  '/ops/x/dated': (_req, res) =>
    res
      .writeHead(200, { 'content-type': 'application/json', date: 'Tue, 02 Jan 2024 03:04:05 GMT' })
      .end('{}'),
  '/ops/x/undated': (_req, res) => {
    res.sendDate = false;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  },
  '/ops/x/xml': (_req, res) =>
    res
      .writeHead(200, { 'content-type': 'text/xml; charset=utf-8' })
      .end('<response><error>OK</error></response>'),
};

let server: Server;
let base: string;
let http: OperatorHttp;
let acquired = 0;

beforeAll(async () => {
  server = createServer((req, res) =>
    (routes[req.url!.split('?')[0]] ?? ((_q, r) => r.writeHead(599).end()))(req, res),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ops/x/`;
  http = createOperatorHttp({
    baseUrl: base,
    rateLimiter: { acquire: async () => void acquired++ },
    timeoutMs: 400,
    maxBodyBytes: 4096,
    userAgent: 'test-agent',
    secrets: [KEY],
  });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the request to fail');
}

describe('operator HTTP', () => {
  it('gets JSON with the given headers, the user agent, and one rate-limit token per request', async () => {
    const before = acquired;
    const res = await http.getJson('/ok', { headers: { 'exp-api-key': KEY } });
    expect(res.body).toEqual({ key: KEY, ua: 'test-agent' });
    expect(acquired).toBe(before + 1);
  });

  it('maps 429 to OperatorThrottled with Retry-After seconds, HTTP dates, RateLimit-Reset and a cap', async () => {
    const seconds = (await failure(http.getJson('/throttled?ra=7'))) as OperatorThrottledError;
    expect(seconds).toBeInstanceOf(OperatorThrottledError);
    expect(seconds).toMatchObject({
      type: 'OperatorThrottled',
      retryable: true,
      status: 429,
      retryAfterMs: 7000,
    });
    const date = new Date(Date.now() + 20_000).toUTCString();
    const byDate = (await failure(
      http.getJson(withQuery('/throttled', { ra: date })),
    )) as OperatorThrottledError;
    expect(byDate.retryAfterMs).toBeGreaterThan(15_000);
    expect(byDate.retryAfterMs).toBeLessThanOrEqual(20_000);
    expect(((await failure(http.getJson('/throttled'))) as OperatorThrottledError).retryAfterMs).toBe(30_000);
    expect(
      ((await failure(http.getJson('/throttled?ra=86400'))) as OperatorThrottledError).retryAfterMs,
    ).toBe(MAX_RETRY_AFTER_MS);
    expect(
      ((await failure(http.getJson('/plain429'))) as OperatorThrottledError).retryAfterMs,
    ).toBeUndefined();
  });

  it('treats a 403 with an exhausted quota as throttling, other 403s as permanent', async () => {
    expect(await failure(http.getText('/quota403'))).toBeInstanceOf(OperatorThrottledError);
    const auth = (await failure(http.getText('/auth403'))) as OperatorHttpError;
    expect(auth).toBeInstanceOf(OperatorHttpError);
    expect(auth).toMatchObject({ status: 403, retryable: false, type: 'OperatorHttpError' });
  });

  it('marks 5xx retryable and keeps a 503 Retry-After', async () => {
    expect(await failure(http.getJson('/boom'))).toMatchObject({ status: 500, retryable: true });
    expect(await failure(http.getJson('/maintenance'))).toMatchObject({
      status: 503,
      retryable: true,
      retryAfterMs: 3000,
    });
    expect(await failure(http.getJson('/unavailable'))).toMatchObject({
      status: 503,
      retryAfterMs: undefined,
    });
  });

  it('never puts the API key in a message: query parameter redacted, echoed value scrubbed', async () => {
    const err = (await failure(
      http.getJson(withQuery('/echo-key', { limit: 5, apiKey: KEY })),
    )) as OperatorHttpError;
    expect(err).toMatchObject({ status: 400, retryable: false });
    expect(err.message).toContain('/ops/x/echo-key');
    expect(err.message).toContain('HTTP 400');
    expect(err.message).toContain('apiKey=REDACTED');
    expect(err.message).not.toContain(KEY);
    expect(err.stack ?? '').not.toContain(KEY);
  });

  it('rejects malformed JSON and wrong content types as payload errors with a short excerpt', async () => {
    const malformed = await failure(http.getJson('/malformed'));
    expect(malformed).toBeInstanceOf(OperatorPayloadError);
    expect(malformed).toMatchObject({ type: 'OperatorPayloadInvalid', retryable: false });
    const excerpt = malformed.message.split('body starts: ')[1];
    expect(excerpt.length).toBeLessThanOrEqual(200);
    expect((await failure(http.getJson('/html'))).message).toMatch(
      /expected JSON, got content type "text\/html"/,
    );
    expect(await failure(http.getText('/html', { contentType: /xml/ }))).toBeInstanceOf(OperatorPayloadError);
    expect((await http.getText('/xml', { contentType: /xml/ })).body).toContain('<error>OK</error>');
  });

  it('stops reading bodies over the byte limit, streamed or declared', async () => {
    for (const path of ['/huge', '/huge-declared']) {
      const err = await failure(http.getJson(path));
      expect(err).toBeInstanceOf(OperatorPayloadError);
      expect(err.message).toContain('larger than 4096 bytes');
    }
  });

  it('times out as a retryable error without a status, and does not retry by itself', async () => {
    const started = Date.now();
    const err = await failure(http.getJson('/slow'));
    expect(err).toMatchObject({ type: 'OperatorHttpError', retryable: true, status: undefined });
    expect(err.message).toMatch(/timeout/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports refused connections as retryable network errors', async () => {
    const closed = createOperatorHttp({ baseUrl: 'http://127.0.0.1:1/ops/x', timeoutMs: 1000 });
    expect(await failure(closed.getJson('/ok'))).toMatchObject({ retryable: true, status: undefined });
  });

  it('returns accepted statuses (404 on detail) instead of throwing, and does not follow redirects', async () => {
    const res = await http.getJson('/missing', { acceptStatuses: [404] });
    expect(res).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect(await failure(http.getJson('/missing'))).toMatchObject({ status: 404, retryable: false });
    expect(await failure(http.getJson('/redirect'))).toMatchObject({ status: 302, retryable: false });
  });

  it("exposes the operator's Date header as serverDate, and nothing when it sends none", async () => {
    const dated = await http.getJson('/dated');
    expect(dated.serverDate).toBe('2024-01-02T03:04:05.000Z');
    expect(dated.headers.date).toBe('Tue, 02 Jan 2024 03:04:05 GMT');
    expect((await http.getText('/dated')).serverDate).toBe('2024-01-02T03:04:05.000Z');
    expect((await http.getJson('/undated')).serverDate).toBeUndefined();
  });
});
