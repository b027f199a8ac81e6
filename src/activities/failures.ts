import { ApplicationFailure, Context } from '@temporalio/activity';
import { DATA_REJECTED, UNAVAILABLE_FAILURES } from '../domain/errors.js';

/** Errors of the operator, network and image modules carry a searchable `type` and whether to retry. */
interface TypedError extends Error {
  type: string;
  retryable: boolean;
  retryAfterMs?: number;
}

function isTyped(err: unknown): err is TypedError {
  return (
    err instanceof Error &&
    typeof (err as TypedError).type === 'string' &&
    typeof (err as TypedError).retryable === 'boolean'
  );
}

/**
 * An error PostgreSQL sent back, as node-postgres's DatabaseError carries it. Recognised by shape, not
 * by `instanceof`, so activities need not import the driver (the db module is the one that does).
 */
export interface PostgresError extends Error {
  /** SQLSTATE: two characters of class, three of condition. */
  code: string;
  severity: string;
  detail?: string;
  table?: string;
  column?: string;
  constraint?: string;
}

function isPostgresError(err: unknown): err is PostgresError {
  const e = err as Partial<PostgresError>;
  return (
    err instanceof Error &&
    typeof e.severity === 'string' &&
    typeof e.code === 'string' &&
    /^[0-9A-Z]{5}$/.test(e.code)
  );
}

/**
 * Integrity violations that a concurrent transaction causes and a retry clears. 23505: two writers
 * inserted the same key at once (our upserts arbitrate their own key, but not every unique index); 23P01:
 * the same for an exclusion constraint. 23503 (foreign key) is not one: every parent row here (operator,
 * asset, tour) is committed by an earlier step before a child refers to it, and only Housekeeping's blob
 * GC deletes one (an asset no tour referred to for its grace period), so a missing parent stays missing;
 * the db profile retries without limit, and would wait forever on it.
 */
const RACE_CODES = new Set(['23505', '23P01']);

/**
 * A PostgreSQL error that retrying the same write cannot fix: class 22 (data exception: a value out of
 * range, a character the encoding refuses, bad input syntax) and class 23 (integrity violation) unless
 * a race. Everything else stays retryable: connection failures (class 08, 57P01 admin shutdown, and
 * socket errors, which are not PostgreSQL errors at all) until the database is back, and class 40
 * (serialization failure, deadlock) because the retry is the cure.
 */
export function isPostgresDataError(err: unknown): err is PostgresError {
  if (!isPostgresError(err)) return false;
  const cls = err.code.slice(0, 2);
  return cls === '22' || (cls === '23' && !RACE_CODES.has(err.code));
}

/**
 * SQLSTATEs of a server that cannot take the query now: class 08 (connection exception), 53300 (too many
 * connections), 57P01–57P03 (shutting down, crashed, starting up).
 */
const UNAVAILABLE_CODES = new Set(['53300', '57P01', '57P02', '57P03']);
/** Socket errors of a connection that could not be made or was lost. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/** node-postgres's own words for a connection it lost or could not get in time. */
const PG_CONNECTION_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * Which service an untyped error says is unreachable: PostgreSQL (its connection errors, as the driver
 * reports them), the blob store (the AWS SDK's errors carry `$metadata`: a network error or a 5xx after
 * its own retries), or neither. Typed errors of the operator and image modules never get here.
 */
function unavailableService(err: unknown): 'database' | 'blob store' | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as NodeJS.ErrnoException).code;
  const aws = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (aws) {
    const status = aws.httpStatusCode;
    return status === undefined || status >= 500 ? 'blob store' : undefined;
  }
  if (isPostgresError(err))
    return err.code.startsWith('08') || UNAVAILABLE_CODES.has(err.code) ? 'database' : undefined;
  if ((code && NETWORK_CODES.has(code)) || PG_CONNECTION_MESSAGES.test(err.message)) return 'database';
  return undefined;
}

/** pg's detail may quote the whole failing row (a 50 kB description): enough to find the value. */
const DETAIL_CHARS = 300;

/** `SQLSTATE 22003, column "price_amount": numeric field overflow (detail)`: what and where, searchable. */
function describePostgresError(err: PostgresError): string {
  const where = [
    err.table && `table "${err.table}"`,
    err.column && `column "${err.column}"`,
    err.constraint && `constraint "${err.constraint}"`,
  ].filter(Boolean);
  const detail = err.detail ? ` (${err.detail.slice(0, DETAIL_CHARS)})` : '';
  return `PostgreSQL rejected the data: SQLSTATE ${[err.code, ...where].join(', ')}: ${err.message}${detail}`;
}

/**
 * Turns a typed domain error into the Temporal failure the retry policy understands: permanent ones
 * non-retryable, throttling retried after the operator's Retry-After (already capped by the adapter).
 * PostgreSQL data errors become non-retryable `DataRejected`, so a write that can never succeed ends
 * the activity instead of holding its workflow (and the operator's import lock) forever.
 */
export function toActivityFailure(err: unknown): unknown {
  if (isPostgresDataError(err)) return nonRetryable(DATA_REJECTED, describePostgresError(err));
  // Typed errors first: a download cut off (ECONNRESET) is the image's failure, not an outage.
  if (isTyped(err))
    return ApplicationFailure.create({
      message: err.message,
      type: err.type,
      nonRetryable: !err.retryable,
      nextRetryDelay: err.retryAfterMs,
    });
  return unavailableFailure(err) ?? err;
}

/** `DatabaseUnavailable` or `BlobStoreUnavailable` (retryable) for an error saying which is unreachable. */
function unavailableFailure(err: unknown): ApplicationFailure | undefined {
  const service = unavailableService(err);
  if (!service) return undefined;
  const [type, name] =
    service === 'database'
      ? [UNAVAILABLE_FAILURES.databaseUnavailable, 'PostgreSQL']
      : [UNAVAILABLE_FAILURES.blobStoreUnavailable, 'the blob store'];
  return ApplicationFailure.create({
    type,
    message: `${name} is unreachable: ${(err as Error).message}`,
    cause: err as Error,
  });
}

/** Runs an activity body, converting typed and PostgreSQL data errors on the way out. */
export async function withFailureMapping<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await heartbeating(fn);
  } catch (err) {
    throw toActivityFailure(err);
  }
}

/**
 * The same activities, each with its failures mapped (withFailureMapping): a PostgreSQL data error in a
 * bookkeeping step is non-retryable `DataRejected` instead of a retry without end under the database
 * profile, which has no attempt limit.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function withFailureMappingAll<T extends Record<string, (...args: any[]) => Promise<unknown>>>(
  activities: T,
): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      (...args: unknown[]) => withFailureMapping(() => fn(...args)),
    ]),
  ) as T;
}

/**
 * Names this activity execution — the same for every retry of it, different in every other workflow
 * run or activity — plus `suffix`, so a write it makes can be made idempotent. Undefined outside an
 * activity.
 */
export function activityExecutionKey(suffix: string): string | undefined {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  const wf = info.workflowExecution;
  return wf ? `${wf.workflowId}/${wf.runId}/${info.activityId}/${suffix}` : undefined;
}

/** The workflow this activity runs for (undefined outside an activity): failures name their import. */
export function activityWorkflowId(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.workflowId;
  } catch {
    return undefined;
  }
}

export function nonRetryable(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/**
 * Heartbeats while `fn` runs (operator calls can wait on the shared rate limiter or a slow API), so a
 * crashed worker is noticed within the heartbeat timeout instead of the start-to-close timeout.
 */
async function heartbeating<T>(fn: () => Promise<T>, everyMs = 5_000): Promise<T> {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return fn(); // called outside an activity (a script, a test): nothing to heartbeat to
  }
  // A local activity has no heartbeat: the worker keeps its workflow task alive instead.
  if (ctx.info.isLocal) return fn();
  const timer = setInterval(() => ctx.heartbeat(), everyMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
