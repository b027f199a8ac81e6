import { ApplicationFailure, Context } from '@temporalio/activity';
import pLimit from 'p-limit';
import { inTransaction, type Pool } from '../db/pool.js';
import * as assets from '../db/assets.js';
import { downloadToBlobStore } from '../net/download.js';
import type { BlobStore } from '../storage/blob-store.js';
import { blobStoreSink, createImageProcessor, type ImageProcessorOptions } from '../images/resize.js';
import { toActivityFailure, withFailureMapping } from './failures.js';
import { singleFlight } from './single-flight.js';
import { variantsComplete } from './variants.js';
import { fairLimit } from './fair-limit.js';
import { DEFAULT_PRIORITY_KEY } from '../constants.js';
import { UNAVAILABLE_TYPES } from '../domain/errors.js';
import { inActiveSpan, withSpan } from '../telemetry/spans.js';
import {
  IMAGES_AT_ONCE,
  RETRY_ALONE,
  settledAsset,
  type FetchedImage,
  type ImageOutcome,
} from '../domain/tour-images.js';
import { persistStagedTour, type ImagesSwept } from './staged-tour.js';

export interface ImageDeps {
  pool: Pool;
  store: BlobStore;
  images: { maxBytes: number; allowPrivateHosts: readonly string[] } & ImageProcessorOptions;
  /**
   * Images decoded and encoded at once. Activity slots can be many more: most of an image's time is
   * spent waiting on its download, so slots cover the latency and this bounds the CPU work.
   */
  maxResizes?: number;
}

export interface ImportedImage {
  sha256: string;
  /** False when the operator answered 304 to our stored ETag. */
  downloaded: boolean;
  /** False when every configured variant of these bytes already existed. */
  resized: boolean;
}

/**
 * What importTourImages came to: the tour persisted with its images, or, when some failed for a reason a
 * retry may fix, their outcomes for the workflow to retry those alone and persist.
 */
export type TourImagesImport =
  | { outcome: 'imported' | 'stale'; images: number; failedImages: number }
  | { outcome: 'images-to-retry'; imageOutcomes: ImageOutcome[] }
  | ImagesSwept;

export function createImageActivities(deps: ImageDeps) {
  const w: ImageWork = {
    deps,
    processor: createImageProcessor(deps.images),
    resizing: fairLimit(deps.maxResizes ?? 4),
    shared: singleFlight<ImportedImage>(),
  };
  return {
    /**
     * One image of a tour, start to end on the image queue: download it into the blob store, then make
     * its sizes unless they exist. Only the hash goes back to the workflow, never the bytes.
     */
    async importImage(a: { url: string }): Promise<ImportedImage> {
      const ctx = Context.current();
      return withFailureMapping(() => w.shared(a.url, () => downloadAndResize(w, a.url, ctx)));
    },

    /**
     * A tour's images, then the tour persisted with them as persistTour does, in one activity task: one
     * round trip through the server and no local activity after it. An image that fails does not fail
     * the others: when one failed for a reason a retry may fix, nothing is persisted, the outcomes go back
     * and the workflow retries those images alone with `importImage`, then persists. Cancellation (or a
     * lost worker) ends the whole activity, which is then retried as a whole: every step is idempotent,
     * and a re-run after the persist finds its outcome.
     */
    async importTourImages(a: TourImagesRequest): Promise<TourImagesImport> {
      const ctx = Context.current();
      return withFailureMapping(() => importTourImages(w, a, ctx));
    },
  };
}

/** One worker's image pipeline: its dependencies and the limits every activity call shares. */
interface ImageWork {
  deps: ImageDeps;
  processor: ReturnType<typeof createImageProcessor>;
  /** Resizes at once, shared fairly between operators (see fairLimit). */
  resizing: ReturnType<typeof fairLimit>;
  /** One import per URL at a time in this worker, whichever activity asked. */
  shared: ReturnType<typeof singleFlight<ImportedImage>>;
}

interface TourImagesRequest {
  operatorId: string;
  externalId: string;
  contentHash: string;
  images: FetchedImage[];
  /** Whether images that fail retryably are retried alone (not with a single attempt allowed). */
  retriesAlone: boolean;
}

async function importTourImages(w: ImageWork, a: TourImagesRequest, ctx: Context): Promise<TourImagesImport> {
  const todo = a.images.filter((i) => !i.readySha256).map((i) => i.url);
  const imageOutcomes = await importBatch(w, todo, ctx);
  const byUrl = new Map(imageOutcomes.map((o) => [o.url, o]));
  const settled = a.images.map((img, i) =>
    settledAsset(img, i, byUrl.get(img.url), { retriesAlone: a.retriesAlone }),
  );
  if (settled.includes(RETRY_ALONE)) return { outcome: 'images-to-retry', imageOutcomes };
  const stored = settled.filter((x) => x !== RETRY_ALONE);
  const persisted = await persistStagedTour(w.deps.pool, { ...a, images: stored });
  if (persisted.outcome === 'images-swept') return persisted;
  const failedImages = stored.filter((x) => x.status === 'failed').length;
  return { outcome: persisted.outcome, images: stored.length, failedImages };
}

/** A tour's images at once, IMAGES_AT_ONCE in flight; each image's failure comes back as its outcome. */
function importBatch(w: ImageWork, urls: string[], ctx: Context): Promise<ImageOutcome[]> {
  const limit = pLimit(IMAGES_AT_ONCE);
  return Promise.all(
    urls.map((url) =>
      limit(async (): Promise<ImageOutcome> => {
        try {
          return { url, sha256: (await w.shared(url, () => downloadAndResize(w, url, ctx))).sha256 };
        } catch (err) {
          if (ctx.cancellationSignal.aborted) throw err;
          const failure = toActivityFailure(err);
          // Not the image's fault (a lost worker, PostgreSQL or the blob store unreachable): the batch fails.
          if (!(failure instanceof ApplicationFailure) || UNAVAILABLE_TYPES.includes(failure.type ?? ''))
            throw err;
          return {
            url,
            failure: {
              type: failure.type ?? 'Error',
              message: failure.message,
              retryable: !failure.nonRetryable,
            },
          };
        }
      }),
    ),
  );
}

/** An import of one image finds its asset swept by the blob GC midway this many times before it gives up. */
const SWEPT_ROUNDS = 3;

/**
 * One image: its original downloaded (conditional GET) and stored, its variants made unless they exist.
 * Should the blob GC sweep its asset midway (src/db/blob-gc.ts: an image unreferenced for its grace period
 * that a new tour takes up), the image is imported afresh, unconditionally; a few rounds at most.
 */
async function downloadAndResize(w: ImageWork, url: string, ctx: Context): Promise<ImportedImage> {
  for (let round = 1; ; round++) {
    const imported = await importOnce(w, url, ctx, round > 1);
    if (imported !== 'swept') return imported;
    if (round >= SWEPT_ROUNDS)
      throw new Error(`${url}: its asset was swept by the blob GC during ${SWEPT_ROUNDS} imports in a row`);
  }
}

async function importOnce(
  w: ImageWork,
  url: string,
  ctx: Context,
  afresh: boolean,
): Promise<ImportedImage | 'swept'> {
  const original = await fetchOriginal(w.deps, url, ctx, afresh);
  if (original === 'swept') return 'swept';
  // Skipped when the variants of these bytes exist: a photo shared by many tours, an unchanged
  // image (304) or a retried activity is resized once.
  const resized = !(await variantsComplete(w.deps, original.sha256));
  // The CPU is shared between operators in turn (their fairness key) and by priority, as the task
  // queue is.
  const { fairnessKey = '', priorityKey } = ctx.info.priority ?? {};
  // (An unset key arrives as 0: the server's default.)
  // The span covers the wait for a resize permit too; the resize runs in it whichever task frees the permit.
  const saved = !resized
    ? true
    : await withSpan('image.resize', { attributes: { 'image.sha256': original.sha256 } }, () =>
        w.resizing(
          fairnessKey,
          inActiveSpan(() => makeVariants(w, original, ctx)),
          priorityKey || DEFAULT_PRIORITY_KEY,
        ),
      );
  if (!saved) return 'swept';
  return { sha256: original.sha256, downloaded: original.downloaded, resized };
}

/**
 * The original in the blob store: a conditional GET on its stored ETag while we hold its bytes (unless
 * `afresh`). Its rows are written before its blob, and a 304 renews them under a lock the blob GC's sweep
 * respects (src/db/assets.ts), so a sweep either sees the image in use or has deleted it first; then it
 * is `swept`, or, downloaded, recorded and stored again.
 */
async function fetchOriginal(deps: ImageDeps, url: string, ctx: Context, afresh: boolean) {
  const { pool, store } = deps;
  const known = afresh ? undefined : await assets.findSource(pool, url);
  const cached = known && (await store.has(known.storageKey)) ? known : undefined;
  // The span's URL leaves out the query: a CDN's signed URL carries its signature there.
  const result = await withSpan('image.download', { attributes: { 'url.full': url.split('?')[0] } }, (span) =>
    downloadToBlobStore({
      url,
      store,
      maxBytes: deps.images.maxBytes,
      etag: cached?.etag,
      allowPrivateHosts: deps.images.allowPrivateHosts,
      onProgress: (bytes) => ctx.heartbeat(bytes),
      signal: ctx.cancellationSignal,
      beforeStore: (d) => assets.upsertOriginal(pool, { ...d, storageKey: d.key, url }),
    }).then((r) => {
      span.setAttributes(
        r.kind === 'downloaded' ? { 'image.bytes': r.bytes } : { 'image.not_modified': true },
      );
      return r;
    }),
  );
  if (result.kind === 'not-modified') {
    if (!cached) throw new Error(`${url} answered 304 to an unconditional GET`);
    if (!(await assets.claimSource(pool, url, cached.sha256))) return 'swept';
    return { sha256: cached.sha256, storageKey: cached.storageKey, downloaded: false };
  }
  return { sha256: result.sha256, storageKey: result.key, downloaded: true };
}

/**
 * Every configured size of one original, decoded once, recorded after the files are stored. False when
 * the blob GC swept the original meanwhile: nothing is recorded.
 */
async function makeVariants(
  w: ImageWork,
  original: { sha256: string; storageKey: string },
  ctx: Context,
): Promise<boolean> {
  const { pool, store } = w.deps;
  const result = await w.processor.makeVariants({
    input: store.path?.(original.storageKey) ?? store.open(original.storageKey),
    sink: blobStoreSink(store, original.sha256),
    heartbeat: () => ctx.heartbeat(),
    signal: ctx.cancellationSignal,
  });
  const variants = result.variants.map((v) => ({
    width: v.size,
    format: v.format,
    storageKey: v.key,
    actualWidth: v.width,
    actualHeight: v.height,
    bytes: v.bytes,
  }));
  return inTransaction(pool, (tx) => assets.saveVariants(tx, original.sha256, result.source, variants));
}

export type ImageActivities = ReturnType<typeof createImageActivities>;
