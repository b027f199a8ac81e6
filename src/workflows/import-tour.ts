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
import type { CatalogActivities } from '../activities/catalog.js';
import type { FetchedImage, TourActivities } from '../activities/tour.js';
import type { ImageActivities, ImageOutcome } from '../activities/images.js';
import type { TourAssetInput } from '../db/tours.js';
import { operatorPriority, SIGNALS, TASK_QUEUES } from '../constants.js';
import { rootFailure } from './failure.js';
import { validateImportTourInput } from './input.js';
import {
  activityProfiles,
  DEFAULT_RETRY,
  localActivityProfiles,
  NON_RETRYABLE_TYPES,
  retriesAloneAfterBatch,
} from './retry.js';
import type { ImportTourInput, ImportTourResult } from './types.js';

/** Sent (signal-with-start) when an operator pushes a change while this tour is importing. */
export const refreshSignal = defineSignal(SIGNALS.refresh);

const IMAGES_AT_ONCE = 8;
const MAX_PASSES = 5;

/** Imports one tour start to end: fetch, download and resize its images, persist in one transaction. */
export async function ImportTour(unchecked: ImportTourInput): Promise<ImportTourResult> {
  const input = validateImportTourInput(unchecked);
  // A parent ImportOperator records its run and its children's failures; a pushed or ad hoc import of
  // one tour records its own: an import_runs row of mode 'tour', and its failure.
  if (workflowInfo().parent) return importTour(input);
  const { workflowId, runId } = workflowInfo();
  const record = proxyLocalActivities<CatalogActivities>(localActivityProfiles(DEFAULT_RETRY).db);
  const run = { operatorId: input.operatorId, workflowId, runId };
  try {
    await record.recordTourRun({ ...run, status: 'running' });
    const result = await importTour(input);
    await record.recordTourRun({ ...run, status: 'completed', outcome: result.outcome });
    return result;
  } catch (err) {
    if (err instanceof ContinueAsNew) {
      await record.recordTourRun({ ...run, status: 'completed', message: 'pushed again: continued as new' });
    } else if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => record.recordTourRun({ ...run, status: 'cancelled' }));
    } else {
      const { type, message } = rootFailure(err);
      await record.recordTourFailure({
        operatorId: input.operatorId,
        externalId: input.externalId,
        kind: type,
        message,
        workflowId,
      });
      await record.recordTourRun({ ...run, status: 'failed', message: `${type}: ${message}` });
    }
    throw err;
  }
}

async function importTour(input: ImportTourInput): Promise<ImportTourResult> {
  const retry = { ...DEFAULT_RETRY, ...input.retry };
  const p = activityProfiles(retry);
  // Started at a lower priority by an import making room for a smaller one: its images go after others'.
  const priority = operatorPriority(input.operatorId, workflowInfo().priority?.priorityKey);
  const local = localActivityProfiles(retry);
  const tour = proxyLocalActivities<TourActivities>(local.http);
  const store = proxyLocalActivities<TourActivities>(local.db);
  const imageOptions = { priority, taskQueue: input.imageTaskQueue ?? TASK_QUEUES.imageProcessing };
  const images = retriesAloneAfterBatch(retry)
    ? proxyActivities<ImageActivities>({ ...p.imageRetriedAlone, ...imageOptions })
    : null;
  const imageBatch = proxyActivities<ImageActivities>({ ...p.imageBatch, ...imageOptions });

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
    const fetched = await tour.fetchTour({
      operatorId: input.operatorId,
      externalId: input.externalId,
      force: input.force,
      listed: input.listed && !pushed,
    });
    if (fetched.outcome !== 'changed') {
      // A later pass that finds nothing new does not undo what an earlier one imported.
      const outcome = fetched.outcome === 'gone' ? 'removed' : result.passes ? result.outcome : 'unchanged';
      result = { ...result, outcome, passes: result.passes + 1 };
      continue;
    }
    const assets = await importImages(fetched.images, images, imageBatch);
    const persisted = await store.persistTour({
      operatorId: input.operatorId,
      externalId: input.externalId,
      contentHash: fetched.contentHash,
      images: assets,
    });
    result = {
      outcome: persisted.outcome,
      images: assets.length,
      failedImages: assets.filter((a) => a.status === 'failed').length,
      passes: result.passes + 1,
    };
  } while (again && result.passes < MAX_PASSES);
  // Still being pushed to: carry on in a fresh run so the last pass sees the newest data.
  if (again) await continueAsNew<typeof ImportTour>(input);
  return result;
}

/**
 * A tour's images: those checked recently with every size stored need nothing; the others go to the
 * image queue in one batch, and any that failed there for a reason a retry may fix are retried one
 * by one under the usual retry policy (unless it allows a single attempt). One bad image does not
 * fail the tour: it is stored as failed, with the reason.
 */
async function importImages(
  tourImages: readonly FetchedImage[],
  single: Pick<ImageActivities, 'importImage'> | null,
  batch: Pick<ImageActivities, 'importImages'>,
): Promise<TourAssetInput[]> {
  const todo = tourImages.filter((img) => !img.readySha256).map((img) => img.url);
  let outcomes: ImageOutcome[] = [];
  let batchFailure: string | null = null;
  if (todo.length) {
    try {
      outcomes = await batch.importImages({ urls: todo });
    } catch (err) {
      // The batch itself gave up (not one image's fault): every image gets its own activity, or, with a
      // single attempt allowed, is stored as failed for the batch's reason.
      if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
      batchFailure = activityFailureReason(err);
    }
  }
  const byUrl = new Map(outcomes.map((o) => [o.url, o]));
  return mapWithLimit(tourImages, IMAGES_AT_ONCE, async (img, position): Promise<TourAssetInput> => {
    const base = { position, sourceUrl: img.url, caption: img.caption };
    const ready = (sha256: string) => ({ ...base, sha256, status: 'ready' as const, failureReason: null });
    // Retryable: the operator's next import tries the image again (bounded, see IMAGE_RETRY_IMPORTS).
    const failed = (reason: string, retryable = true) => ({
      ...base,
      sha256: null,
      status: 'failed' as const,
      failureReason: reason,
      failureRetryable: retryable,
    });
    if (img.readySha256) return ready(img.readySha256);
    const outcome = byUrl.get(img.url);
    if (outcome && 'sha256' in outcome) return ready(outcome.sha256);
    if (outcome && (!outcome.failure.retryable || !single))
      return failed(failureReason(outcome.failure.type, outcome.failure.message), outcome.failure.retryable);
    // No retries alone (a single attempt was asked for): the failed batch was this image's attempt.
    if (!single) return failed(batchFailure ?? 'the image batch returned no outcome for this image');
    try {
      return ready((await single.importImage({ url: img.url })).sha256);
    } catch (err) {
      if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
      return failed(activityFailureReason(err), !isNonRetryable(err));
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

/** The reason stored with a failed image: its failure type (when it has one) and message. */
function failureReason(type: string | null | undefined, message: string): string {
  return `${type ? `${type}: ` : ''}${message}`.slice(0, 500);
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
