/**
 * How long a server asks us to wait before trying again, read once for both HTTP clients: the
 * operator client (src/operators/http.ts) and the image downloader (./download.ts). Both hand the
 * result to Temporal as the next retry delay.
 */

/**
 * Never wait longer than this on a server's say-so: a broken header must not park an activity for
 * hours. One cap for operators and image hosts alike; the image downloader used to allow 10 minutes,
 * the operator client 5 — the shorter one is kept, since Temporal's own backoff takes over after it.
 */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

type HeaderValue = string | string[] | undefined;
const first = (v: HeaderValue) => (Array.isArray(v) ? v[0] : v);
/** RFC 9110 delta-seconds are digits; a fraction is tolerated because some servers send one. */
const SECONDS = /^\d+(\.\d+)?$/;

/**
 * Retry-After (delta-seconds or HTTP-date; a date in the past gives 0), else RateLimit-Reset /
 * X-RateLimit-Reset (seconds until reset; large values are read as an epoch). Capped at
 * MAX_RETRY_AFTER_MS; undefined when no usable header is present.
 */
export function parseRetryAfter(
  headers: Record<string, HeaderValue>,
  now = Date.now(),
  /** RateLimit-Reset tells when the quota window resets: meaningful for a 429, not for a 503. */
  useQuotaReset = true,
): number | undefined {
  const ms =
    retryAfterHeaderMs(first(headers['retry-after']), now) ??
    (useQuotaReset
      ? quotaResetMs(first(headers['ratelimit-reset'] ?? headers['x-ratelimit-reset']), now)
      : undefined);
  return ms === undefined ? undefined : Math.min(Math.round(ms), MAX_RETRY_AFTER_MS);
}

function retryAfterHeaderMs(value: string | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (SECONDS.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function quotaResetMs(value: string | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (!text || !SECONDS.test(text)) return undefined;
  const n = Number(text);
  return n > 1e9 ? Math.max(0, n * 1000 - now) : n * 1000;
}
