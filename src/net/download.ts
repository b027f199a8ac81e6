import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/common';
import got, { RequestError, type Response } from 'got';
import type { BlobStore } from '../storage/blob-store.js';
import { originalKey } from '../storage/keys.js';
import {
  DownloadHttpError,
  DownloadTooLargeError,
  UnsafeUrlError,
  UnsupportedContentError,
} from './errors.js';
import { parseRetryAfter } from './retry-after.js';
import { assertSafeUrl, createSafeLookup, parseAllowlist, type Allowlist } from './safe-url.js';

interface DownloadTimeouts {
  /** DNS lookup, TCP connect and TLS handshake, each. */
  connectMs: number;
  /** From request sent to response headers. */
  responseMs: number;
  /** Longest silence on the socket while the body streams. */
  idleMs: number;
  /** Whole exchange including the body; the last line of defence against a trickling server. */
  totalMs: number;
}

const DEFAULT_DOWNLOAD_TIMEOUTS: DownloadTimeouts = {
  connectMs: 10_000,
  responseMs: 30_000,
  idleMs: 30_000,
  totalMs: 300_000,
};

export interface DownloadOptions {
  url: string;
  store: BlobStore;
  maxBytes: number;
  /** ETag from the previous download: sent as If-None-Match so an unchanged image costs a 304. */
  etag?: string | null;
  /** Hosts, addresses or CIDRs that may be reached although private (the simulator in tests). */
  allowPrivateHosts: readonly string[];
  /** Called with the running byte count as the body arrives (the activity heartbeats here). */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  timeouts?: Partial<DownloadTimeouts>;
  userAgent?: string;
  /**
   * Called with what was downloaded once its bytes are hashed, before they are stored: the caller records
   * them first, so a blob that is deleted meanwhile (garbage collection) is stored again right after.
   */
  beforeStore?: (downloaded: Omit<Extract<DownloadResult, { kind: 'downloaded' }>, 'kind'>) => Promise<void>;
}

export type DownloadResult =
  | {
      kind: 'downloaded';
      sha256: string;
      key: string;
      bytes: number;
      etag: string | null;
      contentType: string | null;
    }
  | { kind: 'not-modified' };

const MAX_REDIRECTS = 5;

/**
 * Streams an image URL into the blob store under the SHA-256 of its bytes. The bytes only ever
 * exist in a temp file of the store and in the store; the result carries the key, never the body.
 */
export async function downloadToBlobStore(opts: DownloadOptions): Promise<DownloadResult> {
  const allow = parseAllowlist(opts.allowPrivateHosts);
  const url = assertSafeUrl(opts.url, allow);
  // Reserve the temp path before the request so nothing async sits between the response event
  // and piping the body (an error emitted in that gap would have no listener).
  const tmp = await opts.store.tempPath('.download');
  const stream = got.stream(url, requestOptions(opts, allow));
  try {
    const downloaded = await receive(stream, tmp, opts);
    if (!downloaded) return { kind: 'not-modified' };
    // The caller's records and the store's errors are not the download's: they are not classified.
    await opts.beforeStore?.(downloaded);
    await opts.store.putFile(downloaded.key, tmp);
    return { kind: 'downloaded', ...downloaded };
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** The response's body into `tmp`, hashed; undefined for a 304. Failures come out classified. */
async function receive(stream: ReturnType<typeof got.stream>, tmp: string, opts: DownloadOptions) {
  try {
    const response = await responseOf(stream);
    if (response.statusCode === 304) {
      stream.destroy();
      return undefined;
    }
    checkResponse(response, opts);
    const { sha256, bytes } = await bodyToFile(stream, tmp, opts);
    const etag = header(response, 'etag');
    return { sha256, key: originalKey(sha256), bytes, etag, contentType: mediaType(response) };
  } catch (err) {
    stream.destroy();
    throw classify(err, opts.signal);
  }
}

function requestOptions(opts: DownloadOptions, allow: Allowlist) {
  const t = { ...DEFAULT_DOWNLOAD_TIMEOUTS, ...opts.timeouts };
  const headers: Record<string, string> = {
    'user-agent': opts.userAgent ?? 'tour-import/0.1 (image fetcher)',
    accept:
      'image/avif,image/webp,image/png,image/jpeg,image/gif,image/tiff;q=0.9,application/octet-stream;q=0.5',
    // We never decompress: a gzip "image" could be a decompression bomb, and real images are
    // already compressed. A server that encodes anyway is refused in checkResponse.
    'accept-encoding': 'identity',
  };
  if (opts.etag) headers['if-none-match'] = opts.etag;
  return {
    headers,
    decompress: false,
    throwHttpErrors: false,
    // Temporal owns retries (with backoff and history); a hidden inner retry would double them.
    retry: { limit: 0 },
    followRedirect: true,
    maxRedirects: MAX_REDIRECTS,
    enableUnixSockets: false,
    // The socket's own lookup: vets the address actually connected to, on every hop.
    dnsLookup: createSafeLookup(allow),
    dnsCache: false,
    timeout: {
      lookup: t.connectMs,
      connect: t.connectMs,
      secureConnect: t.connectMs,
      send: t.responseMs,
      response: t.responseMs,
      socket: t.idleMs,
      request: t.totalMs,
    },
    signal: opts.signal,
    agent: agentsFor(opts.allowPrivateHosts),
    hooks: {
      beforeRedirect: [
        (next: { url?: string | URL }) => {
          if (!next.url) throw new UnsafeUrlError('redirect', '', 'redirect without location');
          assertSafeUrl(next.url, allow);
        },
      ],
    },
  };
}

const agents = new Map<string, { http: http.Agent; https: https.Agent }>();

/**
 * Keep-alive sockets are reused without a new DNS lookup, so a socket opened under one allowlist
 * must never serve a request made under another: one pair of agents per allowlist. In a worker
 * the allowlist comes from config, so this is one pair per process.
 */
function agentsFor(allowPrivateHosts: readonly string[]) {
  const key = [...allowPrivateHosts].sort().join(',');
  let pair = agents.get(key);
  if (!pair) {
    const options = { keepAlive: true, maxSockets: 32, maxFreeSockets: 8, timeout: 60_000 };
    pair = { http: new http.Agent(options), https: new https.Agent(options) };
    agents.set(key, pair);
  }
  return pair;
}

function responseOf(stream: ReturnType<typeof got.stream>): Promise<Response> {
  return new Promise((resolve, reject) => {
    stream.once('response', (r: Response) => {
      stream.off('error', reject);
      resolve(r);
    });
    stream.once('error', reject);
  });
}

const ACCEPTED_TYPES = new Set([
  'image/jpeg',
  'image/jpg',
  'image/pjpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/avif',
  'image/tiff',
  // Object stores and CDNs often serve images as octet-stream; the decoder sniffs the real
  // format from the bytes and refuses anything but the raster formats above.
  'application/octet-stream',
  'binary/octet-stream',
]);

function checkResponse(response: Response, opts: DownloadOptions): void {
  const status = response.statusCode;
  if (status < 200 || status > 299) {
    throw DownloadHttpError.fromStatus(status, opts.url, retryAfterMs(response));
  }
  const encoding = header(response, 'content-encoding')?.toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new UnsupportedContentError(`content-encoding ${encoding}`, mediaType(response));
  }
  const type = mediaType(response);
  if (type !== null && !ACCEPTED_TYPES.has(type)) {
    throw new UnsupportedContentError(
      type === 'image/svg+xml' ? 'SVG is not accepted' : `content-type ${type}`,
      type,
    );
  }
  const length = Number(header(response, 'content-length'));
  if (Number.isFinite(length) && length > opts.maxBytes)
    throw new DownloadTooLargeError(opts.maxBytes, length);
}

/** Counts, hashes and writes in one pass; the limit is enforced on bytes seen, not on headers. */
async function bodyToFile(
  body: NodeJS.ReadableStream,
  file: string,
  opts: DownloadOptions,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > opts.maxBytes) return done(new DownloadTooLargeError(opts.maxBytes, bytes));
      hash.update(chunk);
      try {
        opts.onProgress?.(bytes);
      } catch (err) {
        return done(err as Error);
      }
      done(null, chunk);
    },
  });
  await pipeline(body, meter, createWriteStream(file), { signal: opts.signal });
  return { sha256: hash.digest('hex'), bytes };
}

const NON_RETRYABLE_CODES = new Set(['ERR_TOO_MANY_REDIRECTS']);

/** Maps got/network failures onto the typed errors; cancellation passes through untouched. */
function classify(err: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted) return err;
  const ours = findCause(err, (e) => e instanceof ApplicationFailure);
  if (ours) return ours;
  if (err instanceof RequestError) {
    if (err.code === 'ERR_UNSUPPORTED_PROTOCOL')
      return new UnsafeUrlError('scheme', String(err.options?.url ?? ''));
    const retryable = !NON_RETRYABLE_CODES.has(err.code);
    return new DownloadHttpError(`Download failed: ${err.code} ${err.message}`, null, err.code, retryable);
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET') {
    return new DownloadHttpError(`Download interrupted: ${code}`, null, code, true);
  }
  return err;
}

function findCause(err: unknown, match: (e: unknown) => boolean): unknown {
  for (let e = err, depth = 0; e && depth < 8; e = (e as Error).cause, depth++) {
    if (match(e)) return e;
  }
  return undefined;
}

function header(response: Response, name: string): string | null {
  const v = response.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? null;
}

function mediaType(response: Response): string | null {
  const v = header(response, 'content-type');
  return v ? v.split(';')[0].trim().toLowerCase() : null;
}

/**
 * Only Retry-After counts here: an image host's rate-limit headers say nothing about this image.
 * Unlike the operator client, a wait of 0 (a date in the past) is no advice at all, so Temporal's
 * backoff applies rather than an immediate retry — as this downloader always did.
 */
function retryAfterMs(response: Response): number | undefined {
  return parseRetryAfter(response.headers, Date.now(), false) || undefined;
}
