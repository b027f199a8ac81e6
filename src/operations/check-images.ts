import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Tour } from '../domain/tour.js';
import { createImageProcessor, type ImageProcessor, type VariantSink } from '../images/resize.js';
import { downloadToBlobStore } from '../net/download.js';
import { redactUrl } from '../net/errors.js';
import { createLocalBlobStore, type BlobStore } from '../storage/blob-store.js';
import type { ImageSample } from './check-report.js';

/** The limits an import's image workers apply (IMAGE_MAX_BYTES, IMAGE_MAX_PIXELS, ALLOW_PRIVATE_HOSTS). */
export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
  allowPrivateHosts: readonly string[];
}

/**
 * One small output is enough: the checks that refuse an image (format sniffed from its bytes, pixel and
 * frame limits, a full decode that fails on errors) run before any size is made, whatever the sizes.
 */
const CHECK_WIDTH = 200;

export interface ImagePick {
  url: string;
  externalId: string;
}

/** Up to `n` distinct image URLs, one tour's first image after another's before any tour's second. */
export function pickImages(tours: Tour[], n: number): ImagePick[] {
  const picks: ImagePick[] = [];
  const seen = new Set<string>();
  const slots = Math.max(0, ...tours.map((t) => t.images.length));
  for (let slot = 0; slot < slots && picks.length < n; slot++)
    for (const t of tours) {
      const url = t.images[slot]?.url;
      if (url === undefined || seen.has(url)) continue;
      seen.add(url);
      picks.push({ url, externalId: t.externalId });
      if (picks.length >= n) break;
    }
  return picks;
}

/**
 * Each picked image downloaded and decoded as an import would — the same safe download client, the same
 * decoder and limits — into a scratch folder removed afterwards: never into the blob store. Stops when
 * `signal` aborts (the check's deadline), returning what was sampled until then.
 */
export async function sampleImages(
  picks: ImagePick[],
  limits: ImageLimits,
  signal?: AbortSignal,
): Promise<ImageSample[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tour-import-check-'));
  try {
    const scratch = createLocalBlobStore(dir);
    const processor = createImageProcessor({
      widths: [CHECK_WIDTH],
      formats: ['jpeg'],
      maxPixels: limits.maxPixels,
    });
    const samples: ImageSample[] = [];
    for (const pick of picks) {
      if (signal?.aborted) break;
      const sample = await sampleOne(pick, { scratch, processor, limits, signal });
      if (sample) samples.push(sample);
    }
    return samples;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface SampleContext {
  scratch: BlobStore;
  processor: ImageProcessor;
  limits: ImageLimits;
  signal?: AbortSignal;
}

/** One image's sample; undefined when the deadline cut it off. */
async function sampleOne(pick: ImagePick, c: SampleContext): Promise<ImageSample | undefined> {
  const started = performance.now();
  const sample: ImageSample = {
    url: redactUrl(pick.url),
    externalId: pick.externalId,
    ok: false,
    contentType: null,
    bytes: null,
    width: null,
    height: null,
    format: null,
    refusedBy: null,
    message: null,
    ms: 0,
  };
  try {
    const got = await downloadToBlobStore({
      url: pick.url,
      store: c.scratch,
      maxBytes: c.limits.maxBytes,
      allowPrivateHosts: c.limits.allowPrivateHosts,
      signal: c.signal,
    });
    // Without an ETag sent, a 304 is the server's error, not a cached image.
    if (got.kind !== 'downloaded') throw new Error('answered 304 Not Modified to an unconditional GET');
    Object.assign(sample, { contentType: got.contentType, bytes: got.bytes });
    const { source } = await c.processor.makeVariants({
      input: c.scratch.path!(got.key),
      sink: discarding(c.scratch),
      signal: c.signal,
    });
    Object.assign(sample, { ok: true, ...source });
  } catch (err) {
    if (c.signal?.aborted) return undefined;
    Object.assign(sample, {
      refusedBy: err instanceof ApplicationFailure ? (err.type ?? 'Error') : 'Error',
      message: (err as Error).message,
    });
  }
  sample.ms = Math.round(performance.now() - started);
  return sample;
}

/** The decoder's output is written to the scratch folder and dropped: only the checks matter here. */
function discarding(scratch: BlobStore): VariantSink {
  return {
    tempPath: (spec) => scratch.tempPath(`.${spec.format}`),
    commit: async (spec) => `(discarded ${spec.width}.${spec.format})`,
  };
}
