import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ImportOperator } from '../../src/workflows/import-operator.js';
import { pauseSignal, progressQuery, resumeSignal } from '../../src/workflows/import-operator.js';
import type { ResolvedSettings, Progress } from '../../src/workflows/types.js';
import { connectTestEnv, uniqueName, withWorker } from '../helpers/temporal.js';
import { importTourWorkflowId } from '../../src/constants.js';
import { newImportState } from '../../src/workflows/import-operator/run.js';
import { testSettings } from '../helpers/import-state.js';
import { until } from '../helpers/wait.js';
import type { Notification } from '../../src/domain/notifications.js';

/**
 * Orchestration only: the activities are in-memory stand-ins, the workflows and server are real.
 * The integration tier runs the same workflows on the real activities.
 */
function fakeCatalog(o: {
  tours: number;
  pageSize: number;
  failing?: (id: string) => boolean;
  transient?: boolean;
}) {
  const imported = new Map<string, number>();
  const finished: { status: string; progress: Progress; deltaMark?: string }[] = [];
  const pauses: (string | null)[] = [];
  const failures: string[] = [];
  const notified: Notification[] = [];
  const cooldowns: (number | undefined)[] = [];
  const ids = Array.from({ length: o.tours }, (_, i) => `t${i}`);
  const activities = {
    async beginImport(a: { settings?: Partial<ResolvedSettings> }) {
      const settings = testSettings({ pageSize: o.pageSize, toursPerRun: 7, ...a.settings });
      return { outcome: 'started', importRunId: 1, settings, otherImports: [] };
    },
    async listPage(a: { position?: string; settings: ResolvedSettings }) {
      const start = Number(a.position ?? 0);
      const page = ids.slice(start, start + a.settings.pageSize);
      const next = start + page.length < ids.length ? String(start + page.length) : undefined;
      return {
        toImport: page,
        unchanged: 0,
        removed: 0,
        invalid: 0,
        listed: page.length,
        next,
        deltaMark: 'mark-1',
      };
    },
    async fetchTour(a: { externalId: string }) {
      if (o.failing?.(a.externalId) && o.transient)
        throw ApplicationFailure.retryable(`operator down for ${a.externalId}`, 'OperatorHttpError');
      if (o.failing?.(a.externalId))
        throw ApplicationFailure.nonRetryable(`tour ${a.externalId} is invalid`, 'TourValidationFailed');
      return { outcome: 'changed', contentHash: 'h', images: [] };
    },
    async persistTour(a: { externalId: string }) {
      imported.set(a.externalId, (imported.get(a.externalId) ?? 0) + 1);
      return { outcome: 'imported' };
    },
    async settleRemovals() {
      return { removed: 0, held: 0 };
    },
    async setOperatorPaused(a: { paused: boolean; reason: string | null; resumeInMs?: number }) {
      pauses.push(a.paused ? a.reason : null);
      if (a.paused) cooldowns.push(a.resumeInMs);
    },
    async notify(n: Notification) {
      notified.push(n);
      return { delivered: ['stub'], retrying: [], failed: [] };
    },
    async recordTourFailure(a: { externalId: string; kind: string }) {
      failures.push(`${a.externalId}: ${a.kind}`);
    },
    async finishImport(a: { status: string; progress: Progress; deltaMark?: string }) {
      finished.push(a);
    },
  };
  return { activities, imported, finished, pauses, failures, notified, cooldowns };
}

describe('ImportOperator orchestration', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => void (env = await connectTestEnv()));
  afterAll(async () => env?.teardown());

  const run = <T>(activities: object, fn: (taskQueue: string) => Promise<T>) =>
    withWorker(env, activities, fn);

  it('imports every listed tour exactly once across pages and continue-as-new', async () => {
    const fake = fakeCatalog({ tours: 25, pageSize: 4 });
    const result = await run(fake.activities, (taskQueue) =>
      env.client.workflow.execute(ImportOperator, {
        taskQueue,
        workflowId: uniqueName('op'),
        args: [{ operatorId: 'op1', mode: 'full' }],
      }),
    );
    expect(result.status).toBe('completed');
    expect(result.progress.done).toBe(25);
    expect(fake.imported.size).toBe(25);
    expect([...fake.imported.values()].every((n) => n === 1)).toBe(true);
    expect(fake.finished.map((f) => f.status)).toEqual(['completed']);
    expect(fake.notified).toEqual([]); // continuing as new is not a failure to tell anyone about
  });

  it('trips the circuit breaker, waits paused, and finishes after resume', async () => {
    let broken = true;
    const fake = fakeCatalog({
      tours: 12,
      pageSize: 12,
      failing: (id) => broken && Number(id.slice(1)) >= 2,
    });
    const result = await run(fake.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(ImportOperator, {
        taskQueue,
        workflowId: uniqueName('op'),
        args: [{ operatorId: 'op2', mode: 'full' }],
      });
      // 'paused' status means the pause is durable, not just requested.
      await until(async () => (await handle.query(progressQuery)).status === 'paused');
      const paused = await handle.query(progressQuery);
      expect(paused.pauseReason).toMatch(/circuit breaker: 3 tours failed in a row/);
      broken = false;
      await handle.signal(resumeSignal);
      return handle.result();
    });
    expect(fake.pauses[0]).toMatch(/circuit breaker/);
    expect(fake.pauses).toContain(null);
    expect(result.status).toBe('completed');
    expect(result.progress.failed).toBeGreaterThanOrEqual(3);
    expect(result.progress.done + result.progress.failed).toBe(12);
  });

  it('pauses on a signal without starting new children, and resumes', async () => {
    const fake = fakeCatalog({ tours: 10, pageSize: 10 });
    await run(fake.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(ImportOperator, {
        taskQueue,
        workflowId: uniqueName('op'),
        args: [{ operatorId: 'op3', mode: 'full' }],
      });
      await handle.signal(pauseSignal, { reason: 'maintenance' });
      await until(async () => (await handle.query(progressQuery)).status === 'paused');
      const before = fake.imported.size;
      await new Promise((r) => setTimeout(r, 1_000));
      expect(fake.imported.size - before).toBeLessThanOrEqual(3); // only children already in flight finish
      expect(fake.pauses).toEqual(['maintenance']);
      await handle.signal(resumeSignal);
      const result = await handle.result();
      expect(result.progress.done).toBe(10);
    });
  });

  it('advances the delta mark past permanently invalid tours, but not past transient failures', async () => {
    const invalid = fakeCatalog({ tours: 4, pageSize: 4, failing: (id) => id === 't1' });
    await run(invalid.activities, (taskQueue) =>
      env.client.workflow.execute(ImportOperator, {
        taskQueue,
        workflowId: uniqueName('op'),
        args: [{ operatorId: 'op4', mode: 'delta' }],
      }),
    );
    expect(invalid.finished[0]).toMatchObject({ status: 'completed', deltaMark: 'mark-1' });

    const transient = fakeCatalog({ tours: 4, pageSize: 4, failing: (id) => id === 't1', transient: true });
    await run(transient.activities, (taskQueue) =>
      env.client.workflow.execute(ImportOperator, {
        taskQueue,
        workflowId: uniqueName('op'),
        args: [{ operatorId: 'op5', mode: 'delta' }],
      }),
    );
    expect(transient.finished[0]).toMatchObject({
      status: 'completed',
      progress: expect.objectContaining({ failed: 1 }),
    });
    expect(transient.finished[0].deltaMark).toBeUndefined(); // the next delta lists from the old mark again
  });

  it('a big import makes room for a smaller import of another operator while it runs', async () => {
    const bigId = uniqueName('big');
    const catalogs: Record<string, { tours: number; pageSize: number; runId: number; others: string[] }> = {
      big: { tours: 150, pageSize: 50, runId: 1, others: [] },
      small: { tours: 3, pageSize: 3, runId: 2, others: [bigId] },
    };
    const inFlight = { big: 0, small: 0 };
    let bigPeak = 0;
    const bigFetched: string[] = [];
    let releaseSmall!: () => void;
    const smallGate = new Promise<void>((resolve) => (releaseSmall = resolve));
    const activities = {
      async beginImport(a: { operatorId: string }) {
        const c = catalogs[a.operatorId];
        const settings = testSettings({ window: 5, pageSize: c.pageSize });
        return { outcome: 'started', importRunId: c.runId, settings, otherImports: c.others };
      },
      async listPage(a: { operatorId: string; position?: string }) {
        const c = catalogs[a.operatorId];
        const start = Number(a.position ?? 0);
        const page = Array.from({ length: Math.min(c.pageSize, c.tours - start) }, (_, i) => `t${start + i}`);
        // A cursor feed: a full page may be followed by an empty one (the small catalog's is).
        const next = page.length === c.pageSize ? String(start + page.length) : undefined;
        return { toImport: page, unchanged: 0, removed: 0, invalid: 0, listed: page.length, next };
      },
      async fetchTour(a: { operatorId: 'big' | 'small'; externalId: string }) {
        if (a.operatorId === 'big') bigFetched.push(a.externalId);
        inFlight[a.operatorId]++;
        if (a.operatorId === 'big') bigPeak = Math.max(bigPeak, inFlight.big);
        await (a.operatorId === 'small' ? smallGate : new Promise((r) => setTimeout(r, 200)));
        inFlight[a.operatorId]--;
        return { outcome: 'changed', contentHash: 'h', images: [] };
      },
      async persistTour() {
        return { outcome: 'imported' };
      },
      async settleRemovals() {
        return { removed: 0, held: 0 };
      },
      async setOperatorPaused() {},
      async recordTourFailure() {},
      async finishImport() {},
    };
    // A failed expectation must not leave the small import's fetches held: the worker drains them on stop.
    await run(activities, (taskQueue) => bothImports(taskQueue).finally(releaseSmall));
    async function bothImports(taskQueue: string) {
      const big = await env.client.workflow.start(ImportOperator, {
        taskQueue,
        workflowId: bigId,
        args: [{ operatorId: 'big', mode: 'full' }],
      });
      const progress = () => big.query(progressQuery);
      await until(async () => (await progress()).running > 0, 'the big import running');
      const small = await env.client.workflow.start(ImportOperator, {
        taskQueue,
        workflowId: uniqueName('small'),
        args: [{ operatorId: 'small', mode: 'full' }],
      });
      await until(async () => inFlight.small === 3, 'the small import running its 3 tours'); // held by smallGate
      // The big import narrows its window to a fifth of 5, lets its children in flight finish, and then
      // runs one at a time: the window (its state) holds it there while the small import runs.
      await until(async () => (await progress()).window === 1, 'the big import narrowing its window');
      await until(async () => (await progress()).running <= 1, 'the big import down to one child');
      bigPeak = inFlight.big;
      const doneThen = (await progress()).done;
      await until(async () => (await progress()).done >= doneThen + 2, 'the big import going on meanwhile');
      expect(bigPeak).toBe(1); // still importing, one tour at a time
      expect((await progress()).status).toBe('running');
      // …and the tours it starts meanwhile go after everyone else's (lower priority: a higher key).
      const priorityOf = async (externalId: string) =>
        (await env.client.workflow.getHandle(importTourWorkflowId('big', externalId)).describe()).priority;
      expect(await priorityOf(bigFetched.at(-1)!)).toMatchObject({ fairnessKey: 'big', priorityKey: 4 });
      expect((await priorityOf('t0'))?.priorityKey).not.toBe(4);

      releaseSmall();
      expect((await small.result()).progress.done).toBe(3);
      // Told that the small import has finished, the big one fills its window again.
      await until(async () => (await progress()).window === 5, 'the big import widening its window again');
      const result = await big.result();
      expect(result.progress.done).toBe(150);
    }
  });

  it('a tour cancelled on its own is a recorded failure that holds the delta mark, not the end of the import', async () => {
    const fake = fakeCatalog({ tours: 3, pageSize: 3 });
    const operatorId = 'op-cancel';
    const activities = {
      ...fake.activities,
      async fetchTour(a: { externalId: string }) {
        // t1 takes long enough for someone to cancel its ImportTour in the Web UI.
        if (a.externalId === 't1') await new Promise((r) => setTimeout(r, 1_500));
        return fake.activities.fetchTour(a);
      },
    };
    const result = await run(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(ImportOperator, {
        taskQueue,
        workflowId: uniqueName('op'),
        args: [{ operatorId, mode: 'delta' }],
      });
      const child = env.client.workflow.getHandle(importTourWorkflowId(operatorId, 't1'));
      await until(async () => (await child.describe().catch(() => undefined))?.status.name === 'RUNNING');
      await child.cancel();
      return handle.result();
    });
    expect(result.status).toBe('completed');
    expect(result.progress).toMatchObject({ done: 2, failed: 1 });
    expect(fake.failures).toEqual(['t1: ImportTourCancelled']);
    expect(fake.finished.map((f) => f.status)).toEqual(['completed']);
    expect(fake.finished[0].deltaMark).toBeUndefined(); // the next delta lists t1 again
  });

  it('refuses a start that carries continue-as-new state, and a malformed input, as InvalidImportInput', async () => {
    const fake = fakeCatalog({ tours: 3, pageSize: 3 });
    const forged = newImportState(1, testSettings({ pageSize: 3, toursPerRun: 7 }));
    const outcomes = await run(fake.activities, (taskQueue) =>
      Promise.all(
        [
          { operatorId: 'op-forged', mode: 'full', carried: { ...forged, listingDone: true } },
          { operatorId: 'op-forged', mode: 'everything' },
          { operatorId: 'Not An Id', mode: 'full' },
        ].map((input) =>
          env.client.workflow
            .execute(ImportOperator, {
              taskQueue,
              workflowId: uniqueName('forged'),
              args: [input as Parameters<typeof ImportOperator>[0]],
            })
            .catch((err: WorkflowFailedError) => err),
        ),
      ),
    );
    for (const err of outcomes) {
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'InvalidImportInput' });
    }
    expect((outcomes[0] as WorkflowFailedError).cause?.message).toMatch(/carried/);
    expect((outcomes[1] as WorkflowFailedError).cause?.message).toMatch(/mode/);
    expect(fake.finished).toEqual([]); // nothing was imported, removed or recorded
  });

  it('half-open breaker: resumes alone after its cooldown; a failed probe re-opens it for twice as long, a passing probe closes it', async () => {
    // t0, t1 trip the breaker (2 in a row); t2 is the first probe and fails; t3, t4 pass the second probe.
    const fake = fakeCatalog({ tours: 8, pageSize: 8, failing: (id) => ['t0', 't1', 't2'].includes(id) });
    const breaker = { consecutiveFailures: 2, failureRatio: 1, overLast: 20, cooldown: 1_000, probeTours: 2 };
    const result = await run(fake.activities, (taskQueue) =>
      env.client.workflow.execute(ImportOperator, {
        taskQueue,
        workflowId: uniqueName('op'),
        args: [{ operatorId: 'op-half-open', mode: 'full', settings: { window: 1, breaker } }],
      }),
    );
    expect(result.status).toBe('completed');
    expect(result.progress).toMatchObject({ done: 5, failed: 3, paused: false });
    expect(fake.pauses).toEqual([
      'circuit breaker: 2 tours failed in a row',
      null, // resumed alone for the first probe
      expect.stringMatching(/^circuit breaker: a probe tour failed; .*next probe in 2 s/),
      null, // resumed alone for the second probe, which passed
    ]);
    expect(fake.cooldowns).toEqual([1_000, 2_000]); // stored, so status and the catalog page show when
    // One "paused" when the breaker first tripped, one "resumed" when it closed; no noise in between.
    expect(fake.notified.map((n) => [n.event, n.pausedBy])).toEqual([
      ['paused', 'breaker'],
      ['resumed', undefined],
    ]);
    expect(fake.notified[1].message).toMatch(/circuit breaker closed/);
    expect(new Set(fake.notified.map((n) => n.dedupKey)).size).toBe(2);
  });

  it("a breaker that trips while a run drains to continue as new stays the breaker's: recorded and told once, probed after its cooldown", async () => {
    // toursPerRun is 7: t0–t6 start in the first run, and t4–t6, its last window, fail once t0–t3 are done.
    const failing = (id: string) => ['t4', 't5', 't6'].includes(id);
    const fake = fakeCatalog({ tours: 10, pageSize: 10, failing });
    let letThemFail!: () => void;
    const failuresMayCome = new Promise<void>((resolve) => (letThemFail = resolve));
    const activities = {
      ...fake.activities,
      async fetchTour(a: { externalId: string }) {
        if (failing(a.externalId)) await failuresMayCome;
        return fake.activities.fetchTour(a);
      },
    };
    const breaker = { consecutiveFailures: 3, failureRatio: 1, overLast: 20, cooldown: 1_000, probeTours: 1 };
    const result = await run(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(ImportOperator, {
        taskQueue,
        workflowId: uniqueName('op'),
        args: [{ operatorId: 'op-breaker-can', mode: 'full', settings: { window: 3, breaker } }],
      });
      await until(async () => {
        const p = await handle.query(progressQuery);
        return p.done === 4 && p.running === 3;
      }, 'the first run draining its last window');
      letThemFail();
      // The breaker trips in the drain; the next run records the pause, as the breaker's, with its cooldown.
      await until(async () => fake.cooldowns.length > 0, 'the pause recorded');
      expect(fake.cooldowns).toEqual([1_000]);
      expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);
      return handle.result();
    });
    expect(result.status).toBe('completed');
    expect(result.progress).toMatchObject({ done: 7, failed: 3, paused: false });
    expect(fake.pauses).toEqual(['circuit breaker: 3 tours failed in a row', null]);
    expect(fake.notified.map((n) => [n.event, n.pausedBy])).toEqual([
      ['paused', 'breaker'],
      ['resumed', undefined],
    ]);
    expect(fake.notified[1].message).toMatch(/circuit breaker closed/);
  });

  it('autoResume: false keeps a tripped breaker paused for a person, and the resume is told', async () => {
    let broken = true;
    const fake = fakeCatalog({ tours: 6, pageSize: 6, failing: (id) => broken && ['t0', 't1'].includes(id) });
    const breaker = {
      consecutiveFailures: 2,
      failureRatio: 1,
      overLast: 20,
      cooldown: 500,
      autoResume: false,
    };
    const result = await run(fake.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(ImportOperator, {
        taskQueue,
        workflowId: uniqueName('op'),
        args: [{ operatorId: 'op-manual', mode: 'full', settings: { window: 1, breaker } }],
      });
      await until(async () => (await handle.query(progressQuery)).status === 'paused');
      broken = false;
      await handle.signal(resumeSignal);
      return handle.result();
    });
    expect(result.status).toBe('completed');
    expect(fake.cooldowns).toEqual([undefined]); // no resume time: it waits for a person
    expect(fake.notified.map((n) => [n.event, n.message])).toEqual([
      ['paused', 'circuit breaker: 2 tours failed in a row'],
      ['resumed', 'resumed by a person'],
    ]);
  });

  it('an import that fails tells the team, then fails as before', async () => {
    const fake = fakeCatalog({ tours: 2, pageSize: 2 });
    const activities = {
      ...fake.activities,
      async settleRemovals() {
        throw ApplicationFailure.nonRetryable('value too long for type', 'DataRejected');
      },
    };
    const outcome = await run(activities, (taskQueue) =>
      env.client.workflow.execute(ImportOperator, {
        taskQueue,
        workflowId: uniqueName('op'),
        args: [{ operatorId: 'op-fails', mode: 'full' }],
      }),
    ).catch((err: unknown) => err);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect(fake.notified.map((n) => [n.event, n.message])).toEqual([
      ['import-failed', 'import failed: DataRejected: value too long for type'],
    ]);
  });
});
