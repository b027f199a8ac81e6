/**
 * Spans of our own I/O (operator HTTP, image download and resize, PostgreSQL), on the OpenTelemetry API
 * only: with tracing off (src/telemetry/tracing.ts) the global tracer is the no-op one and these cost a
 * function call.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type pg from 'pg';

const tracer = () => trace.getTracer('tour-import');

/** Runs `fn` in a child span of the active one, ended when it settles; a throw marks the span failed. */
export async function withSpan<T>(
  name: string,
  o: { attributes?: Attributes; kind?: SpanKind },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(
    name,
    { kind: o.kind ?? SpanKind.INTERNAL, attributes: o.attributes },
    (span) =>
      fn(span).then(
        (result) => {
          span.end();
          return result;
        },
        (err: unknown) => {
          failed(span, err);
          throw err;
        },
      ),
  );
}

/** `fn` bound to the active span: run later from a queue (a resize permit), its spans still nest here. */
export function inActiveSpan<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return context.bind(context.active(), fn);
}

function failed(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
  span.end();
}

const MAX_STATEMENT = 2000;

/**
 * A span per query run inside a trace (an activity's, a request's): `pg.query:<VERB>` with the SQL text
 * (parameters are never recorded). Queries outside any trace (metrics scrapes, housekeeping of the pool)
 * make none. `pool.query` is traced where it is called; a checked-out client's own promise queries too
 * (pg-pool runs its query on a client with a callback, which is left alone, so nothing is traced twice).
 */
export function tracePool(pool: pg.Pool): pg.Pool {
  pool.query = traced(pool.query) as typeof pool.query;
  pool.on('connect', (client) => void (client.query = traced(client.query) as typeof client.query));
  return pool;
}

type QueryFn = (this: unknown, ...args: unknown[]) => unknown;

function traced(query: QueryFn): QueryFn {
  return function (this: unknown, ...args: unknown[]) {
    const [config] = args;
    const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
    const promiseForm = !args.some((a) => typeof a === 'function') && typeof text === 'string';
    if (!promiseForm || !trace.getSpan(context.active())) return query.apply(this, args);
    const verb = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';
    const span = tracer().startSpan(`pg.query:${verb}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system': 'postgresql',
        'db.operation': verb,
        'db.statement': text.slice(0, MAX_STATEMENT),
      },
    });
    const result = query.apply(this, args) as Promise<unknown>;
    result.then(
      () => span.end(),
      (err: unknown) => failed(span, err),
    );
    return result;
  };
}
