import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import type { Pool } from '../db/pool.js';
import type { Sink } from '../notify/sinks.js';
import type { ImageLimits } from '../operations/check.js';
import type { OperatorConfig } from '../operators/registry.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { ApiCredentials } from './auth.js';

/** Everything the HTTP API needs, built by main.ts in production and by tests with their own pieces. */
export interface ApiOptions {
  pool: Pool;
  client: Client;
  store: BlobStore;
  operators: OperatorConfig[];
  /** Looks a secret up by environment variable name (config().secret). */
  secret: (envName: string) => string | undefined;
  /** Where push imports run (defaults: the standard task queues). */
  taskQueue?: string;
  imageTaskQueue?: string;
  /** A CDN base serving the blob store's keys (BLOB_PUBLIC_URL): pages link variants there, not to /blobs/. */
  blobPublicUrl?: string;
  /** Base URL of the Temporal Web UI, for links from the catalog page. */
  temporalUiUrl: string;
  namespace?: string;
  /** How old a webhook delivery still being started must be before a retry takes it over (DELIVERY_TAKEOVER_MS). */
  deliveryTakeoverMs?: number;
  /**
   * Who may read the catalog, /metrics and every other route outside auth.ts's OPEN_ROUTES. Unset: no
   * one is asked (development only; main.ts refuses to start so in production and warns otherwise).
   */
  credentials?: ApiCredentials;
  /** Notification sinks, for a pause or resume sent here while no import runs (none by default). */
  sinks?: Sink[];
  /**
   * The image workers' limits, which `GET /operators/:id/check` samples images under (IMAGE_MAX_BYTES,
   * IMAGE_MAX_PIXELS, ALLOW_PRIVATE_HOSTS); unset: the defaults, no private host allowed.
   */
  imageLimits?: ImageLimits;
  /** How long `GET /operators/:id/check` may take before it answers with what it saw (CHECK_DEADLINE_MS). */
  checkDeadlineMs?: number;
  /** A pino logger for request logs; none by default (tests). */
  logger?: FastifyBaseLogger;
}

export type ApiDeps = Required<Omit<ApiOptions, 'logger' | 'blobPublicUrl' | 'credentials'>> &
  Pick<ApiOptions, 'blobPublicUrl'>;
