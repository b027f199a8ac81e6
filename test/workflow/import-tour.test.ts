import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, type TemporalFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ImportTour, refreshSignal } from '../../src/workflows/import-tour.js';
import type { ImportTourInput } from '../../src/workflows/types.js';
import { connectTestEnv, uniqueName, withWorker } from '../helpers/temporal.js';

/** The innermost cause of a workflow's failure (activity failures wrap their own). */
function rootCause(err: WorkflowFailedError): TemporalFailure | undefined {
  let cause = err.cause;
  while (cause?.cause instanceof Error) cause = cause.cause as TemporalFailure;
  return cause as TemporalFailure | undefined;
}

/**
 * ImportTour's handling of pushes, on a real server with in-memory activities: a push while a pass
 * runs gets one more pass, and a tour pushed on and on carries on in a fresh run (continue-as-new).
 * fetchTour and persistTour are local activities: a push that lands while the workflow task running
 * them would complete the workflow makes the server refuse that completion, and the task runs again
 * from the fetch — also a fresh fetch, counted as the same pass.
 */
describe('ImportTour', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => void (env = await connectTestEnv()));
  afterAll(async () => env?.teardown());

  /** Runs one ImportTour on a worker with these activities (its images on the same queue). */
  function importTour(activities: object, workflowId: string, input: Partial<ImportTourInput> = {}) {
    return withWorker(env, activities, (taskQueue) =>
      env.client.workflow.execute(ImportTour, {
        taskQueue,
        workflowId,
        args: [{ operatorId: 'op', externalId: 'T1', imageTaskQueue: taskQueue, ...input }],
      }),
    );
  }

  /** Fetches that push a refresh to the running import themselves, the first `pushes` times. */
  async function importWithPushes(pushes: number, images: number) {
    const workflowId = uniqueName('tour:op:T1');
    let fetches = 0;
    const persisted: string[] = [];
    const activities = {
      async fetchTour() {
        fetches++;
        if (fetches <= pushes) await env.client.workflow.getHandle(workflowId).signal(refreshSignal);
        const urls = Array.from({ length: images }, (_, i) => ({
          url: `http://img/${i}.jpg`,
          caption: null,
        }));
        return { outcome: 'changed', contentHash: `h${fetches}`, images: urls };
      },
      async importTourImages(a: { contentHash: string; images: unknown[] }) {
        persisted.push(a.contentHash);
        return { outcome: 'imported', images: a.images.length, failedImages: 0 };
      },
      async persistTour(a: { contentHash: string }) {
        persisted.push(a.contentHash);
        return { outcome: 'imported' };
      },
      async recordTourFailure() {},
      async recordTourRun() {},
    };
    const result = await importTour(activities, workflowId, {
      retry: { initialIntervalMs: 50, maximumAttempts: 1 },
    });
    const runs: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
      runs.push(wf.status.name);
    return { result, fetches, persisted, runs };
  }

  it('a push while a pass runs gets one more pass, which stores the newest data', async () => {
    const r = await importWithPushes(1, 2);
    expect(r.result).toMatchObject({ outcome: 'imported', passes: 2, images: 2 });
    expect(r.fetches).toBe(2);
    expect(r.persisted).toEqual(['h1', 'h2']);
  });

  it("a push to a tour its listing is importing fetches from the operator on the extra pass, and an unchanged pass keeps the import's outcome", async () => {
    const workflowId = uniqueName('tour:op:T1');
    const fetches: (boolean | undefined)[] = [];
    const activities = {
      async fetchTour(a: { listed?: boolean }) {
        fetches.push(a.listed);
        if (fetches.length === 1) {
          await env.client.workflow.getHandle(workflowId).signal(refreshSignal);
          // (An image, so this workflow task ends before the persist: the push lands between passes.)
          return {
            outcome: 'changed',
            contentHash: 'listed',
            images: [{ url: 'http://img/0.jpg', caption: null }],
          };
        }
        return { outcome: 'unchanged' }; // the operator has nothing newer than the listing had
      },
      async importTourImages() {
        return { outcome: 'imported', images: 1, failedImages: 0 };
      },
      async persistTour() {
        return { outcome: 'imported' };
      },
      async recordTourFailure() {},
      async recordTourRun() {},
    };
    const result = await importTour(activities, workflowId, { listed: true });
    // The listing's staged record predates the push: the second pass does not read it again.
    expect(fetches).toEqual([true, false]);
    expect(result).toMatchObject({ outcome: 'imported', passes: 2 });
  });

  it('a tour still pushed to after 5 passes carries on in a new run, and ends when the pushes stop', async () => {
    const r = await importWithPushes(7, 1);
    // Run 1: passes 1–5, each pushed again → continue-as-new; run 2: the pushes 6 and 7, then a quiet pass.
    expect(r.fetches).toBe(8);
    expect(r.result).toMatchObject({ outcome: 'imported', passes: 3 });
    expect(r.persisted.at(-1)).toBe('h8');
    expect(r.runs.sort()).toEqual(['COMPLETED', 'CONTINUED_AS_NEW']);
  });

  it('a push landing while a tour without images completes re-runs the fetch: the newest data is stored', async () => {
    const r = await importWithPushes(1, 0);
    expect(r.result).toMatchObject({ outcome: 'imported' });
    expect(r.fetches).toBe(2);
    expect(r.persisted.at(-1)).toBe('h2');
    expect(r.runs).toEqual(['COMPLETED']);
  });

  it("sends a tour's images in one activity, retries alone only those a retry may fix, and keeps the rest", async () => {
    const sha = (n: string) => n.repeat(64);
    const singles: string[] = [];
    let stored: { position: number; status: string; sha256: string | null; failureReason: string | null }[] =
      [];
    const sent: { url: string; readySha256?: string }[][] = [];
    const activities = {
      async fetchTour() {
        const images = ['ok', 'flaky', 'corrupt', 'ready'].map((name) => ({
          url: `http://img/${name}.jpg`,
          caption: null,
          readySha256: name === 'ready' ? sha('d') : undefined,
        }));
        return { outcome: 'changed', contentHash: 'h', images };
      },
      async importTourImages(a: { images: { url: string; readySha256?: string }[] }) {
        sent.push(a.images);
        return {
          outcome: 'images-to-retry',
          imageOutcomes: [
            { url: 'http://img/ok.jpg', sha256: sha('a') },
            {
              url: 'http://img/flaky.jpg',
              failure: { type: 'DownloadFailed', message: 'reset', retryable: true },
            },
            {
              url: 'http://img/corrupt.jpg',
              failure: { type: 'CorruptImage', message: 'not a JPEG', retryable: false },
            },
          ],
        };
      },
      async importImage(a: { url: string }) {
        singles.push(a.url);
        return { sha256: sha('b'), downloaded: true, resized: true };
      },
      async persistTour(a: { images: typeof stored }) {
        stored = a.images;
        return { outcome: 'imported' };
      },
      async recordTourFailure() {},
      async recordTourRun() {},
    };
    const result = await importTour(activities, uniqueName('tour:op:T2'), { externalId: 'T2' });
    // One activity for the tour's images, told which one was checked recently (it needs no download).
    expect(sent.map((images) => images.map((i) => [i.url, i.readySha256 ?? null]))).toEqual([
      [
        ['http://img/ok.jpg', null],
        ['http://img/flaky.jpg', null],
        ['http://img/corrupt.jpg', null],
        ['http://img/ready.jpg', sha('d')],
      ],
    ]);
    expect(singles).toEqual(['http://img/flaky.jpg']);
    expect(stored.map((a) => [a.position, a.status, a.sha256, a.failureReason])).toEqual([
      [0, 'ready', sha('a'), null],
      [1, 'ready', sha('b'), null],
      [2, 'failed', null, 'CorruptImage: not a JPEG'],
      [3, 'ready', sha('d'), null],
    ]);
    expect(result).toMatchObject({ outcome: 'imported', images: 4, failedImages: 1 });
  });

  it('with a single attempt allowed, no image is retried alone: the activity stores failures itself, or all fail for its reason', async () => {
    const run = async (together: (a: { retriesAlone: boolean }) => unknown) => {
      let singles = 0;
      let stored: { status: string; failureReason: string | null }[] = [];
      const activities = {
        async fetchTour() {
          const images = ['a', 'b'].map((n) => ({ url: `http://img/${n}.jpg`, caption: null }));
          return { outcome: 'changed', contentHash: 'h', images };
        },
        async importTourImages(a: { retriesAlone: boolean }) {
          return together(a);
        },
        async importImage() {
          singles++;
          return { sha256: 'b'.repeat(64), downloaded: true, resized: true };
        },
        async persistTour(a: { images: typeof stored }) {
          stored = a.images;
          return { outcome: 'imported' };
        },
        async recordTourFailure() {},
        async recordTourRun() {},
      };
      const result = await importTour(activities, uniqueName('tour:op:T3'), {
        externalId: 'T3',
        retry: { initialIntervalMs: 50, maximumAttempts: 1 },
      });
      return { singles, stored: stored.map((a) => [a.status, a.failureReason]), result };
    };
    // The activity is told no image will be retried alone, so it persists with the failure itself.
    const told: boolean[] = [];
    const itself = await run((a) => {
      told.push(a.retriesAlone);
      return { outcome: 'imported', images: 2, failedImages: 1 };
    });
    expect(told).toEqual([false]);
    expect(itself).toMatchObject({
      singles: 0,
      stored: [],
      result: { outcome: 'imported', failedImages: 1 },
    });
    // The activity itself failed: every image is stored as failed for its reason, none retried alone.
    expect(
      await run(() => {
        throw ApplicationFailure.retryable('worker lost its disk', 'StorageFailed');
      }),
    ).toMatchObject({
      singles: 0,
      stored: [
        ['failed', 'StorageFailed: worker lost its disk'],
        ['failed', 'StorageFailed: worker lost its disk'],
      ],
    });
  });

  describe('images and persist in one activity (importTourImages)', () => {
    const IMAGES = [
      { url: 'http://img/ok.jpg', caption: null },
      { url: 'http://img/flaky.jpg', caption: null },
    ];
    /** Runs an ImportTour whose importTourImages does `together`; records what ran. */
    async function importTogether(
      together: () => unknown,
      images: { url: string; caption: null; readySha256?: string }[] = IMAGES,
      persistOutcome: () => unknown = () => ({ outcome: 'imported' }),
    ) {
      const ran: string[] = [];
      const persisted: { contentHash: string; images: { status: string; sha256: string | null }[] }[] = [];
      const activities = {
        async fetchTour() {
          ran.push('fetchTour');
          return { outcome: 'changed', contentHash: 'h', images };
        },
        async importTourImages(a: { images: unknown[]; retriesAlone: boolean }) {
          ran.push(`importTourImages ${a.images.length} retriesAlone=${a.retriesAlone}`);
          return together();
        },
        async importImage(a: { url: string }) {
          ran.push(`importImage ${a.url}`);
          return { sha256: 'b'.repeat(64), downloaded: true, resized: true };
        },
        async persistTour(a: (typeof persisted)[number]) {
          ran.push(`persistTour ${a.contentHash}`);
          persisted.push(a);
          return persistOutcome();
        },
        async recordTourFailure() {},
        async recordTourRun() {},
      };
      const result = await importTour(activities, uniqueName('tour:op:P'), {
        retry: { initialIntervalMs: 50, maximumAttempts: 2 },
      }).catch((err: unknown) => err);
      return { result, ran, persisted };
    }

    it('stores the tour in that activity, with no persist after it', async () => {
      const r = await importTogether(() => ({ outcome: 'imported', images: 2, failedImages: 1 }));
      expect(r.ran).toEqual(['fetchTour', 'importTourImages 2 retriesAlone=true']);
      expect(r.result).toMatchObject({ outcome: 'imported', images: 2, failedImages: 1, passes: 1 });
    });

    it('a tour with no image to import is persisted by the local activity, with no image activity', async () => {
      const ready = IMAGES.map((img) => ({ ...img, readySha256: 'd'.repeat(64) }));
      const r = await importTogether(() => ({ outcome: 'imported', images: 2, failedImages: 0 }), ready);
      expect(r.ran).toEqual(['fetchTour', 'persistTour h']);
      expect(r.persisted[0].images.map((a) => a.status)).toEqual(['ready', 'ready']);
    });

    it('retries alone the images that failed retryably in it, then persists', async () => {
      const r = await importTogether(() => ({
        outcome: 'images-to-retry',
        imageOutcomes: [
          { url: 'http://img/ok.jpg', sha256: 'a'.repeat(64) },
          {
            url: 'http://img/flaky.jpg',
            failure: { type: 'DownloadFailed', message: 'reset', retryable: true },
          },
        ],
      }));
      expect(r.ran).toEqual([
        'fetchTour',
        'importTourImages 2 retriesAlone=true',
        'importImage http://img/flaky.jpg',
        'persistTour h',
      ]);
      expect(r.persisted[0].images.map((a) => [a.status, a.sha256])).toEqual([
        ['ready', 'a'.repeat(64)],
        ['ready', 'b'.repeat(64)],
      ]);
    });

    it('when it gives up, every image is retried alone, as after a failed batch', async () => {
      const r = await importTogether(() => {
        throw ApplicationFailure.retryable('the blob store rejected the upload', 'Error');
      });
      // (The two images are retried alone at once: in either order.)
      expect([...r.ran.slice(0, 3), ...r.ran.slice(3, 5).sort(), r.ran[5]]).toEqual([
        'fetchTour',
        'importTourImages 2 retriesAlone=true',
        'importTourImages 2 retriesAlone=true',
        'importImage http://img/flaky.jpg',
        'importImage http://img/ok.jpg',
        'persistTour h',
      ]);
      expect(r.result).toMatchObject({ outcome: 'imported', passes: 1 });
    });

    it('while PostgreSQL is unreachable it is called again after a wait, and no image is stored as failed', async () => {
      let calls = 0;
      const r = await importTogether(() => {
        // Both attempts of the first call, then the database is back.
        if (++calls <= 2) throw ApplicationFailure.retryable('connect ECONNREFUSED', 'DatabaseUnavailable');
        return { outcome: 'imported', images: 2, failedImages: 0 };
      });
      expect(r.ran).toEqual(['fetchTour', ...Array(3).fill('importTourImages 2 retriesAlone=true')]);
      expect(r.result).toMatchObject({ outcome: 'imported', images: 2, failedImages: 0, passes: 1 });
    });

    it('an image the blob GC swept before the persist is imported again, then the tour persisted with it', async () => {
      const ready = IMAGES.map((img) => ({ ...img, readySha256: 'd'.repeat(64) }));
      let persists = 0;
      const r = await importTogether(
        () => ({ outcome: 'imported', images: 2, failedImages: 0 }),
        ready,
        () =>
          ++persists === 1
            ? { outcome: 'images-swept', urls: ['http://img/flaky.jpg'] }
            : { outcome: 'imported' },
      );
      // The first persist wrote nothing; the swept image goes to the image activity, which persists.
      expect(r.ran).toEqual(['fetchTour', 'persistTour h', 'importTourImages 2 retriesAlone=true']);
      expect(r.result).toMatchObject({ outcome: 'imported', passes: 1 });
    });

    it('a tour whose images are swept before every persist fails for a reason that holds the delta mark', async () => {
      const ready = IMAGES.map((img) => ({ ...img, readySha256: 'd'.repeat(64) }));
      const r = await importTogether(
        () => ({ outcome: 'images-swept', urls: ['http://img/flaky.jpg'] }),
        ready,
        () => ({ outcome: 'images-swept', urls: ['http://img/ok.jpg'] }),
      );
      expect(r.ran).toEqual([
        'fetchTour',
        'persistTour h',
        'importTourImages 2 retriesAlone=true',
        'importTourImages 2 retriesAlone=true',
      ]);
      expect(rootCause(r.result as WorkflowFailedError)).toMatchObject({
        type: 'ImagesSwept',
        nonRetryable: false,
      });
    });

    it('fails the tour on a failure no retry fixes, as the persist would', async () => {
      const r = await importTogether(() => {
        throw ApplicationFailure.nonRetryable('its staged data is gone', 'StagedTourMissing');
      });
      expect(r.ran).toEqual(['fetchTour', 'importTourImages 2 retriesAlone=true']);
      expect(r.result).toBeInstanceOf(WorkflowFailedError);
      expect(rootCause(r.result as WorkflowFailedError)).toMatchObject({ type: 'StagedTourMissing' });
    });
  });
});
