import { PERMANENT_FAILURES } from '../domain/errors.js';

/**
 * Typed operator failures. Each carries a `type` (used verbatim as the Temporal ApplicationFailure
 * type, so people can search for it) and `retryable`; the activity layer does the conversion.
 * Messages name the request path and status but never credentials: see redactUrl.
 */

const SECRET_PARAM = /^(api[-_]?key|key|token|access[-_]?token|signature|sig|secret|password)$/i;

/**
 * The URL with secret-looking query parameters replaced, safe for messages and logs. Not src/net's
 * redactUrl, which drops an image URL's whole query (a CDN signs there under any name): an operator
 * request's paging parameters are what a person reading the failure needs, and its key names are known.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    for (const name of [...u.searchParams.keys()]) {
      if (SECRET_PARAM.test(name)) u.searchParams.set(name, 'REDACTED');
    }
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/([?&](?:api[-_]?key|key|token|signature)=)[^&#]*/gi, '$1REDACTED');
  }
}

export abstract class OperatorError extends Error {
  abstract readonly type: string;
  abstract readonly retryable: boolean;
  /** Redacted URL of the failing request. */
  readonly url: string;

  constructor(message: string, url: string) {
    super(message);
    this.url = redactUrl(url);
    this.name = new.target.name;
  }
}

/** 429, or a 403 caused by an exhausted quota. Always worth retrying after `retryAfterMs`. */
export class OperatorThrottledError extends OperatorError {
  readonly type = 'OperatorThrottled';
  readonly retryable = true;
  constructor(
    url: string,
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    const wait = retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(retryAfterMs / 1000)} s`;
    super(`operator throttled GET ${redactUrl(url)}: HTTP ${status}${wait}`, url);
  }
}

/** Non-2xx status, timeout or network failure. `status` is undefined when no response arrived. */
export class OperatorHttpError extends OperatorError {
  readonly type = 'OperatorHttpError';
  readonly retryable: boolean;
  constructor(
    url: string,
    readonly status: number | undefined,
    reason: string,
    /** Present on 503 responses that carry Retry-After. */
    readonly retryAfterMs?: number,
    /** When the body says more than the status (OCTO's INTERNAL_SERVER_ERROR under 400: retried). */
    retryable?: boolean,
  ) {
    super(
      `operator request GET ${redactUrl(url)} failed: ${status === undefined ? reason : `HTTP ${status} ${reason}`}`.trim(),
      url,
    );
    this.retryable = retryable ?? (status === undefined || status >= 500 || status === 408);
  }
}

/**
 * The operator refused our credentials (OCTO's UNAUTHORIZED or FORBIDDEN, whatever the status). Retrying
 * cannot help until someone fixes the key, so the message names the operator to fix it for.
 */
export class OperatorCredentialsError extends OperatorError {
  readonly type = 'OperatorCredentialsRefused';
  readonly retryable = false;
  constructor(
    readonly operatorId: string,
    url: string,
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(
      `operator "${operatorId}" refused the credentials (${code}, HTTP ${status}) for GET ${redactUrl(url)}` +
        `${detail ? `: ${excerpt(detail)}` : ''}; check the API key configured for "${operatorId}"`,
      url,
    );
  }
}

/**
 * The operator did not initialise a capability the import cannot do without (OCTO's `octo/content`:
 * without it a product has no title, description or images). Permanent until the operator enables it.
 */
export class OperatorCapabilityError extends OperatorError {
  readonly type = 'OperatorCapabilityMissing';
  readonly retryable = false;
  constructor(
    readonly operatorId: string,
    url: string,
    readonly capability: string,
    granted: string | undefined,
  ) {
    super(
      `operator "${operatorId}" did not initialise the capability ${capability} for GET ${redactUrl(url)} ` +
        `(its Octo-Capabilities: ${granted === undefined ? 'none sent' : `"${excerpt(granted)}"`}): without ` +
        `${capability} there is nothing to import; ask the operator to enable ${capability} for this API key`,
      url,
    );
  }
}

/** The body cannot be understood: malformed JSON/XML, wrong content type, too large. */
export class OperatorPayloadError extends OperatorError {
  readonly type = PERMANENT_FAILURES.operatorPayloadInvalid;
  readonly retryable = false;
  constructor(url: string, reason: string, body?: string) {
    super(
      `operator payload from GET ${redactUrl(url)} is invalid: ${reason}${body === undefined ? '' : ` — body starts: ${excerpt(body)}`}`,
      url,
    );
  }
}

/** An error reported inside an HTTP 200 (B: success=false, C: <error> other than OK). */
export class OperatorApplicationError extends OperatorError {
  readonly type = PERMANENT_FAILURES.operatorApplicationError;
  readonly retryable: boolean;
  constructor(
    url: string,
    readonly code: string,
    detail: string,
  ) {
    super(
      `operator reported error ${code} for GET ${redactUrl(url)}${detail ? `: ${excerpt(detail)}` : ''}`,
      url,
    );
    this.retryable = TRANSIENT_CODE.test(code) && !AUTH_CODE.test(code);
  }
}

/** Codes of an application error that refuses the credentials (B's AUTHENTICATION_FAILED, C's FAIL_AUTH). */
export const AUTH_CODE = /AUTH|KEY|SIGNATURE|CREDENTIAL|PERMISSION|FORBIDDEN|DENIED|CHANNEL/i;
const TRANSIENT_CODE = /TIMEOUT|UNAVAILABLE|INTERNAL|TEMPORAR|BUSY|TRY.?AGAIN|MAINTENANCE/i;
const THROTTLE_CODE = /RATE.?LIMIT|QUOTA|TOO.?MANY|THROTTL/i;

/** Throttling reported inside a 200 is still throttling: classify it so it gets the right retry. */
export function applicationError(url: string, code: string, detail: string): OperatorError {
  if (THROTTLE_CODE.test(code)) return new OperatorThrottledError(url, 200, undefined);
  return new OperatorApplicationError(url, code, detail);
}

/** Single line, at most 200 characters, so messages stay readable and bounded. */
export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** Operator configuration that cannot work (missing credential, invalid operators file). Permanent. */
export class OperatorConfigError extends Error {
  readonly type = 'OperatorConfigInvalid';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'OperatorConfigError';
  }
}
