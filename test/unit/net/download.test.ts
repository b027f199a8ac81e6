import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadToBlobStore, type DownloadOptions } from '../../../src/net/download.js';
import {
  DownloadHttpError,
  DownloadTooLargeError,
  UnsafeUrlError,
  UnsupportedContentError,
} from '../../../src/net/errors.js';
import { createLocalBlobStore, type BlobStore } from '../../../src/storage/blob-store.js';
import { originalKey } from '../../../src/storage/keys.js';
import { htmlBytes, photoJpeg, randomBody, svgWithScript } from '../../helpers/images.js';

let jpeg: Buffer;
let server: http.Server;
/** The same handler on a second loopback address, to redirect from one allowed host to another host. */
let second: http.Server;
let secondBase: string;
let base: string;
let port: number;
const hits: string[] = [];

/** A real HTTP server on 127.0.0.1:0 playing every kind of image host, good and bad. */
function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  hits.push(url.pathname);
  const image = (body: Buffer, headers: http.OutgoingHttpHeaders = {}) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length, ...headers });
    res.end(body);
  };
  switch (url.pathname) {
    case '/a.jpg':
    case '/copy-of-a.jpg':
      if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304, { etag: '"v1"' }).end();
      return image(jpeg, { etag: '"v1"' });
    case '/octet':
      return image(jpeg, { 'content-type': 'application/octet-stream' });
    case '/chunked': // no content-length: the body is sent chunked
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.write(randomBody(Number(url.searchParams.get('n'))));
      return void res.end();
    case '/lying-length': // announces more than the limit
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(50 * 1024 * 1024) });
      return void res.end(randomBody(100));
    case '/html':
      return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(htmlBytes());
    case '/svg':
      return void res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(svgWithScript());
    case '/gzip':
      return image(zlib.gzipSync(jpeg), { 'content-encoding': 'gzip' });
    case '/redirect':
      return void res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
    case '/loop':
      return void res.writeHead(302, { location: '/loop' }).end();
    case '/status':
      return void res
        .writeHead(Number(url.searchParams.get('code')), {
          'retry-after': url.searchParams.get('retry') ?? '',
        })
        .end();
    case '/hang':
      return; // never answers
    case '/trickle': // headers then a stalled body
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length });
      return void res.write(jpeg.subarray(0, 1000));
    default:
      res.writeHead(404).end();
  }
}

beforeAll(async () => {
  jpeg = await photoJpeg(640, 480);
  server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  second = http.createServer(handle);
  await new Promise<void>((resolve) => second.listen(0, '127.0.0.2', resolve));
  secondBase = `http://127.0.0.2:${(second.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of [server, second]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

let root: string;
let store: BlobStore;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'dl-'));
  store = createLocalBlobStore(root);
  hits.length = 0;
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const LOCAL = ['127.0.0.1'];
const download = (url: string, extra: Partial<DownloadOptions> = {}) =>
  downloadToBlobStore({ url, store, maxBytes: 1024 * 1024, allowPrivateHosts: LOCAL, ...extra });

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('downloadToBlobStore', () => {
  it('streams the image into the store under its sha256', async () => {
    const progress: number[] = [];
    const r = await download(`${base}/a.jpg`, { onProgress: (n) => progress.push(n) });
    const sha256 = createHash('sha256').update(jpeg).digest('hex');
    expect(r).toEqual({
      kind: 'downloaded',
      sha256,
      key: originalKey(sha256),
      bytes: jpeg.length,
      etag: '"v1"',
      contentType: 'image/jpeg',
    });
    expect(await fs.readFile(store.path!(originalKey(sha256)))).toEqual(jpeg);
    expect(progress.at(-1)).toBe(jpeg.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('keeps one blob for the same bytes from two URLs', async () => {
    const a = await download(`${base}/a.jpg`);
    const b = await download(`${base}/copy-of-a.jpg`);
    const c = await download(`${base}/octet`);
    expect(a.kind === 'downloaded' && b.kind === 'downloaded' && c.kind === 'downloaded').toBe(true);
    if (a.kind !== 'downloaded' || b.kind !== 'downloaded') return;
    expect(b.key).toBe(a.key);
    expect(await filesUnder(root)).toEqual([store.path!(a.key)]);
  });

  it('answers not-modified on 304 when the etag matches', async () => {
    expect(await download(`${base}/a.jpg`, { etag: '"v1"' })).toEqual({ kind: 'not-modified' });
    expect((await download(`${base}/a.jpg`, { etag: '"old"' })).kind).toBe('downloaded');
    expect(await filesUnder(path.join(root, '.tmp'))).toEqual([]);
  });

  it('enforces the byte limit on the body, with and without Content-Length', async () => {
    await expect(download(`${base}/chunked?n=${3 * 1024 * 1024}`)).rejects.toBeInstanceOf(
      DownloadTooLargeError,
    );
    await expect(download(`${base}/lying-length`)).rejects.toMatchObject({
      type: 'ImageTooLarge',
      nonRetryable: true,
    });
    await expect(download(`${base}/a.jpg`, { maxBytes: jpeg.length - 1 })).rejects.toBeInstanceOf(
      DownloadTooLargeError,
    );
    const ok = await download(`${base}/chunked?n=5000`, { maxBytes: 5000 });
    expect(ok).toMatchObject({ kind: 'downloaded', bytes: 5000 });
    expect(await filesUnder(root)).toHaveLength(1); // nothing left from the refused ones
  });

  it('refuses non-image content, SVG and compressed bodies', async () => {
    await expect(download(`${base}/html`)).rejects.toMatchObject({
      type: 'UnsupportedImage',
      contentType: 'text/html',
    });
    await expect(download(`${base}/svg`)).rejects.toBeInstanceOf(UnsupportedContentError);
    await expect(download(`${base}/gzip`)).rejects.toMatchObject({ reason: 'content-encoding gzip' });
    expect(await filesUnder(root)).toEqual([]);
  });

  it('classifies HTTP statuses for retrying', async () => {
    const err = (code: number, q = '') =>
      download(`${base}/status?code=${code}${q}`).catch((e: unknown) => e);
    expect(await err(503)).toMatchObject({
      status: 503,
      retryable: true,
      nonRetryable: false,
      type: 'DownloadFailed',
    });
    expect(await err(429, '&retry=7')).toMatchObject({ status: 429, retryable: true, nextRetryDelay: 7000 });
    // The shared Retry-After cap (src/net/retry-after.ts); a wait of 0 is no advice: Temporal's backoff applies.
    expect(await err(503, '&retry=3600')).toMatchObject({ nextRetryDelay: 5 * 60_000 });
    expect(((await err(503, '&retry=0')) as { nextRetryDelay?: unknown }).nextRetryDelay).toBeUndefined();
    expect(await err(404)).toMatchObject({
      status: 404,
      retryable: false,
      nonRetryable: true,
      type: 'ImageGone',
    });
    expect(await err(403)).toMatchObject({ status: 403, retryable: false });
  });

  it('times out on a silent server or a stalled body, retryably', async () => {
    const timeouts = { responseMs: 300, idleMs: 300 };
    const hang = await download(`${base}/hang`, { timeouts }).catch((e: unknown) => e);
    expect(hang).toBeInstanceOf(DownloadHttpError);
    expect(hang).toMatchObject({ code: 'ETIMEDOUT', retryable: true });
    const stall = await download(`${base}/trickle`, { timeouts }).catch((e: unknown) => e);
    expect(stall).toMatchObject({ retryable: true });
    expect(await filesUnder(root)).toEqual([]);
  });

  it('passes cancellation through untouched and cleans up', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('activity cancelled')), 100);
    const err = await download(`${base}/trickle`, { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(DownloadHttpError);
    expect(controller.signal.aborted).toBe(true);
    expect(await filesUnder(root)).toEqual([]);
  });
});

describe('downloadToBlobStore SSRF protection', () => {
  it('refuses the local server without an allowlist, and reaches it with one', async () => {
    for (const url of [
      `${base}/a.jpg`,
      `http://2130706433:${port}/a.jpg`,
      `http://0x7f000001:${port}/a.jpg`,
      `http://0177.0.0.1:${port}/a.jpg`,
      `http://good.example.com@127.0.0.1:${port}/a.jpg`,
      `http://[::ffff:127.0.0.1]:${port}/a.jpg`,
    ]) {
      await expect(download(url, { allowPrivateHosts: [] }), url).rejects.toMatchObject({
        type: 'UnsafeUrl',
        reason: 'private-address',
      });
    }
    expect(hits).toEqual([]); // nothing ever connected
    expect((await download(`${base}/a.jpg`, { allowPrivateHosts: ['127.0.0.0/8'] })).kind).toBe('downloaded');
  });

  it('checks the resolved address: localhost is refused unless allowlisted', async () => {
    const url = `http://localhost:${port}/a.jpg`;
    const err = await download(url, { allowPrivateHosts: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeUrlError);
    expect(err).toMatchObject({ reason: 'dns-resolved-private' });
    expect(hits).toEqual([]);
    expect((await download(url, { allowPrivateHosts: ['localhost'] })).kind).toBe('downloaded');
    // Allowing the address (not the name) also works: only the allowed address is connected to.
    expect((await download(url, { allowPrivateHosts: ['127.0.0.1'] })).kind).toBe('downloaded');
    // A kept-alive socket from the allowed calls must not be reused by a call that is not allowed.
    await expect(download(url, { allowPrivateHosts: [] })).rejects.toBeInstanceOf(UnsafeUrlError);
  });

  it('checks every redirect hop', async () => {
    // Only the redirecting host (127.0.0.2) is allowed; every target must be refused.
    const to = (target: string) => `${secondBase}/redirect?to=${encodeURIComponent(target)}`;
    const download = (url: string) =>
      downloadToBlobStore({ url, store, maxBytes: 1e6, allowPrivateHosts: ['127.0.0.2'] });
    for (const [target, reason] of [
      ['http://169.254.169.254/latest/meta-data/', 'private-address'],
      ['http://10.0.0.1/a.jpg', 'private-address'],
      [`${base}/a.jpg`, 'private-address'],
      [`http://[::1]:${port}/a.jpg`, 'private-address'],
      [`http://localhost:${port}/a.jpg`, 'dns-resolved-private'],
      ['file:///etc/passwd', 'scheme'],
    ]) {
      await expect(download(to(target)), target).rejects.toMatchObject({
        type: 'UnsafeUrl',
        reason,
      });
    }
    expect(hits.filter((h) => h === '/a.jpg')).toEqual([]);
    expect((await download(to('/a.jpg'))).kind).toBe('downloaded'); // a same-host hop is fine
  });

  it('stops after 5 redirects', async () => {
    const err = await download(`${base}/loop`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_TOO_MANY_REDIRECTS', retryable: false });
    expect(hits.filter((h) => h === '/loop')).toHaveLength(6);
  });

  it.each(['file:///etc/passwd', 'data:image/png;base64,iVBORw0KGgo=', 'ftp://127.0.0.1/a.jpg'])(
    'refuses scheme of %s',
    async (url) => {
      await expect(download(url)).rejects.toMatchObject({ type: 'UnsafeUrl', reason: 'scheme' });
    },
  );
});
