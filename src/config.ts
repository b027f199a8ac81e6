import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_HOUSEKEEPING as HK, type HousekeepingPolicy } from './domain/housekeeping.js';

/**
 * The one place that reads process.env. Every default works on a fresh development machine:
 * an embedded Temporal dev server, a local PostgreSQL, blobs in ./data/blobs.
 */
const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A duration set in `unit`s (minutes, hours, days), at least `min` of them; unset: `defaultMs`. */
const durationIn = (unit: number, defaultMs: number, min: number) =>
  z.coerce
    .number()
    .min(min)
    .default(defaultMs / unit);

/** compose passes an unset `${VAR:-}` as an empty string: the same as not set. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema);

/** A configuration the process cannot run with; its message is one line that names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The exit code of any process whose environment is invalid (the CLI's EXIT.config too). */
export const CONFIG_EXIT_CODE = 8;

/**
 * Production runs against servers someone operates: nothing is discovered (no server on
 * 127.0.0.1:7233/5432) and nothing is started (no dev server, no private PostgreSQL cluster).
 */
function requiredInProduction(e: z.infer<typeof EnvSchema>): void {
  if (e.NODE_ENV !== 'production') return;
  const missing = (['TEMPORAL_ADDRESS', 'DATABASE_URL'] as const).filter((name) => !e[name]);
  if (missing.length)
    throw new ConfigError(
      `${missing.join(' and ')} must be set when NODE_ENV=production (nothing is discovered or started there)`,
    );
}

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  TOUR_IMPORT_DATA_DIR: z.string().default(path.resolve('data')),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_CLI_PATH: z.string().optional(),
  /** The Temporal server and its SQL tool for `npm run temporal:server`; unset: built once into the user cache. */
  TEMPORAL_SERVER_PATH: unsetIfEmpty(z.string().optional()),
  TEMPORAL_SQL_TOOL_PATH: unsetIfEmpty(z.string().optional()),
  XDG_CACHE_HOME: z.string().default(path.join(os.homedir(), '.cache')),
  TEMPORAL_UI_PORT: z.coerce.number().int().default(8233),
  /** Where people open the Temporal Web UI (catalog page links); defaults to the dev server's UI. */
  TEMPORAL_UI_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url().optional()),
  TEMPORAL_PORT: z.coerce.number().int().default(7233),
  /** TLS to the frontend: on when a CA, client certificate, server name or API key is set, unless 'false'. */
  TEMPORAL_TLS: unsetIfEmpty(z.enum(['true', 'false']).optional()),
  TEMPORAL_TLS_CA_PATH: unsetIfEmpty(z.string().optional()),
  TEMPORAL_TLS_CERT_PATH: unsetIfEmpty(z.string().optional()),
  TEMPORAL_TLS_KEY_PATH: unsetIfEmpty(z.string().optional()),
  TEMPORAL_TLS_SERVER_NAME: unsetIfEmpty(z.string().optional()),
  TEMPORAL_API_KEY: unsetIfEmpty(z.string().optional()),
  DATABASE_URL: z.string().optional(),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('public'),
  BLOB_DIR: z.string().optional(),
  /** Where originals and variants live: a local folder (BLOB_DIR) or an S3 bucket (docs/configuration.md: Object storage). */
  BLOB_STORE: unsetIfEmpty(z.enum(['local', 's3']).default('local')),
  S3_BUCKET: unsetIfEmpty(z.string().optional()),
  S3_PREFIX: unsetIfEmpty(z.string().optional()),
  /** An S3-compatible server's URL (path-style requests); unset: AWS S3. */
  S3_ENDPOINT: unsetIfEmpty(z.url().optional()),
  AWS_REGION: unsetIfEmpty(z.string().default('us-east-1')),
  /** A CDN base that serves the store's keys: the catalog page links variants there instead of /blobs/. */
  BLOB_PUBLIC_URL: unsetIfEmpty(z.url().optional()),
  /** The versitygw binary the tests' S3 server runs; unset: PATH, else built once into the user cache. */
  VERSITYGW_PATH: unsetIfEmpty(z.string().optional()),
  OPERATORS_FILE: z.string().default(path.resolve('config/operators.yaml')),
  SIMULATOR_PORT: z.coerce.number().int().default(4010),
  API_PORT: z.coerce.number().int().default(3000),
  /** The address the API listens on; unset: see apiBind. */
  API_BIND: unsetIfEmpty(
    z
      .string()
      .refine((s) => isIP(s) !== 0, 'must be an IP address to listen on (0.0.0.0: every interface)')
      .optional(),
  ),
  /** The API's credentials: a bearer token (clients, Prometheus) and/or basic auth (browsers); docs/operations.md: HTTP API. */
  API_TOKEN: unsetIfEmpty(z.string().optional()),
  API_BASIC_USER: unsetIfEmpty(z.string().optional()),
  API_BASIC_PASSWORD: unsetIfEmpty(z.string().optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  IMAGE_SIZES: csv.default(['1200', '600', '200']).transform((xs) => xs.map(Number)),
  IMAGE_FORMATS: csv.default(['jpeg', 'webp']),
  IMAGE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(25 * 1024 * 1024),
  IMAGE_MAX_PIXELS: z.coerce.number().int().positive().default(100_000_000),
  /** An image URL checked this recently is not asked again (0: a conditional GET every time). */
  IMAGE_RECHECK_MINUTES: z.coerce.number().nonnegative().default(60),
  /** Hosts (or CIDRs) that image and operator URLs may reach although private; empty in production. */
  ALLOW_PRIVATE_HOSTS: csv.default([]),
  TOUR_WORKER_MAX_ACTIVITIES: z.coerce.number().int().positive().default(50),
  TOUR_WORKER_MAX_WORKFLOWS: z.coerce.number().int().positive().default(100),
  /** Threads running workflow code in a tour-import worker; unset: from the host's cores (src/workers/tour-sizing.ts). */
  TOUR_WORKER_WORKFLOW_THREADS: unsetIfEmpty(z.coerce.number().int().min(1).max(64).optional()),
  /** Workflows kept in a tour-import worker's cache; unset: the SDK's, from the heap limit (which follows memory). */
  TOUR_WORKER_MAX_CACHED_WORKFLOWS: unsetIfEmpty(z.coerce.number().int().nonnegative().optional()),
  /** Images in flight per image worker (waiting on their download or for a resize permit). */
  IMAGE_WORKER_MAX_ACTIVITIES: z.coerce.number().int().positive().default(64),
  /** Of those, images being decoded and encoded at once (the CPU-bound part); unset: from the host's cores. */
  IMAGE_WORKER_MAX_RESIZES: unsetIfEmpty(z.coerce.number().int().positive().optional()),
  /** Memory an image worker may fill with decodes; unset: the cgroup limit, else 512 (src/workers/image-sizing.ts). */
  IMAGE_WORKER_MEMORY_MB: unsetIfEmpty(z.coerce.number().int().positive().optional()),
  /** libuv's pool, read by Node itself; the image worker sizes it from the host when unset. */
  UV_THREADPOOL_SIZE: unsetIfEmpty(z.coerce.number().int().min(1).max(1024).optional()),
  SHARP_CONCURRENCY: z.coerce.number().int().nonnegative().default(0),
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  /** host:port where a worker serves the Temporal SDK's Prometheus metrics; unset: none. */
  WORKER_METRICS_BIND: z.string().optional(),
  /** Housekeeping (docs/operations.md: Housekeeping): how often its schedule runs it (0: no schedule) and its batch size. */
  HOUSEKEEPING_EVERY_MINUTES: durationIn(MINUTE, HK.everyMs, 0),
  HOUSEKEEPING_BATCH_SIZE: z.coerce.number().int().positive().max(10_000).default(HK.batchSize),
  RETENTION_IMPORT_RUNS_DAYS: durationIn(DAY, HK.retention.importRunsMs, 1),
  RETENTION_TOUR_FAILURES_DAYS: durationIn(DAY, HK.retention.tourFailuresMs, 1),
  /** At least an hour: far beyond the webhook signature's 5-minute tolerance. */
  RETENTION_WEBHOOK_DELIVERIES_HOURS: durationIn(HOUR, HK.retention.webhookDeliveriesMs, 1),
  RETENTION_STAGED_TOURS_HOURS: durationIn(HOUR, HK.retention.stagedToursMs, 1),
  /** Garbage collection of blobs no tour refers to, swept a grace period after they were first seen so. */
  BLOB_GC: unsetIfEmpty(z.enum(['on', 'off']).default(HK.blobGc.enabled ? 'on' : 'off')),
  /** At least 1 in production; outside it, fractions too (the soak sweeps against live imports after seconds). */
  BLOB_GC_GRACE_HOURS: z.coerce
    .number()
    .positive()
    .default(HK.blobGc.graceMs / HOUR),
  /** Longer than any download or resize takes: younger temp files may still be being written. */
  TEMP_FILE_MAX_AGE_MINUTES: durationIn(MINUTE, HK.tempFileMaxAgeMs, 10),
  /** Notification sinks besides the operators file's (docs/operations.md: Notifications). */
  NOTIFY_SLACK_WEBHOOK_URL: unsetIfEmpty(z.url().optional()),
  NOTIFY_WEBHOOK_URL: unsetIfEmpty(z.url().optional()),
  NOTIFY_WEBHOOK_SECRET: unsetIfEmpty(z.string().optional()),
  /** Traces over OTLP/HTTP to this collector (docs/operations.md: Traces); unset: tracing is off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: unsetIfEmpty(z.url().optional()),
});

export type Env = z.infer<typeof EnvSchema>;

/** The blob store's settings; credentials stay with the SDK's default chain (AWS_ACCESS_KEY_ID…). */
function blobStoreConfig(e: Env) {
  const publicUrl = e.BLOB_PUBLIC_URL?.replace(/\/+$/, '');
  if (e.BLOB_STORE === 'local') return { kind: 'local' as const, publicUrl };
  if (!e.S3_BUCKET)
    throw new ConfigError('S3_BUCKET must be set when BLOB_STORE=s3 (the bucket for originals and variants)');
  const { S3_BUCKET: bucket, S3_PREFIX: prefix, S3_ENDPOINT: endpoint, AWS_REGION: region } = e;
  return { kind: 's3' as const, bucket, prefix, endpoint, region, publicUrl };
}

export type BlobStoreConfig = ReturnType<typeof blobStoreConfig>;

function housekeepingPolicy(e: Env): HousekeepingPolicy {
  return {
    everyMs: e.HOUSEKEEPING_EVERY_MINUTES * MINUTE,
    batchSize: e.HOUSEKEEPING_BATCH_SIZE,
    retention: {
      importRunsMs: e.RETENTION_IMPORT_RUNS_DAYS * DAY,
      tourFailuresMs: e.RETENTION_TOUR_FAILURES_DAYS * DAY,
      webhookDeliveriesMs: e.RETENTION_WEBHOOK_DELIVERIES_HOURS * HOUR,
      stagedToursMs: e.RETENTION_STAGED_TOURS_HOURS * HOUR,
    },
    blobGc: { enabled: e.BLOB_GC === 'on', graceMs: e.BLOB_GC_GRACE_HOURS * HOUR },
    tempFileMaxAgeMs: e.TEMP_FILE_MAX_AGE_MINUTES * MINUTE,
  };
}

/**
 * Who may read the API's catalog, metrics and admin routes; undefined: no one is asked (development).
 * Only the API needs them, so only the API asks (and exits when production has none).
 */
function apiCredentials(e: Env) {
  const { API_TOKEN: token, API_BASIC_USER: user, API_BASIC_PASSWORD: password } = e;
  if (token || (user && password)) return { token, basic: user && password ? { user, password } : undefined };
  if (e.NODE_ENV === 'production')
    throw new ConfigError(
      'API_TOKEN or API_BASIC_USER and API_BASIC_PASSWORD must be set when NODE_ENV=production (the API serves nothing but probes, blobs and webhooks unauthenticated)',
    );
  return undefined;
}

/**
 * Where the API listens. Without credentials its pause, resume and apply-removals routes are open, so a
 * development API answers this host only; one with credentials, or in production, is meant to be reached.
 */
function apiBind(e: Env): string {
  if (e.API_BIND) return e.API_BIND;
  const credentials = e.API_TOKEN || (e.API_BASIC_USER && e.API_BASIC_PASSWORD);
  return credentials || e.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = validEnv(env);
  return {
    env: e.NODE_ENV,
    dataDir: e.TOUR_IMPORT_DATA_DIR,
    temporal: temporalConfig(e),
    /** Unset (never in production): 127.0.0.1:5432, else a private cluster started here. */
    database: { url: e.DATABASE_URL || undefined, schema: e.DATABASE_SCHEMA },
    blobDir: e.BLOB_DIR ?? path.join(e.TOUR_IMPORT_DATA_DIR, 'blobs'),
    blobs: blobStoreConfig(e),
    housekeeping: housekeepingPolicy(e),
    versitygwPath: e.VERSITYGW_PATH,
    operatorsFile: e.OPERATORS_FILE,
    simulatorPort: e.SIMULATOR_PORT,
    apiPort: e.API_PORT,
    apiBind: apiBind(e),
    /** A function, so that no log or dump of the configuration shows them; throws ConfigError (see apiCredentials). */
    apiCredentials: () => apiCredentials(e),
    logLevel: e.LOG_LEVEL,
    images: {
      widths: e.IMAGE_SIZES,
      formats: e.IMAGE_FORMATS as ('jpeg' | 'webp')[],
      maxBytes: e.IMAGE_MAX_BYTES,
      maxPixels: e.IMAGE_MAX_PIXELS,
      recheckAfterMs: e.IMAGE_RECHECK_MINUTES * 60_000,
    },
    allowPrivateHosts: e.ALLOW_PRIVATE_HOSTS,
    workers: workersConfig(e, env),
    /** A function, so that no log or dump of the configuration shows the Slack URL or the secret. */
    notify: () => ({
      slackWebhookUrl: e.NOTIFY_SLACK_WEBHOOK_URL,
      webhookUrl: e.NOTIFY_WEBHOOK_URL,
      webhookSecret: e.NOTIFY_WEBHOOK_SECRET,
    }),
    tracing: { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT },
    /** Secrets are looked up by the *name* of their environment variable, never stored elsewhere. */
    secret(name: string): string | undefined {
      return env[name] || undefined; // an empty value (compose's ${VAR:-}) is no secret
    },
  };
}

/** The parsed environment, with the settings that only make sense together checked together. */
function validEnv(env: NodeJS.ProcessEnv): Env {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid environment configuration: ${problems}`);
  }
  const e = parsed.data;
  requiredInProduction(e);
  if (e.NODE_ENV === 'production' && e.BLOB_GC_GRACE_HOURS < 1)
    throw new ConfigError('BLOB_GC_GRACE_HOURS must be at least 1 when NODE_ENV=production');
  if (!e.TEMPORAL_TLS_CERT_PATH !== !e.TEMPORAL_TLS_KEY_PATH)
    throw new ConfigError('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together (mTLS)');
  if (e.NOTIFY_WEBHOOK_URL && !e.NOTIFY_WEBHOOK_SECRET)
    throw new ConfigError('NOTIFY_WEBHOOK_URL needs NOTIFY_WEBHOOK_SECRET (its notifications are signed)');
  if (!e.API_BASIC_USER !== !e.API_BASIC_PASSWORD)
    throw new ConfigError('API_BASIC_USER and API_BASIC_PASSWORD must be set together (basic auth)');
  return e;
}

function temporalConfig(e: Env) {
  const tlsWanted = Boolean(
    e.TEMPORAL_TLS_CA_PATH || e.TEMPORAL_TLS_CERT_PATH || e.TEMPORAL_TLS_SERVER_NAME || e.TEMPORAL_API_KEY,
  );
  return {
    /** Unset (never in production): a server on the local port, else a dev server started here. */
    address: e.TEMPORAL_ADDRESS || undefined,
    namespace: e.TEMPORAL_NAMESPACE,
    cliPath: e.TEMPORAL_CLI_PATH,
    serverPath: e.TEMPORAL_SERVER_PATH,
    sqlToolPath: e.TEMPORAL_SQL_TOOL_PATH,
    /** Where a `temporal` binary built by this project is kept: outside the repository, shared by clones. */
    cliCacheDir: path.join(e.XDG_CACHE_HOME, 'tour-import', 'bin'),
    port: e.TEMPORAL_PORT,
    uiPort: e.TEMPORAL_UI_PORT,
    uiUrl: (e.TEMPORAL_UI_URL ?? `http://localhost:${e.TEMPORAL_UI_PORT}`).replace(/\/+$/, ''),
    /** Paths, read when connecting (src/infra/temporal-connection.ts). */
    tls: {
      enabled: e.TEMPORAL_TLS ? e.TEMPORAL_TLS === 'true' : tlsWanted,
      caPath: e.TEMPORAL_TLS_CA_PATH,
      certPath: e.TEMPORAL_TLS_CERT_PATH,
      keyPath: e.TEMPORAL_TLS_KEY_PATH,
      serverName: e.TEMPORAL_TLS_SERVER_NAME,
    },
    /** A function, so that no log or dump of the configuration shows the key. */
    apiKey: (): string | undefined => e.TEMPORAL_API_KEY,
  };
}

function workersConfig(e: Env, env: NodeJS.ProcessEnv) {
  return {
    tourMaxActivities: e.TOUR_WORKER_MAX_ACTIVITIES,
    tourMaxWorkflows: e.TOUR_WORKER_MAX_WORKFLOWS,
    tourWorkflowThreads: e.TOUR_WORKER_WORKFLOW_THREADS,
    tourMaxCachedWorkflows: e.TOUR_WORKER_MAX_CACHED_WORKFLOWS,
    imageMaxActivities: e.IMAGE_WORKER_MAX_ACTIVITIES,
    imageMaxResizes: e.IMAGE_WORKER_MAX_RESIZES,
    imageMemoryMb: e.IMAGE_WORKER_MEMORY_MB,
    uvThreadpoolSize: e.UV_THREADPOOL_SIZE,
    /**
     * Set but empty (compose passes an unset `${VAR:-}` so): libuv reads that as 0 and runs ONE thread,
     * so the image worker must relaunch with its size even when that size is libuv's default.
     */
    uvThreadpoolSizeEmpty: env['UV_THREADPOOL_SIZE'] === '',
    sharpConcurrency: e.SHARP_CONCURRENCY,
    workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    metricsBind: e.WORKER_METRICS_BIND,
  };
}

export type Config = ReturnType<typeof loadConfig>;

let cached: Config | undefined;
/** The process's configuration; an invalid one ends the process with one line on stderr, not a stack trace. */
export function config(): Config {
  return (cached ??= exitOnConfigError(() => loadConfig()));
}

/** fn's result; a ConfigError from it ends the process the way an invalid environment does. */
export function exitOnConfigError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Modules call config() as they load (the logger does), where no caller could catch this.
    process.stderr.write(`tour-import: ${err.message}\n`);
    process.exit(CONFIG_EXIT_CODE);
  }
}
