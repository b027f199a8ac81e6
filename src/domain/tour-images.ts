/**
 * A tour's images through its import, as both sides see them: the workflow (src/workflows/import-tour.ts)
 * and the image worker's one-activity import of a staged tour (src/activities/images.ts) turn what each
 * image came to into the same stored asset rows. Pure: no I/O, safe in the workflow sandbox.
 */

/**
 * Images of one tour downloaded and resized at once, by the workflow's per-image activities and by the
 * image worker's one-activity import alike: a tour with many images does not flood its operator.
 */
export const IMAGES_AT_ONCE = 8;

/**
 * The failure type of a tour whose images the blob GC swept before each of its persists (see
 * src/db/blob-gc.ts): a race with the sweep, not the tour's fault, so it holds the delta mark.
 */
export const IMAGES_SWEPT = 'ImagesSwept';

/** A tour's image as its fetch hands it on: no bytes; its hash when nothing is to do. */
export interface FetchedImage {
  url: string;
  caption: string | null;
  /** Checked recently and every size stored. */
  readySha256?: string;
}

/** What became of one image of a batch: its hash, or the failure that a retry may or may not fix. */
export type ImageOutcome =
  | { url: string; sha256: string }
  | { url: string; failure: { type: string; message: string; retryable: boolean } };

/** One image of a tour as stored with it: its place, and its hash or why it failed. */
export interface TourAssetInput {
  position: number;
  sourceUrl: string;
  caption: string | null;
  sha256: string | null;
  status: 'ready' | 'failed';
  failureReason: string | null;
  /** A failed image whose reason a retry may fix: the next imports try it again (IMAGE_RETRY_IMPORTS). */
  failureRetryable?: boolean;
}

/** An image that failed in its tour's batch for a reason a retry may fix, to be retried on its own. */
export const RETRY_ALONE = Symbol('retry alone');

/**
 * An image's asset from what is known after its tour's batch: ready, failed, or RETRY_ALONE when it
 * failed retryably and `retriesAlone` (the workflow retries such images in activities of their own,
 * unless a single attempt was asked for: then the batch was the image's attempt).
 */
export function settledAsset(
  img: FetchedImage,
  position: number,
  outcome: ImageOutcome | undefined,
  o: { retriesAlone: boolean; batchFailure?: string | null },
): TourAssetInput | typeof RETRY_ALONE {
  if (img.readySha256) return readyAsset(img, position, img.readySha256);
  if (outcome && 'sha256' in outcome) return readyAsset(img, position, outcome.sha256);
  if (outcome && (!outcome.failure.retryable || !o.retriesAlone))
    return failedAsset(
      img,
      position,
      failureReason(outcome.failure.type, outcome.failure.message),
      outcome.failure.retryable,
    );
  if (!o.retriesAlone)
    return failedAsset(img, position, o.batchFailure ?? 'the image batch returned no outcome for this image');
  return RETRY_ALONE;
}

export function readyAsset(img: FetchedImage, position: number, sha256: string): TourAssetInput {
  return { position, sourceUrl: img.url, caption: img.caption, sha256, status: 'ready', failureReason: null };
}

/** Retryable: the operator's next import tries the image again (bounded, see IMAGE_RETRY_IMPORTS). */
export function failedAsset(
  img: FetchedImage,
  position: number,
  reason: string,
  retryable = true,
): TourAssetInput {
  return {
    position,
    sourceUrl: img.url,
    caption: img.caption,
    sha256: null,
    status: 'failed',
    failureReason: reason,
    failureRetryable: retryable,
  };
}

/** The reason stored with a failed image: its failure type (when it has one) and message. */
export function failureReason(type: string | null | undefined, message: string): string {
  return `${type ? `${type}: ` : ''}${message}`.slice(0, 500);
}
