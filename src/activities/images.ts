import { Context } from '@temporalio/activity';
import type { Pool } from '../db/pool.js';
import * as assets from '../db/assets.js';
import { variantsComplete } from './variants.js';
import type { BlobStore } from '../storage/blob-store.js';
import { blobStoreSink, createImageProcessor, type ImageProcessorOptions } from '../images/resize.js';

export interface ImageDeps {
  pool: Pool;
  store: BlobStore;
  images: ImageProcessorOptions;
}

export function createImageActivities(deps: ImageDeps) {
  const processor = createImageProcessor(deps.images);
  const wanted = deps.images.widths.length * deps.images.formats.length;
  return {
    /**
     * Makes every configured size of one original (decoded once). Skipped when the variants of that
     * hash already exist, so a photo shared by many tours, or a retried activity, is resized once.
     */
    async resizeImage(a: { sha256: string; storageKey: string }) {
      if (await variantsComplete(deps, a.sha256)) return { variants: wanted, skipped: true };
      const ctx = Context.current();
      const input = deps.store.path?.(a.storageKey) ?? deps.store.open(a.storageKey);
      const result = await processor.makeVariants({
        input,
        sink: blobStoreSink(deps.store, a.sha256),
        heartbeat: () => ctx.heartbeat(),
        signal: ctx.cancellationSignal,
      });
      await assets.saveVariants(
        deps.pool,
        a.sha256,
        result.source,
        result.variants.map((v) => ({
          width: v.size,
          format: v.format,
          storageKey: v.key,
          actualWidth: v.width,
          actualHeight: v.height,
          bytes: v.bytes,
        })),
      );
      return {
        variants: result.variants.length,
        skipped: false,
        width: result.source.width,
        height: result.source.height,
      };
    },
  };
}

export type ImageActivities = ReturnType<typeof createImageActivities>;
