import { z } from 'zod';

/** Which part of an operator's API a fault applies to. */
export const ROUTES = ['list', 'detail', 'image'] as const;
export type RouteKey = (typeof ROUTES)[number];

/**
 * When a fault fires. No fields: every request. `everyNth: 3` fires on requests 3, 6, 9…;
 * `probability` draws from a PRNG seeded by `seed` so a run can be repeated exactly.
 * `after` skips the first N requests; `times` caps how often it fires.
 */
const TriggerFields = {
  everyNth: z.number().int().positive().optional(),
  probability: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
  after: z.number().int().nonnegative().optional(),
  times: z.number().int().positive().optional(),
};

export const FaultSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('latency'),
    ms: z.number().nonnegative(),
    jitterMs: z.number().nonnegative().optional(),
    ...TriggerFields,
  }),
  z.object({
    type: z.literal('error'),
    status: z.union([z.literal(500), z.literal(502), z.literal(503)]).default(500),
    retryAfterSeconds: z.number().nonnegative().optional(),
    ...TriggerFields,
  }),
  /** 429. `retryAfterSeconds: null` omits Retry-After (dialect B never sends it anyway). */
  z.object({
    type: z.literal('rate-limit'),
    retryAfterSeconds: z.number().nonnegative().nullable().default(1),
    ...TriggerFields,
  }),
  z.object({ type: z.literal('hang'), ...TriggerFields }),
  z.object({
    type: z.literal('slow-drip'),
    bytesPerInterval: z.number().int().positive().default(64),
    intervalMs: z.number().int().positive().default(100),
    ...TriggerFields,
  }),
  z.object({ type: z.literal('malformed'), ...TriggerFields }),
  z.object({ type: z.literal('truncate'), ...TriggerFields }),
  z.object({
    type: z.literal('content-type'),
    contentType: z.string().default('text/html; charset=utf-8'),
    ...TriggerFields,
  }),
  z.object({
    type: z.literal('oversized'),
    bytes: z
      .number()
      .int()
      .positive()
      .default(30 * 1024 * 1024),
    ...TriggerFields,
  }),
  z.object({
    type: z.literal('pixel-bomb'),
    width: z.number().int().positive().default(30000),
    height: z.number().int().positive().default(30000),
    ...TriggerFields,
  }),
  z.object({
    type: z.literal('redirect'),
    location: z.string().min(1),
    status: z.number().int().min(300).max(399).default(302),
    ...TriggerFields,
  }),
  z.object({ type: z.literal('html-as-image'), ...TriggerFields }),
  /** The operator answers "no such product" for a live one (an inconsistency between list and detail). */
  z.object({ type: z.literal('not-found'), ...TriggerFields }),
]);
export type Fault = z.infer<typeof FaultSchema>;

export const FaultsSchema = z.object({
  list: z.array(FaultSchema).optional(),
  detail: z.array(FaultSchema).optional(),
  image: z.array(FaultSchema).optional(),
});
export type Faults = z.infer<typeof FaultsSchema>;
export type FaultsInput = z.input<typeof FaultsSchema>;

const CredentialsSchema = z.object({
  /** Dialects A, B and D: the API key. Dialect C: the HMAC secret. */
  apiKey: z.string().min(1),
  /** Dialect C only. */
  channelId: z.string().optional(),
  marketplaceId: z.string().optional(),
});
export type Credentials = z.infer<typeof CredentialsSchema>;

export const OperatorSpecSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  dialect: z.enum(['A', 'B', 'C', 'D']),
  credentials: CredentialsSchema.optional(),
  seed: z.union([z.string(), z.number().int()]).default(1),
  tourCount: z.number().int().min(10).max(100_000).default(60),
  imagesPerTour: z
    .object({ min: z.number().int().min(0).max(20), max: z.number().int().min(0).max(20) })
    .refine((r) => r.min <= r.max, 'min must not exceed max')
    .default({ min: 0, max: 4 }),
  imageWidth: z.number().int().min(16).max(8000).default(1600),
  imageHeight: z.number().int().min(16).max(8000).default(1067),
  latency: z
    .object({
      apiMs: z.number().nonnegative().default(0),
      imageMs: z.number().nonnegative().default(0),
      jitterMs: z.number().nonnegative().default(0),
    })
    .default({ apiMs: 0, imageMs: 0, jitterMs: 0 }),
  /** A real quota (fixed window). Unset: unlimited, but dialects still advertise headers. */
  rateLimit: z
    .object({ limit: z.number().int().positive(), windowMs: z.number().int().positive() })
    .optional(),
  faults: FaultsSchema.default({}),
  /**
   * Dialects A and B: whether the per-product endpoint is served. OPERATOR_DIALECTS.md does not
   * promise it, so an importer must also work against an operator that serves only its listing;
   * without it the route is not registered and answers 404 like any unknown path. C ignores this:
   * show.xml is part of its dialect.
   */
  detailEndpoint: z.boolean().default(true),
  /**
   * Dialect A: whether the per-product endpoint answers a removed product with its tombstone
   * (`{ productCode, status: "INACTIVE", lastUpdatedAt }`, as Viator does: no hard deletes) instead of
   * 404. Off by default, so an importer also meets an operator whose endpoint forgets removed products.
   */
  detailTombstones: z.boolean().default(false),
  /** Dialect D (OCTO) only. */
  octo: z
    .object({
      /** Whether octo/content is ever initialised; false: answers carry no content, whatever is asked. */
      grantContent: z.boolean().default(true),
      /** UNAUTHORIZED and FORBIDDEN under 400, where the spec documents them, instead of 401 / 403. */
      authErrorsAs400: z.boolean().default(false),
      /** Content languages (BCP 47), the first the default; Accept-Language picks among them. */
      languages: z
        .array(z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/))
        .min(1)
        .default(['en']),
    })
    .prefault({}),
});
export type OperatorSpec = z.infer<typeof OperatorSpecSchema>;
export type OperatorSpecInput = z.input<typeof OperatorSpecSchema>;
export type Dialect = OperatorSpec['dialect'];

/** Defaults derived from the id so every operator has predictable credentials. */
export function resolveCredentials(spec: OperatorSpec): Required<Credentials> {
  const c = spec.credentials;
  return {
    apiKey: c?.apiKey ?? `${spec.id}-key`,
    channelId: c?.channelId ?? '3930',
    marketplaceId: c?.marketplaceId ?? '0',
  };
}
