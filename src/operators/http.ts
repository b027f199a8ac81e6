import type { IncomingHttpHeaders } from 'node:http';
import got, { RequestError, TimeoutError } from 'got';
import { SpanKind } from '@opentelemetry/api';
import { withSpan } from '../telemetry/spans.js';
import {
  OperatorError,
  OperatorHttpError,
  OperatorPayloadError,
  OperatorThrottledError,
  excerpt,
  redactUrl,
} from './errors.js';
import { parseRetryAfter } from '../net/retry-after.js';
import { openStream, type StreamOptions } from './http-stream.js';

/**
 * The only module that talks HTTP to operators. It bounds every request (timeouts, body size,
 * rate limit), never retries by itself (Temporal retries the activity, with backoff we can see in
 * the history), and turns every failure into one of the typed errors in ./errors.ts.
 */

export interface RateLimiter {
  acquire(): Promise<void>;
}

export interface OperatorHttpOptions {
  /** e.g. http://127.0.0.1:4010/ops/alpine-trails — dialect paths are appended to it. */
  baseUrl: string;
  rateLimiter?: RateLimiter;
  /** Whole-request budget (connect + headers + body). */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  maxBodyBytes?: number;
  userAgent?: string;
  /** Secret values (API keys) scrubbed from every error message, whatever the operator echoes back. */
  secrets?: string[];
  /** Sees every response the operator sends, whatever its status (e.g. to read rate-limit headers). */
  onResponse?: (response: ResponseSeen) => void;
}

/** A response as `onResponse` sees it: before its status is judged, its URL redacted as in messages. */
interface ResponseSeen {
  status: number;
  headers: IncomingHttpHeaders;
  url: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Non-2xx statuses returned to the caller instead of thrown (e.g. 404 on a detail fetch). */
  acceptStatuses?: number[];
}

export interface OperatorResponse<T> {
  status: number;
  headers: IncomingHttpHeaders;
  body: T;
  /** Redacted request URL, for messages. */
  url: string;
  /**
   * The operator's time when it answered: its `Date` header as ISO (1-second resolution), or
   * undefined when the header is missing or unreadable. Adapters use it for marks in the
   * operator's clock rather than ours.
   */
  serverDate?: string;
}

export interface OperatorHttp {
  readonly baseUrl: string;
  /** JSON body; for accepted non-2xx statuses the body is the parsed JSON or undefined. */
  getJson(pathAndQuery: string, options?: RequestOptions): Promise<OperatorResponse<unknown>>;
  /** Text body whose content type must match `contentType` (when given) on 2xx responses. */
  getText(
    pathAndQuery: string,
    options?: RequestOptions & { contentType?: RegExp },
  ): Promise<OperatorResponse<string>>;
  /**
   * The body as it arrives, for answers too large to hold (./http-stream.ts), capped at `maxBytes`
   * (default: maxBodyBytes); a status it does not accept is thrown as getJson throws it.
   */
  getStream(pathAndQuery: string, options?: StreamOptions): Promise<OperatorResponse<AsyncIterable<Buffer>>>;
  /** Removes configured secrets from text an adapter puts into an error. */
  redact(text: string): string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;
const DEFAULT_USER_AGENT = 'tour-import/0.1 (+operator-sync)';

/** Adds a query string; undefined values are left out. Adapters sign exactly what this returns. */
export function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  url: string;
}

/** What every request of one client needs: its options with defaults applied, and its redaction. */
interface HttpContext {
  options: OperatorHttpOptions;
  baseUrl: string;
  timeoutMs: number;
  maxBodyBytes: number;
  redact: (text: string) => string;
}

export function createOperatorHttp(options: OperatorHttpOptions): OperatorHttp {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4);
  const redact = (text: string) => secrets.reduce((t, s) => t.split(s).join('REDACTED'), text);
  const c: HttpContext = {
    options,
    baseUrl,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    redact,
  };
  return {
    baseUrl,
    redact,
    getJson: (pathAndQuery, opts = {}) => getJson(c, pathAndQuery, opts),
    getText: (pathAndQuery, opts = {}) => getText(c, pathAndQuery, opts),
    getStream: (pathAndQuery, opts = {}) => getStream(c, pathAndQuery, opts),
  };
}

/** A streamed GET, in a span like any request (its body read after the span ends). */
function getStream(c: HttpContext, pathAndQuery: string, opts: StreamOptions) {
  const url = `${c.baseUrl}${pathAndQuery.startsWith('/') ? '' : '/'}${pathAndQuery}`;
  const attributes = { 'http.request.method': 'GET', 'url.full': c.redact(redactUrl(url)) };
  return withSpan('operator.http GET', { kind: SpanKind.CLIENT, attributes }, async (span) => {
    await c.options.rateLimiter?.acquire();
    const { options, timeoutMs, redact } = c;
    const res = await openStream(
      {
        timeoutMs,
        connectTimeoutMs: options.connectTimeoutMs ?? Math.min(DEFAULT_CONNECT_TIMEOUT_MS, timeoutMs),
        userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
        maxBytes: c.maxBodyBytes,
        redact,
        onResponse: options.onResponse,
        statusError: (raw) => statusError(raw, redact),
        networkError: (u, err) => networkError(u, err, redact),
      },
      url,
      opts,
    );
    span.setAttribute('http.response.status_code', res.status);
    return response({ ...res, text: '', url }, res.body);
  });
}

async function getJson(
  c: HttpContext,
  pathAndQuery: string,
  opts: RequestOptions,
): Promise<OperatorResponse<unknown>> {
  const raw = await request(c, pathAndQuery, {
    ...opts,
    headers: { accept: 'application/json', ...opts.headers },
  });
  const ok = raw.status >= 200 && raw.status < 300;
  const type = String(raw.headers['content-type'] ?? '');
  if (ok && !/json/i.test(type)) {
    throw new OperatorPayloadError(
      raw.url,
      `expected JSON, got content type "${type || 'none'}"`,
      c.redact(raw.text),
    );
  }
  let body: unknown;
  try {
    body = raw.text === '' && !ok ? undefined : JSON.parse(raw.text);
  } catch (err) {
    if (ok)
      throw new OperatorPayloadError(
        raw.url,
        `malformed JSON (${(err as Error).message})`,
        c.redact(raw.text),
      );
  }
  return response(raw, body);
}

async function getText(
  c: HttpContext,
  pathAndQuery: string,
  opts: RequestOptions & { contentType?: RegExp },
): Promise<OperatorResponse<string>> {
  const raw = await request(c, pathAndQuery, opts);
  const type = String(raw.headers['content-type'] ?? '');
  if (opts.contentType && raw.status < 300 && !opts.contentType.test(type)) {
    throw new OperatorPayloadError(
      raw.url,
      `unexpected content type "${type || 'none'}"`,
      c.redact(raw.text),
    );
  }
  return response(raw, raw.text);
}

/** One span per request (docs/operations.md: Traces), its URL redacted as in messages; the rate limiter's wait included. */
function request(c: HttpContext, pathAndQuery: string, opts: RequestOptions): Promise<RawResponse> {
  const url = `${c.baseUrl}${pathAndQuery.startsWith('/') ? '' : '/'}${pathAndQuery}`;
  const attributes = { 'http.request.method': 'GET', 'url.full': c.redact(redactUrl(url)) };
  return withSpan('operator.http GET', { kind: SpanKind.CLIENT, attributes }, async (span) => {
    const raw = await exchange(c, url, opts);
    span.setAttribute('http.response.status_code', raw.status);
    return raw;
  });
}

async function exchange(c: HttpContext, url: string, opts: RequestOptions): Promise<RawResponse> {
  // Outside the mapping below: a failing limiter (its database) is not the operator's error.
  await c.options.rateLimiter?.acquire();
  try {
    const res = await send(c, url, opts.headers ?? {});
    c.options.onResponse?.({ status: res.statusCode, headers: res.headers, url: c.redact(redactUrl(url)) });
    const text = res.body.toString('utf8');
    const raw = { status: res.statusCode, headers: res.headers, text, url };
    if ((res.statusCode >= 200 && res.statusCode < 300) || opts.acceptStatuses?.includes(res.statusCode))
      return raw;
    throw statusError(raw, c.redact);
  } catch (err) {
    if (err instanceof OperatorError) {
      // Belt and braces: whatever an adapter or the operator put in the message, scrub it (stack too).
      err.message = c.redact(err.message);
      if (err.stack) err.stack = c.redact(err.stack);
      throw err;
    }
    throw networkError(url, err, c.redact);
  }
}

async function send(c: HttpContext, url: string, headers: Record<string, string>) {
  const { options, timeoutMs, maxBodyBytes } = c;
  let tooLarge = false;
  const req = got(url, {
    method: 'GET',
    headers: { 'user-agent': options.userAgent ?? DEFAULT_USER_AGENT, ...headers },
    timeout: {
      connect: options.connectTimeoutMs ?? Math.min(DEFAULT_CONNECT_TIMEOUT_MS, timeoutMs),
      response: timeoutMs,
      request: timeoutMs,
    },
    retry: { limit: 0 },
    throwHttpErrors: false,
    // A redirect could carry the API key header to another host; operators' APIs do not need it.
    followRedirect: false,
    responseType: 'buffer',
  });
  const abortIfTooLarge = (bytes: number) => {
    if (bytes > maxBodyBytes && !tooLarge) {
      tooLarge = true;
      req.cancel();
    }
  };
  req.on('response', (res) => abortIfTooLarge(Number(res.headers['content-length'] ?? 0)));
  req.on('downloadProgress', (p) => abortIfTooLarge(p.transferred));
  try {
    const res = await req;
    abortIfTooLarge(res.body.length);
    if (!tooLarge) return res;
  } catch (err) {
    if (!tooLarge) throw err;
  }
  throw new OperatorPayloadError(url, `body larger than ${maxBodyBytes} bytes`);
}

function response<T>(raw: RawResponse, body: T): OperatorResponse<T> {
  const { status, headers } = raw;
  return { status, headers, body, url: redactUrl(raw.url), serverDate: httpDate(headers.date) };
}

/** An HTTP `Date` header as ISO, or undefined when absent or not a date. */
export function httpDate(header: string | undefined): string | undefined {
  const ms = header === undefined ? NaN : Date.parse(header);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

const QUOTA_TEXT = /quota|rate.?limit|too many requests/i;

function statusError(raw: RawResponse, redact: (s: string) => string): OperatorError {
  const { status, headers } = raw;
  const retryAfterMs = parseRetryAfter(headers);
  const remaining = headers['x-ratelimit-remaining'] ?? headers['ratelimit-remaining'];
  // A 403 is usually bad credentials (permanent) — but dialect C answers an exhausted hourly quota with 403 too.
  const quota403 = status === 403 && (String(remaining) === '0' || QUOTA_TEXT.test(raw.text.slice(0, 2000)));
  if (status === 429 || quota403) return new OperatorThrottledError(raw.url, status, retryAfterMs);
  const detail = raw.text ? `— ${excerpt(redact(raw.text))}` : '';
  // A 503 waits only for its own Retry-After: dialect A sends RateLimit-Reset on every response.
  const unavailableFor = status === 503 ? parseRetryAfter(headers, Date.now(), false) : undefined;
  return new OperatorHttpError(raw.url, status, detail, unavailableFor);
}

function networkError(url: string, err: unknown, redact: (s: string) => string): OperatorError {
  if (err instanceof TimeoutError) {
    return new OperatorHttpError(url, undefined, `timeout during ${err.event}`);
  }
  if (err instanceof RequestError) {
    return new OperatorHttpError(url, undefined, `network error ${err.code}: ${redact(err.message)}`);
  }
  return new OperatorHttpError(
    url,
    undefined,
    `unexpected error: ${redact(err instanceof Error ? err.message : String(err))}`,
  );
}
