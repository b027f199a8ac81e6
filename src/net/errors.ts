import { ApplicationFailure } from '@temporalio/common';
import { PERMANENT_FAILURES } from '../domain/errors.js';

/**
 * Download failures as Temporal ApplicationFailures: an activity can let them propagate and
 * Temporal sees the searchable `type` and whether a retry can help, without a mapping layer.
 * Details stay small (no bodies, no headers) because they land in the workflow history.
 */

export type UnsafeUrlReason =
  'invalid-url' | 'scheme' | 'private-address' | 'dns-resolved-private' | 'redirect';

/** The URL (or a redirect hop, or the address its name resolves to) is not allowed. */
export class UnsafeUrlError extends ApplicationFailure {
  constructor(
    readonly reason: UnsafeUrlReason,
    readonly url: string,
    detail?: string,
  ) {
    super(
      `Refused URL ${redactUrl(url)} (${reason}${detail ? `: ${detail}` : ''})`,
      PERMANENT_FAILURES.unsafeUrl,
      true,
      [{ reason }],
    );
  }
}

/** The body is larger than the configured limit (announced by Content-Length or counted). */
export class DownloadTooLargeError extends ApplicationFailure {
  constructor(
    readonly limit: number,
    readonly seen: number,
  ) {
    super(`Image larger than ${limit} bytes (at least ${seen})`, PERMANENT_FAILURES.imageTooLarge, true, [
      { limit, seen },
    ]);
  }
}

/** Not an image we accept (text/html, SVG, compressed transfer of an image...). */
export class UnsupportedContentError extends ApplicationFailure {
  constructor(
    readonly reason: string,
    readonly contentType: string | null,
  ) {
    super(`Unsupported content: ${reason}`, PERMANENT_FAILURES.unsupportedImage, true, [
      { reason, contentType },
    ]);
  }
}

/**
 * The server answered with an error status, or the exchange failed (timeout, reset, refused).
 * Retryable when waiting can plausibly help: 5xx, 408, 429 and network-level failures. A 404/410
 * or other 4xx will not get better by retrying.
 */
export class DownloadHttpError extends ApplicationFailure {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string | null,
    readonly retryable: boolean,
    retryAfterMs?: number,
  ) {
    super(
      message,
      status === 404 || status === 410 ? 'ImageGone' : 'DownloadFailed',
      !retryable,
      [{ status, code }],
      undefined,
      retryAfterMs,
    );
  }

  static fromStatus(status: number, url: string, retryAfterMs?: number): DownloadHttpError {
    const retryable = status >= 500 || status === 408 || status === 429;
    return new DownloadHttpError(
      `HTTP ${status} for ${redactUrl(url)}`,
      status,
      null,
      retryable,
      retryAfterMs,
    );
  }
}

/**
 * Never echo credentials from a URL into errors, logs or workflow histories. The whole query goes: an
 * image URL's signature may sit under any parameter name (src/operators/errors.ts keeps an operator
 * request's query, whose secret parameter names are known).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    u.search = u.search ? '?…' : '';
    return u.toString();
  } catch {
    return url.slice(0, 200);
  }
}
