import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { createDialectAAdapter } from './dialect-a.js';
import { DEFAULT_IMAGE_FORMAT_ID, createDialectBAdapter } from './dialect-b.js';
import { createDialectCAdapter } from './dialect-c.js';
import { DEFAULT_MAX_LISTING_BYTES, createDialectDAdapter } from './dialect-d.js';
import { DEFAULT_FAILING_RUNS, DEFAULT_HALF_OPEN } from '../domain/notifications.js';
import { DEFAULT_REMOVAL_GUARD } from '../domain/removal-guard.js';
import { OperatorConfigError } from './errors.js';
import { createOperatorHttp, type OperatorHttpOptions, type RateLimiter } from './http.js';
import type { Dialect, OperatorAdapter } from './types.js';

/**
 * Operators come from config/operators.yaml. Credentials are referenced by the NAME of an
 * environment variable, so the file can be committed and the secrets never reach the database,
 * logs or workflow history.
 */

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const duration = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(DURATION, 'must be a duration like "90s", "15m", "1h", "1d"'),
  ])
  .transform((v) =>
    typeof v === 'number' ? v : Number(DURATION.exec(v)![1]) * UNIT_MS[DURATION.exec(v)![2]],
  );
export const envName = z
  .string()
  .regex(
    /^[A-Z_][A-Z0-9_]*$/,
    'must be the NAME of an environment variable (A-Z, 0-9, _), not a secret value',
  );
const cron = z.string().regex(/^\S+(\s+\S+){4,5}$/, 'must be a cron expression with 5 or 6 fields');

const Schedule = z
  .strictObject({
    every: duration.optional(),
    cron: cron.optional(),
    jitter: duration.default(0),
    /** Run a full reconciliation every Nth run (delta dialects), and/or on this cron. */
    fullEvery: z.number().int().positive().optional(),
    fullCron: cron.optional(),
  })
  .refine((s) => (s.every === undefined) !== (s.cron === undefined), {
    message: 'set exactly one of "every" or "cron"',
  })
  .transform(({ every, jitter, ...rest }) => ({ everyMs: every, jitterMs: jitter, ...rest }));

const common = {
  id: z
    .string()
    .max(63)
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a lowercase slug (a-z, 0-9, single dashes)'),
  name: z.string().trim().min(1).max(200),
  baseUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
  apiKeyEnv: envName,
  webhookSecretEnv: envName.optional(),
  schedule: Schedule.prefault({ every: '1h' }),
  /** How many tours of this operator are imported concurrently. */
  window: z.number().int().min(1).max(500).default(20),
  rateLimit: z
    .strictObject({ requestsPerSecond: z.number().positive().max(1000).default(10) })
    .default({ requestsPerSecond: 10 }),
  circuitBreaker: z
    .strictObject({
      consecutiveFailures: z.number().int().positive().default(5),
      failureRatio: z.number().gt(0).max(1).default(0.5),
      overLast: z.number().int().positive().default(20),
      // Half-open (docs/operations.md: Notifications and self-healing pauses): resume alone after a cooldown, with a probe.
      autoResume: z.boolean().default(DEFAULT_HALF_OPEN.autoResume),
      cooldown: duration.default(DEFAULT_HALF_OPEN.cooldownMs),
      maxCooldown: duration.default(DEFAULT_HALF_OPEN.maxCooldownMs),
      probeTours: z.number().int().positive().default(DEFAULT_HALF_OPEN.probeTours),
    })
    .prefault({}),
  /** When to alert (src/domain/notifications.ts): a delta mark older than this; so many failing runs in a row. */
  alerts: z
    .strictObject({
      deltaMarkMaxAge: duration.optional(),
      failingRuns: z.number().int().positive().default(DEFAULT_FAILING_RUNS),
    })
    .prefault({}),
  delta: z.boolean().optional(),
  /**
   * An import that would remove more than `maxShare` of the operator's active tours, and at least
   * `minCount`, holds its removals for a person; so do pushes whose removals within `pushWindow` would
   * (src/domain/removal-guard.ts).
   */
  removalGuard: z
    .strictObject({
      maxShare: z.number().gt(0).max(1).default(DEFAULT_REMOVAL_GUARD.maxShare),
      minCount: z.number().int().positive().default(DEFAULT_REMOVAL_GUARD.minCount),
      pushWindow: duration
        .refine((ms) => ms >= 1000, 'must be at least 1 second')
        .default(DEFAULT_REMOVAL_GUARD.pushWindowMs),
    })
    .transform(({ pushWindow, ...rest }) => ({ ...rest, pushWindowMs: pushWindow }))
    .default(DEFAULT_REMOVAL_GUARD),
  timeoutMs: z.number().int().positive().optional(),
  maxBodyBytes: z.number().int().positive().optional(),
};

/**
 * Whether the operator serves its per-product endpoint (C: always). A's model, Viator, has one, but an
 * operator of the dialect need not serve it; B's spec defines none, so a B operator has one only when
 * the file says so. Where the file says nothing and an A operator answers 404 there, a pushed tour is
 * looked up in the listing anyway (src/activities/tour.ts).
 */
const detailEndpoint = { A: z.boolean().default(true), B: z.boolean().default(false) };

/** BCP 47 language ranges with optional q-values, comma-separated (RFC 9110 Accept-Language). */
const LANGUAGE_RANGE = String.raw`(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)(\s*;\s*q=(0(\.\d{0,3})?|1(\.0{0,3})?))?`;
const LANGUAGE_RANGES = new RegExp(String.raw`^\s*${LANGUAGE_RANGE}(\s*,\s*${LANGUAGE_RANGE})*\s*$`);
/** A listing cap beyond this is surely a typo: the staged copy of 4 GiB of products is already a lot. */
const MAX_LISTING_BYTES = 4 * 1024 * 1024 * 1024;

const OperatorSchema = z.discriminatedUnion('dialect', [
  z.strictObject({ ...common, dialect: z.literal('A'), detailEndpoint: detailEndpoint.A }),
  z.strictObject({
    ...common,
    dialect: z.literal('B'),
    detailEndpoint: detailEndpoint.B,
    imageFormatId: z.string().min(1).default(DEFAULT_IMAGE_FORMAT_ID),
  }),
  z.strictObject({
    ...common,
    dialect: z.literal('C'),
    channelId: z.number().int().nonnegative(),
    marketplaceId: z.number().int().nonnegative().default(0),
    delta: z.literal(false, 'dialect C has no delta listing; remove "delta" or set it to false').optional(),
  }),
  z.strictObject({
    ...common,
    dialect: z.literal('D'),
    // OCTO (src/operators/dialect-d.ts): every product in one answer, no change mark, always GET /products/{id}.
    delta: z
      .literal(false, 'dialect D (OCTO) has no delta listing; remove "delta" or set it to false')
      .optional(),
    detailEndpoint: z
      .literal(true, 'dialect D (OCTO) always serves GET /products/{id}; remove "detailEndpoint"')
      .optional(),
    acceptLanguage: z
      .string()
      .regex(LANGUAGE_RANGES, 'must be an Accept-Language value such as "en" or "de-CH, de;q=0.8, en;q=0.5"')
      .optional(),
    maxListingBytes: z
      .number()
      .int()
      .min(1024 * 1024, 'must be at least 1048576 (1 MiB)')
      .max(MAX_LISTING_BYTES, `must be at most ${MAX_LISTING_BYTES} (4 GiB)`)
      .default(DEFAULT_MAX_LISTING_BYTES),
  }),
]);

// `notifications` (sinks for operations alerts) is validated by src/notify/sinks.ts, which reads the file too.
const FileSchema = z
  .strictObject({ operators: z.array(OperatorSchema).min(1), notifications: z.unknown().optional() })
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.operators.forEach((op, i) => {
      if (seen.has(op.id))
        ctx.addIssue({
          code: 'custom',
          path: ['operators', i, 'id'],
          message: `duplicate operator id "${op.id}"`,
        });
      seen.add(op.id);
    });
  });

type ParsedOperator = z.infer<typeof OperatorSchema>;
/** A validated operator; `delta` resolved from the dialect when not set (A, B: true; C, D: false). */
export type OperatorConfig = ParsedOperator & { delta: boolean };

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    '',
  );
}

/** Pure: YAML text → operator configs. Errors name the file, the field and the operator's id. */
export function parseOperatorsYaml(text: string, file: string): OperatorConfig[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new OperatorConfigError(`${file}: invalid YAML: ${(err as Error).message}`);
  }
  const result = FileSchema.safeParse(doc);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const [, index] = issue.path;
      const ops = (doc as { operators?: { id?: unknown }[] } | null)?.operators;
      const id = typeof index === 'number' && Array.isArray(ops) ? ops[index]?.id : undefined;
      return `field "${formatPath(issue.path)}"${typeof id === 'string' ? ` (operator "${id}")` : ''}: ${issue.message}`;
    });
    throw new OperatorConfigError(`${file}: ${problems.join('; ')}`);
  }
  return result.data.operators.map(
    (op) => ({ ...op, delta: op.delta ?? (op.dialect === 'A' || op.dialect === 'B') }) as OperatorConfig,
  );
}

export async function loadOperatorsFile(path: string): Promise<OperatorConfig[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new OperatorConfigError(`cannot read operators file ${path}: ${(err as Error).message}`);
  }
  return parseOperatorsYaml(text, path);
}

export interface AdapterDeps {
  /** Looks a secret up by environment variable name (config().secret). */
  secret: (envName: string) => string | undefined;
  /**
   * Paces every request of the operator. Workers pass the PostgreSQL-backed limiter shared by all
   * hosts (sharedDbRateLimiter in ./resolver.ts); tests and benchmarks pass their own.
   */
  rateLimiter: RateLimiter;
  http?: Pick<
    OperatorHttpOptions,
    'timeoutMs' | 'connectTimeoutMs' | 'maxBodyBytes' | 'userAgent' | 'onResponse'
  >;
}

function requireSecret(op: OperatorConfig, envName: string, what: string, deps: AdapterDeps): string {
  const value = deps.secret(envName);
  if (!value)
    throw new OperatorConfigError(
      `operator "${op.id}": environment variable ${envName} (${what}) is not set`,
    );
  return value;
}

export function createAdapter(op: OperatorConfig, deps: AdapterDeps): OperatorAdapter {
  const apiKey = requireSecret(op, op.apiKeyEnv, `API key for dialect ${op.dialect}`, deps);
  const http = createOperatorHttp({
    ...deps.http,
    baseUrl: op.baseUrl,
    timeoutMs: op.timeoutMs ?? deps.http?.timeoutMs,
    maxBodyBytes: op.maxBodyBytes ?? deps.http?.maxBodyBytes,
    rateLimiter: deps.rateLimiter,
    secrets: [apiKey],
  });
  return scrubbingSecrets(dialectAdapter(), http.redact);

  function dialectAdapter(): OperatorAdapter {
    switch (op.dialect) {
      case 'A':
        return createDialectAAdapter({ operatorId: op.id, http, apiKey, detailEndpoint: op.detailEndpoint });
      case 'B':
        return createDialectBAdapter({
          operatorId: op.id,
          http,
          apiKey,
          imageFormatId: op.imageFormatId,
          detailEndpoint: op.detailEndpoint,
        });
      case 'C':
        return createDialectCAdapter({
          operatorId: op.id,
          http,
          apiKey,
          channelId: op.channelId,
          marketplaceId: op.marketplaceId,
        });
      case 'D':
        return createDialectDAdapter({
          operatorId: op.id,
          http,
          apiKey,
          acceptLanguage: op.acceptLanguage,
          maxListingBytes: op.maxListingBytes,
        });
    }
  }
}

/**
 * Operators echo credentials back in error bodies (B's errorMessage, C's XML). Every error leaving an
 * adapter has them removed here, before it can reach a history, a failure row or a log.
 */
function scrubbingSecrets(adapter: OperatorAdapter, redact: (text: string) => string): OperatorAdapter {
  const scrub = (err: unknown): never => {
    if (err instanceof Error) {
      err.message = redact(err.message);
      if (err.stack) err.stack = redact(err.stack);
    }
    throw err;
  };
  return {
    dialect: adapter.dialect,
    supportsDelta: adapter.supportsDelta,
    reportsRemovals: adapter.reportsRemovals,
    listingCarriesTours: adapter.listingCarriesTours,
    detailEndpoint: adapter.detailEndpoint,
    detailEndpointPromised: adapter.detailEndpointPromised,
    listPage: (position, options) => adapter.listPage(position, options).catch(scrub),
    ...(adapter.streamListing && { streamListing: scrubbedStream(adapter.streamListing, scrub) }),
    fetchTour: (externalId) => adapter.fetchTour(externalId).catch(scrub),
  };
}

function scrubbedStream(
  stream: NonNullable<OperatorAdapter['streamListing']>,
  scrub: (err: unknown) => never,
): NonNullable<OperatorAdapter['streamListing']> {
  return async function* (options) {
    try {
      yield* stream(options);
    } catch (err) {
      scrub(err);
    }
  };
}

/** The webhook secret, when the operator has one configured and set. */
export function operatorWebhookSecret(op: OperatorConfig, secret: AdapterDeps['secret']): string | undefined {
  return op.webhookSecretEnv === undefined ? undefined : secret(op.webhookSecretEnv);
}

/**
 * An operator as `operators sync` writes it into the operators table: the configured part only. (What
 * the table holds besides — pause state, delta mark, lock — is `OperatorRow` in src/db/operators.ts.)
 */
export interface SyncedOperator {
  id: string;
  name: string;
  dialect: Dialect;
  base_url: string;
  /** Everything non-secret the pipeline needs; env var names are left out too, they are deployment detail. */
  settings: Record<string, unknown>;
}

export function syncedOperator(op: OperatorConfig): SyncedOperator {
  const { id, name, dialect, baseUrl, apiKeyEnv: _k, webhookSecretEnv: _w, ...settings } = op;
  return {
    id,
    name,
    dialect,
    base_url: baseUrl,
    settings: { ...settings, hasWebhook: op.webhookSecretEnv !== undefined },
  };
}
