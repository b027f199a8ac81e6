import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

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

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  TOUR_IMPORT_DATA_DIR: z.string().default(path.resolve('data')),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_CLI_PATH: z.string().optional(),
  XDG_CACHE_HOME: z.string().default(path.join(os.homedir(), '.cache')),
  TEMPORAL_UI_PORT: z.coerce.number().int().default(8233),
  /** Where people open the Temporal Web UI (catalog page links); defaults to the dev server's UI. */
  TEMPORAL_UI_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url().optional()),
  TEMPORAL_PORT: z.coerce.number().int().default(7233),
  DATABASE_URL: z.string().optional(),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('public'),
  BLOB_DIR: z.string().optional(),
  OPERATORS_FILE: z.string().default(path.resolve('config/operators.yaml')),
  SIMULATOR_PORT: z.coerce.number().int().default(4010),
  API_PORT: z.coerce.number().int().default(3000),
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
  /** Images in flight per image worker (waiting on their download or for a resize permit). */
  IMAGE_WORKER_MAX_ACTIVITIES: z.coerce.number().int().positive().default(64),
  /** Of those, images being decoded and encoded at once (the CPU-bound part). */
  IMAGE_WORKER_MAX_RESIZES: z.coerce.number().int().positive().default(4),
  SHARP_CONCURRENCY: z.coerce.number().int().nonnegative().default(0),
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  /** host:port where a worker serves the Temporal SDK's Prometheus metrics; unset: none. */
  WORKER_METRICS_BIND: z.string().optional(),
});

export type Env = z.infer<typeof EnvSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid environment configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    dataDir: e.TOUR_IMPORT_DATA_DIR,
    temporal: {
      /** Unset: the project starts its own dev server. */
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      cliPath: e.TEMPORAL_CLI_PATH,
      /** Where a `temporal` binary built by this project is kept: outside the repository, shared by clones. */
      cliCacheDir: path.join(e.XDG_CACHE_HOME, 'tour-import', 'bin'),
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      uiUrl: (e.TEMPORAL_UI_URL ?? `http://localhost:${e.TEMPORAL_UI_PORT}`).replace(/\/+$/, ''),
    },
    database: { url: e.DATABASE_URL, schema: e.DATABASE_SCHEMA },
    blobDir: e.BLOB_DIR ?? path.join(e.TOUR_IMPORT_DATA_DIR, 'blobs'),
    operatorsFile: e.OPERATORS_FILE,
    simulatorPort: e.SIMULATOR_PORT,
    apiPort: e.API_PORT,
    logLevel: e.LOG_LEVEL,
    images: {
      widths: e.IMAGE_SIZES,
      formats: e.IMAGE_FORMATS as ('jpeg' | 'webp')[],
      maxBytes: e.IMAGE_MAX_BYTES,
      maxPixels: e.IMAGE_MAX_PIXELS,
      recheckAfterMs: e.IMAGE_RECHECK_MINUTES * 60_000,
    },
    allowPrivateHosts: e.ALLOW_PRIVATE_HOSTS,
    workers: {
      tourMaxActivities: e.TOUR_WORKER_MAX_ACTIVITIES,
      tourMaxWorkflows: e.TOUR_WORKER_MAX_WORKFLOWS,
      imageMaxActivities: e.IMAGE_WORKER_MAX_ACTIVITIES,
      imageMaxResizes: e.IMAGE_WORKER_MAX_RESIZES,
      sharpConcurrency: e.SHARP_CONCURRENCY,
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
      metricsBind: e.WORKER_METRICS_BIND,
    },
    /** Secrets are looked up by the *name* of their environment variable, never stored elsewhere. */
    secret(name: string): string | undefined {
      return env[name] || undefined; // an empty value (compose's ${VAR:-}) is no secret
    },
  };
}

export type Config = ReturnType<typeof loadConfig>;

let cached: Config | undefined;
export function config(): Config {
  return (cached ??= loadConfig());
}
