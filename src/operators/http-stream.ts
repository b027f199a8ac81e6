import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import got from 'got';
import { OperatorError, OperatorPayloadError, redactUrl } from './errors.js';

/**
 * A GET whose body is read as it arrives, for answers too large to hold at once (OCTO's listing: every
 * product in one JSON array). Part of the operator HTTP module (./http.ts builds the context): the same
 * headers, no redirects, no retries, every failure one of the typed errors. What differs is the bound on
 * time: the connection and the time to the first byte are bounded as for any request, then the body may
 * take as long as it keeps flowing (the socket idle timeout ends a stalled one; the calling activity's
 * own timeout and cancellation end the rest), and its size is bounded by `maxBytes`.
 */

export interface StreamOptions {
  headers?: Record<string, string>;
  /** Non-2xx statuses whose body is handed back (capped like any body) instead of thrown. */
  acceptStatuses?: number[];
  /** Bytes the body may have; more is an OperatorPayloadError. */
  maxBytes?: number;
  /** Content type a 2xx answer must have. */
  contentType?: RegExp;
  /** Aborts the request and the body's reading (the activity's cancellation). */
  signal?: AbortSignal;
}

export interface StreamContext {
  timeoutMs: number;
  connectTimeoutMs: number;
  userAgent: string;
  maxBytes: number;
  redact: (text: string) => string;
  onResponse?: (seen: { status: number; headers: IncomingHttpHeaders; url: string }) => void;
  /** How ./http.ts words a status it does not accept (429 throttled, 5xx retried…), from the body's start. */
  statusError: (raw: { status: number; headers: IncomingHttpHeaders; text: string; url: string }) => Error;
  networkError: (url: string, err: unknown) => Error;
}

export interface StreamedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: AsyncIterable<Buffer>;
}

/** Of a refused answer's body, what its error message quotes at most. */
const ERROR_BODY_BYTES = 64 * 1024;

export async function openStream(
  c: StreamContext,
  url: string,
  opts: StreamOptions,
): Promise<StreamedResponse> {
  const maxBytes = opts.maxBytes ?? c.maxBytes;
  const req = got.stream(url, {
    method: 'GET',
    headers: { 'user-agent': c.userAgent, ...opts.headers },
    timeout: { connect: c.connectTimeoutMs, response: c.timeoutMs, socket: c.timeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    signal: opts.signal,
  });
  try {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    const status = res.statusCode ?? 0;
    c.onResponse?.({ status, headers: res.headers, url: c.redact(redactUrl(url)) });
    const body = capped(req, url, maxBytes, c);
    const ok = status >= 200 && status < 300;
    if (!ok && !opts.acceptStatuses?.includes(status)) {
      const text = await readText(capped(req, url, ERROR_BODY_BYTES, c)).catch(() => '');
      throw c.statusError({ status, headers: res.headers, text, url });
    }
    const declared = Number(res.headers['content-length'] ?? 0);
    if (declared > maxBytes) throw new OperatorPayloadError(url, `body larger than ${maxBytes} bytes`);
    const type = String(res.headers['content-type'] ?? '');
    if (ok && opts.contentType && !opts.contentType.test(type))
      throw new OperatorPayloadError(url, `unexpected content type "${type || 'none'}"`);
    return { status, headers: res.headers, body };
  } catch (err) {
    req.destroy();
    throw typed(c, url, err);
  }
}

/** The body's chunks, failing once more than `maxBytes` arrived; the request is closed however it ends. */
async function* capped(
  req: AsyncIterable<Buffer> & { destroy(): void },
  url: string,
  maxBytes: number,
  c: StreamContext,
): AsyncGenerator<Buffer> {
  let seen = 0;
  try {
    for await (const chunk of req) {
      seen += chunk.length;
      if (seen > maxBytes) throw new OperatorPayloadError(url, `body larger than ${maxBytes} bytes`);
      yield chunk;
    }
  } catch (err) {
    throw typed(c, url, err);
  } finally {
    req.destroy();
  }
}

async function readText(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

function typed(c: StreamContext, url: string, err: unknown): Error {
  if (err instanceof OperatorError) {
    err.message = c.redact(err.message);
    if (err.stack) err.stack = c.redact(err.stack);
    return err;
  }
  return c.networkError(url, err);
}
