import pino, { type Logger as PinoLogger } from 'pino';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { RuntimeOptions } from '@temporalio/worker';
import { config } from './config.js';

/** Where the lines go: stdout, unless logToFile was called (the tests: a file per test file). */
const stdout = pino.destination(1);
let sink = stdout;

/**
 * Structured JSON logs, one object a line on stdout. Child loggers carry operatorId, tourId and
 * workflowId where known; the Temporal SDK's own, workflow and activity logs go through the same
 * logger (see temporalRuntimeOptions), so one `docker compose logs` stream can be filtered with jq.
 */
export const logger: PinoLogger = pino(
  {
    level: config().logLevel,
    base: { service: 'tour-import' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // "level":"warn" rather than 40, so `jq 'select(.level == "error")'` reads as it says.
    formatters: { level: (label) => ({ level: label }) },
    // The SDK reports failures under `error`; serialize them like `err` (message, type, stack).
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  },
  { write: (line: string) => sink.write(line) },
);

/**
 * Sends this process's log lines — ours, and through temporalRuntimeOptions the SDK's, workflows' and
 * activities' — to `file` (appended, folders made) instead of stdout. The test setup calls it so that
 * a passing run prints no worker logs (test/helpers/test-logs.ts). Not an environment variable: the
 * processes a test spawns would inherit it, and some tests read what those print.
 */
export function logToFile(file: string): void {
  if (sink !== stdout) sink.end();
  sink = pino.destination({ dest: file, append: true, mkdir: true, sync: true });
}

const PINO_METHOD = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** Scheduled runs get `-<RFC 3339 time>` appended to the schedule's workflow id. */
const SCHEDULE_SUFFIX = /-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The operator a workflow id belongs to (`import:<operatorId>`, `tour:<operatorId>:<externalId>`, see
 * src/constants.ts), so every SDK, workflow and activity log line carries operatorId without each call
 * site having to add it.
 */
function operatorIdFromWorkflowId(workflowId: unknown): string | undefined {
  if (typeof workflowId !== 'string') return undefined;
  const m = /^(import|tour):([a-z0-9]+(?:-[a-z0-9]+)*)/.exec(workflowId.replace(SCHEDULE_SUFFIX, ''));
  return m?.[2];
}

/**
 * A Temporal SDK Logger that writes through pino. The SDK attaches workflowId, runId, workflowType,
 * activityType, taskQueue, attempt and `sdkComponent` to its meta; they become JSON fields.
 */
export function temporalLogger(base: PinoLogger = logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    const method = PINO_METHOD[level] ?? 'info';
    if (!base.isLevelEnabled(method)) return;
    // Symbol keys (the SDK's timestamp) are not JSON: copy only string keys. The activity task token
    // is long, and whoever holds it can complete the activity: keep it out of the logs.
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(meta ?? {}))
      if (key !== 'taskToken') fields[key] = (meta as Record<string, unknown>)[key];
    if (fields['operatorId'] === undefined) {
      const operatorId = operatorIdFromWorkflowId(fields['workflowId']);
      if (operatorId) fields['operatorId'] = operatorId;
    }
    base[method](fields, message);
  };
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}

/**
 * Options for `Runtime.install` in a worker main, called before any connection or worker is made:
 * SDK, workflow (`log` from @temporalio/workflow) and activity (`log` from @temporalio/activity) logs,
 * and the native core's warnings, all come out as pino JSON.
 */
export function temporalRuntimeOptions(base: PinoLogger = logger): RuntimeOptions {
  const metricsBind = config().workers.metricsBind;
  const verbose = base.level === 'debug' || base.level === 'trace';
  return {
    logger: temporalLogger(base),
    telemetryOptions: {
      logging: {
        // The native core is chatty at INFO; keep it to warnings unless debugging.
        filter: { core: verbose ? 'DEBUG' : 'WARN', other: verbose ? 'INFO' : 'ERROR' },
        forward: {},
      },
      // The SDK's runtime metrics (task latencies, slots, polls), scraped from each worker.
      ...(metricsBind ? { metrics: { prometheus: { bindAddress: metricsBind } } } : {}),
    },
  };
}
