import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OperatorHttpError,
  OperatorPayloadError,
  OperatorThrottledError,
} from '../../../src/operators/errors.js';
import { createOperatorHttp, type OperatorHttp } from '../../../src/operators/http.js';

/** The streamed GET (src/operators/http-stream.ts) against a real server: what arrives, and every way it fails. */
const KEY = 'stream-secret-key-77';
const json = { 'content-type': 'application/json' };
let released: (() => void) | undefined;
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes: Record<string, Handler> = {
  '/chunks': (req, res) => {
    res.writeHead(200, json);
    res.write('[1,');
    setTimeout(() => res.end(`2,"${req.headers.authorization}"]`), 20);
  },
  // The first chunk, then nothing until the test has read it: the body is read as it arrives.
  '/held': (_req, res) => {
    res.writeHead(200, json);
    res.write('[1,');
    released = () => res.end('2]');
  },
  '/big': (_req, res) => {
    res.writeHead(200, json);
    res.write('['.padEnd(3000, ' '));
    setTimeout(() => res.end(' '.repeat(3000) + ']'), 20);
  },
  '/big-declared': (_req, res) =>
    res.writeHead(200, { ...json, 'content-length': '9000' }).end(' '.repeat(9000)),
  '/cut': (_req, res) => {
    res.writeHead(200, { ...json, 'content-length': '1000' });
    res.write('[1,2,', () => setTimeout(() => res.destroy(), 10));
  },
  '/html': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'),
  '/throttled': (_req, res) => res.writeHead(429, { ...json, 'retry-after': '4' }).end('{}'),
  '/boom': (_req, res) =>
    res.writeHead(500, json).end(`{"error":"INTERNAL_SERVER_ERROR","errorMessage":"${KEY}"}`),
  '/refused': (_req, res) => res.writeHead(400, json).end('{"error":"UNAUTHORIZED","errorMessage":"no key"}'),
  '/stall': (_req, res) => {
    res.writeHead(200, json);
    res.write('[1,');
  },
};

let server: Server;
let http: OperatorHttp;
const seen: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) =>
    (routes[req.url!.split('?')[0]] ?? ((_q, r) => r.writeHead(599).end()))(req, res),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  http = createOperatorHttp({
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    timeoutMs: 300,
    maxBodyBytes: 4096,
    secrets: [KEY],
    onResponse: (r) => void seen.push(r.status),
  });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function text(body: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

async function failure(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the request to fail');
}

describe('streamed operator GET', () => {
  it('hands the body over as it arrives, with the headers sent, status and headers first', async () => {
    const res = await http.getStream('/chunks', { headers: { authorization: 'Bearer b' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(await text(res.body)).toBe('[1,2,"Bearer b"]');
    expect(seen).toContain(200);
  });

  it('yields what came before the rest is sent', async () => {
    const res = await http.getStream('/held');
    const chunks = res.body[Symbol.asyncIterator]();
    expect((await chunks.next()).value?.toString()).toBe('[1,');
    released!();
    expect((await chunks.next()).value?.toString()).toBe('2]');
    expect((await chunks.next()).done).toBe(true);
  });

  it('refuses a body over its cap, declared or streamed, as a permanent payload error', async () => {
    const declared = await failure(() => http.getStream('/big-declared'));
    expect(declared).toBeInstanceOf(OperatorPayloadError);
    expect(declared.message).toContain('body larger than 4096 bytes');
    const streamed = await failure(async () => text((await http.getStream('/big')).body));
    expect(streamed).toBeInstanceOf(OperatorPayloadError);
    // A call's own cap replaces the client's.
    expect(await text((await http.getStream('/big', { maxBytes: 10_000 })).body)).toHaveLength(6001);
  });

  it('a body cut off midway is a retryable error without a status', async () => {
    const err = await failure(async () => text((await http.getStream('/cut')).body));
    expect(err).toBeInstanceOf(OperatorHttpError);
    expect(err).toMatchObject({ retryable: true, status: undefined });
  });

  it('a body that stalls ends at the idle timeout, retryable', async () => {
    const err = await failure(async () => text((await http.getStream('/stall')).body));
    expect(err).toBeInstanceOf(OperatorHttpError);
    expect(err.message).toMatch(/timeout/);
    expect(err).toMatchObject({ retryable: true });
  });

  it('statuses it does not accept fail as every request does: 429 throttled, 5xx retried, secrets scrubbed', async () => {
    const throttled = await failure(() => http.getStream('/throttled'));
    expect(throttled).toBeInstanceOf(OperatorThrottledError);
    expect(throttled).toMatchObject({ retryAfterMs: 4000 });
    const boom = await failure(() => http.getStream('/boom'));
    expect(boom).toMatchObject({ status: 500, retryable: true });
    expect(boom.message).toContain('REDACTED');
    expect(boom.message).not.toContain(KEY);
  });

  it('an accepted status hands its body back; a wrong content type is refused', async () => {
    const res = await http.getStream('/refused', { acceptStatuses: [400] });
    expect([res.status, JSON.parse(await text(res.body)).error]).toEqual([400, 'UNAUTHORIZED']);
    const html = await failure(() => http.getStream('/html', { contentType: /json/ }));
    expect(html).toBeInstanceOf(OperatorPayloadError);
    expect(html.message).toContain('unexpected content type "text/html"');
  });

  it('stops when its signal aborts', async () => {
    const abort = new AbortController();
    const res = await http.getStream('/held', { signal: abort.signal });
    const chunks = res.body[Symbol.asyncIterator]();
    await chunks.next();
    abort.abort();
    await expect(chunks.next()).rejects.toBeInstanceOf(OperatorHttpError);
    released!();
  });
});
