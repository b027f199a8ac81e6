import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  defineSignal,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { OperatorImportActivities } from '../activities/operator-import/index.js';
import type { TourActivities } from '../activities/tour.js';
import type { ImageActivities, TourImagesImport } from '../activities/images.js';
import {
  failedAsset,
  IMAGES_AT_ONCE,
  IMAGES_SWEPT,
  failureReason,
  readyAsset,
  RETRY_ALONE,
  settledAsset,
  type FetchedImage,
  type ImageOutcome,
  type TourAssetInput,
} from '../domain/tour-images.js';
import { operatorPriority, SIGNALS, TASK_QUEUES } from '../constants.js';
import { rootFailure } from './failure.js';
import { untilReachable } from './unreachable.js';
import { validateImportTourInput } from './input.js';
import { DEFAULT_RETRY, NON_RETRYABLE_TYPES } from '../domain/operator-import.js';
import { activityProfiles, localActivityProfiles, retriesAloneAfterBatch } from './retry.js';
import type { ImportTourInput, ImportTourResult } from './types.js';

/** Sent (signal-with-start) when an operator pushes a change while this tour is importing. */
export const refreshSignal = defineSignal(SIGNALS.refresh);

const MAX_PASSES = 5;

/** Imports one tour start to end: fetch, download and resize its images, persist in one transaction. */
export async function ImportTour(unchecked: ImportTourInput): Promise<ImportTourResult> {
  const input = validateImportTourInput(unchecked);
  // A parent ImportOperator records its run and its children's failures; a pushed or ad hoc import of
  // one tour records its own: an import_runs row of mode 'tour', and its failure.
  if (workflowInfo().parent) return importInPasses(input);
  const { workflowId, runId } = workflowInfo();
  const bookkeeping = proxyLocalActivities<OperatorImportActivities>(localActivityProfiles(DEFAULT_RETRY).db);
  const tourRun = { operatorId: input.operatorId, workflowId, runId };
  try {
    await bookkeeping.recordTourRun({ ...tourRun, status: 'running' });
    const result = await importInPasses(input);
    await bookkeeping.recordTourRun({ ...tourRun, status: 'completed', outcome: result.outcome });
    return result;
  } catch (err) {
    if (err instanceof ContinueAsNew) {
      await bookkeeping.recordTourRun({
        ...tourRun,
        status: 'completed',
        message: 'pushed again: continued as new',
      });
    } else if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() =>
        bookkeeping.recordTourRun({ ...tourRun, status: 'cancelled' }),
      );
    } else {
      const { type, message } = rootFailure(err);
      await bookkeeping.recordTourFailure({
        operatorId: input.operatorId,
        externalId: input.externalId,
        kind: type,
        message,
        workflowId,
      });
      await bookkeeping.recordTourRun({ ...tourRun, status: 'failed', message: `${type}: ${message}` });
    }
    throw err;
  }
}

/** The tour imported once, and once more for each push that arrived meanwhile (up to MAX_PASSES). */
async function importInPasses(input: ImportTourInput): Promise<ImportTourResult> {
  const steps = tourSteps(input);
  // A burst of pushes for one tour coalesces: one running import plus at most one more pass. (A push
  // that lands while the workflow task running the local fetch/persist would complete the workflow
  // makes the server refuse that completion; the task then runs again from the fetch, so the newest
  // data is stored either way — see test/workflow/import-tour.test.ts.)
  let again = false;
  // Once pushed to, the tour is fetched from the operator: its listing's staged record predates the push.
  let pushed = false;
  setHandler(refreshSignal, () => void (again = pushed = true));

  let result: ImportTourResult = { outcome: 'unchanged', images: 0, failedImages: 0, passes: 0 };
  do {
    again = false;
    const pass = await importOnce(input, steps, { listed: input.listed && !pushed });
    result =
      typeof pass === 'string'
        ? // A later pass that finds nothing new does not undo what an earlier one imported.
          {
            ...result,
            outcome: pass === 'gone' ? 'removed' : result.passes ? result.outcome : 'unchanged',
            passes: result.passes + 1,
          }
        : { ...pass, passes: result.passes + 1 };
  } while (again && result.passes < MAX_PASSES);
  // Still being pushed to: carry on in a fresh run so the last pass sees the newest data.
  if (again) await continueAsNew<typeof ImportTour>(input);
  return result;
}

/**
 * What one pass over the tour came to: stored, unchanged, gone (a tombstone), or a tombstone whose
 * removal waits for the import's end or for a person: the tour stays active meanwhile, so unchanged.
 */
type Pass = Omit<ImportTourResult, 'passes'> | 'unchanged' | 'gone' | 'removal-noted' | 'removal-held';

/** The activities of a tour's import, with its retry policy, priority and image queue. */
function tourSteps(input: ImportTourInput) {
  const retry = { ...DEFAULT_RETRY, ...input.retry };
  const p = activityProfiles(retry);
  // Started at a lower priority by an import making room for a smaller one: its images go after others'.
  const priority = operatorPriority(input.operatorId, workflowInfo().priority?.priorityKey);
  const local = localActivityProfiles(retry);
  const imageOptions = { priority, taskQueue: input.imageTaskQueue ?? TASK_QUEUES.imageProcessing };
  return {
    /** The tour from the operator or its staged record: a local activity on the operator API's policy. */
    fetch: proxyLocalActivities<TourActivities>(local.http),
    /** The tour persisted when no image activity does it: a local activity on the database's policy. */
    persist: proxyLocalActivities<TourActivities>(local.db),
    /** Images retried alone after their batch; none when a single attempt was asked for. */
    imageAlone: retriesAloneAfterBatch(retry)
      ? proxyActivities<ImageActivities>({ ...p.imageRetriedAlone, ...imageOptions })
      : null,
    /** A tour's images and the tour persisted with them, in one activity. */
    images: proxyActivities<ImageActivities>({ ...p.imageBatch, ...imageOptions }),
  };
}

/**
 * One pass: the tour fetched (its staged record, or from the operator), its images imported, the tour
 * persisted. Images to import and persist go in one activity (importTourImages); a tour with none to
 * import is persisted by a local activity in the same workflow task as its fetch.
 */
async function importOnce(
  input: ImportTourInput,
  steps: ReturnType<typeof tourSteps>,
  o: { listed?: boolean },
): Promise<Pass> {
  const fetched = await untilReachable('fetchTour', () =>
    steps.fetch.fetchTour({
      operatorId: input.operatorId,
      externalId: input.externalId,
      force: input.force,
      listed: o.listed,
    }),
  );
  if (fetched.outcome !== 'changed') return fetched.outcome;
  const { contentHash } = fetched;
  let images = fetched.images;
  for (let round = 1; ; round++) {
    const pass = images.some((img) => !img.readySha256)
      ? await importAndPersist(input, steps, { contentHash, images })
      : await persist(input, steps, contentHash, await settleImages(images, [], null, steps));
    if (typeof pass === 'string' || !('swept' in pass)) return pass;
    // The blob GC swept images the persist was to refer to: they are imported again, a few times at most.
    if (round >= SWEPT_ROUNDS)
      throw ApplicationFailure.retryable(
        `images of tour ${input.operatorId}/${input.externalId} were swept by the blob GC before ${round} persists in a row`,
        IMAGES_SWEPT,
      );
    images = images.map((img) =>
      pass.swept.includes(img.url) ? { url: img.url, caption: img.caption } : img,
    );
  }
}

/** A pass, or the images its persist found swept by the blob GC (nothing was written). */
type Persisted = Pass | { swept: string[] };

/** Persists in a row that find images swept before the tour fails (for a reason that holds the delta mark). */
const SWEPT_ROUNDS = 3;

/**
 * The tour's images and its persist in one activity on the image queue. Images that failed there for a
 * reason a retry may fix come back, and are retried alone before a local persist; when the activity
 * itself gives up, every image is retried alone (as after a failed batch); a failure no retry fixes
 * (the staged record swept, data no column can store) fails the tour, as the persist's would.
 */
async function importAndPersist(
  input: ImportTourInput,
  steps: ReturnType<typeof tourSteps>,
  fetched: { contentHash: string; images: FetchedImage[] },
): Promise<Persisted> {
  let r: TourImagesImport;
  try {
    r = await untilReachable('importTourImages', () =>
      steps.images.importTourImages({
        operatorId: input.operatorId,
        externalId: input.externalId,
        contentHash: fetched.contentHash,
        images: fetched.images,
        retriesAlone: steps.imageAlone !== null,
      }),
    );
  } catch (err) {
    if (isCancellation(err) || !(err instanceof ActivityFailure) || isNonRetryable(err)) throw err;
    const assets = await settleImages(fetched.images, [], activityFailureReason(err), steps);
    return persist(input, steps, fetched.contentHash, assets);
  }
  if (r.outcome === 'images-swept') return { swept: r.urls };
  if (r.outcome !== 'images-to-retry')
    return { outcome: r.outcome, images: r.images, failedImages: r.failedImages };
  const assets = await settleImages(fetched.images, r.imageOutcomes, null, steps);
  return persist(input, steps, fetched.contentHash, assets);
}

async function persist(
  input: ImportTourInput,
  steps: ReturnType<typeof tourSteps>,
  contentHash: string,
  assets: TourAssetInput[],
): Promise<Persisted> {
  const persisted = await steps.persist.persistTour({
    operatorId: input.operatorId,
    externalId: input.externalId,
    contentHash,
    images: assets,
  });
  if (persisted.outcome === 'images-swept') return { swept: persisted.urls };
  return {
    outcome: persisted.outcome,
    images: assets.length,
    failedImages: assets.filter((a) => a.status === 'failed').length,
  };
}

/**
 * Each image's asset: ready when it was checked recently with every size stored, or from its outcome in
 * importTourImages; one that failed there for a reason a retry may fix is retried alone under the usual
 * retry policy (unless it allows a single attempt). One bad image does not fail the tour: it is stored as
 * failed, with the reason (the whole activity's reason when it gave up).
 */
async function settleImages(
  tourImages: readonly FetchedImage[],
  outcomes: readonly ImageOutcome[],
  batchFailure: string | null,
  { imageAlone }: Pick<ReturnType<typeof tourSteps>, 'imageAlone'>,
): Promise<TourAssetInput[]> {
  const byUrl = new Map(outcomes.map((o) => [o.url, o]));
  const settled = tourImages.map((img, position) =>
    settledAsset(img, position, byUrl.get(img.url), { retriesAlone: imageAlone !== null, batchFailure }),
  );
  // Usually every image is settled by now: no promise per image (each costs a stack trace in the workflow
  // sandbox, see bench/RESULTS.md). Otherwise IMAGES_AT_ONCE lanes retry them alone.
  if (!imageAlone || !settled.includes(RETRY_ALONE)) return settled as TourAssetInput[];
  return mapWithLimit(tourImages, IMAGES_AT_ONCE, async (img, position): Promise<TourAssetInput> => {
    const asset = settled[position];
    if (asset !== RETRY_ALONE) return asset;
    try {
      const imported = await untilReachable('importImage', () => imageAlone.importImage({ url: img.url }));
      return readyAsset(img, position, imported.sha256);
    } catch (err) {
      if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
      return failedAsset(img, position, activityFailureReason(err), !isNonRetryable(err));
    }
  });
}

/** Maps items with at most `limit` in flight, results in order: a tour with many images does not flood the image queue. */
async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Whether the image's last attempt failed for a reason no retry fixes (corrupt, too large, unsafe…). */
function isNonRetryable(err: ActivityFailure): boolean {
  const cause = err.cause;
  return (
    cause instanceof ApplicationFailure &&
    (cause.nonRetryable || NON_RETRYABLE_TYPES.includes(cause.type ?? ''))
  );
}

function activityFailureReason(err: ActivityFailure): string {
  const cause = err.cause;
  return failureReason(
    cause instanceof ApplicationFailure ? cause.type : undefined,
    cause?.message ?? err.message,
  );
}
