import { ApplicationFailure, Context } from '@temporalio/activity';

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
 * Turns a typed domain error into the Temporal failure the retry policy understands: permanent ones
 * non-retryable, throttling retried after the operator's Retry-After (already capped by the adapter).
 */
export function toActivityFailure(err: unknown): unknown {
  if (!isTyped(err)) return err;
  return ApplicationFailure.create({
    message: err.message,
    type: err.type,
    nonRetryable: !err.retryable,
    nextRetryDelay: err.retryAfterMs,
  });
}

/** Runs an activity body, converting typed errors on the way out. */
export async function withFailureMapping<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await heartbeating(fn);
  } catch (err) {
    throw toActivityFailure(err);
  }
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

export function nonRetryable(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/**
 * Heartbeats while `fn` runs (operator calls can wait on the shared rate limiter or a slow API), so a
 * crashed worker is noticed within the heartbeat timeout instead of the start-to-close timeout.
 */
export async function heartbeating<T>(fn: () => Promise<T>, everyMs = 5_000): Promise<T> {
  const ctx = Context.current();
  // A local activity has no heartbeat: the worker keeps its workflow task alive instead.
  if (ctx.info.isLocal) return fn();
  const timer = setInterval(() => ctx.heartbeat(), everyMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
