import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pauseSignal, progressQuery, resumeSignal } from '../../src/workflows/import-operator.js';
import { buildWorkflowBundle } from '../../scripts/build-workflow-bundle.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/**
 * The project's deploy rule (docs/development.md "Deploying workflow changes"): every change to a workflow's
 * commands ships behind `patched()`, so workers of the new release take over imports started, and
 * paused, under the old one. Shown on the real server: an import paused under release N, N's workers
 * replaced by N+1's whose ImportOperator has a new step, then resumed and completed. The control: the
 * same change without `patched()` cannot replay the paused import's history.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const PATCH_ID = 'deploy-test-new-step';
const OPERATOR = {
  id: 'deploy',
  dialect: 'C' as const,
  seed: 71,
  tourCount: 12,
  imagesPerTour: { min: 1, max: 1 },
  imageWidth: 400,
  imageHeight: 267,
};

/**
 * A copy of src/ with a step added at the top of ImportOperator (a timer: a new command before every
 * command the old release recorded), guarded by `patched()` or not, bundled like a release.
 */
function releaseWithNewStep(dir: string, guarded: boolean): Promise<{ path: string }> {
  const copy = path.join(dir, guarded ? 'patched' : 'unpatched');
  cpSync(path.join(ROOT, 'src'), path.join(copy, 'src'), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  const file = path.join(copy, 'src/workflows/import-operator.ts');
  const source = readFileSync(file, 'utf8');
  const signature = source.indexOf('export async function ImportOperator(');
  const bodyStart = source.indexOf('{\n', signature) + 2;
  expect(signature, 'ImportOperator found in the source').toBeGreaterThan(0);
  const step = guarded ? `  if (wf.patched('${PATCH_ID}')) await wf.sleep(1);\n` : '  await wf.sleep(1);\n';
  writeFileSync(
    file,
    `import * as wf from '@temporalio/workflow';\n${source.slice(0, bodyStart)}${step}${source.slice(bodyStart)}`,
  );
  return buildWorkflowBundle(
    path.join(dir, `${guarded ? 'patched' : 'unpatched'}.js`),
    path.join(copy, 'src/workflows/index.ts'),
  );
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** The ids of the patches a history recorded (markers written by `patched()`). */
function patchesIn(events: HistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const data =
      marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : null;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
}

describe('deploying a workflow change while an import is paused', () => {
  let p: Pipeline;
  let dir: string;
  let releaseN: string;
  let patched: string;
  let unpatched: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deploy-'));
    releaseN = (await buildWorkflowBundle(path.join(dir, 'release-n.js'))).path;
    patched = (await releaseWithNewStep(dir, true)).path;
    unpatched = (await releaseWithNewStep(dir, false)).path;
    p = await startPipeline('deploy', [OPERATOR], { tourWorkerBundle: releaseN });
    p.sim.operator('deploy').addFaults('detail', [{ type: 'latency', ms: 200 }]);
  });
  afterAll(async () => {
    await p?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an import paused under release N completes on the workers of N+1, whose change is patched', async () => {
    const handle = await p.startImport('deploy', 'full', { window: 2 });
    await until(async () => (await handle.query(progressQuery)).done >= 2);
    await handle.signal(pauseSignal, { reason: 'deploying release N+1' });
    await until(async () => {
      const progress = await handle.query(progressQuery);
      return progress.status === 'paused' && progress.running === 0;
    });
    const pausedAt = (await handle.query(progressQuery)).done;

    // Release N+1 replaces N (N's workers stop; nothing of N runs any more).
    await p.replaceTourWorker(patched);

    // The control: without patched(), N+1 could not take over the paused import.
    const history = await handle.fetchHistory();
    await expect(
      Worker.runReplayHistory({ workflowBundle: { codePath: unpatched } }, history, handle.workflowId),
    ).rejects.toThrow(DeterminismViolationError);

    await handle.signal(resumeSignal);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.progress).toMatchObject({ done: 12, failed: 0 });
    expect(pausedAt).toBeLessThan(12);
    const tours = await p.db.pool.query(
      `SELECT count(*)::int AS n FROM tours WHERE operator_id = 'deploy' AND status = 'active'`,
    );
    expect(tours.rows[0].n).toBe(12);

    // No workflow task of this import failed (a non-determinism error would fail them over and over),
    // and the old import kept the old path: no marker of the new step in its history.
    const events = (await handle.fetchHistory()).events ?? [];
    const failedTasks = events.filter((e) => e.workflowTaskFailedEventAttributes);
    expect(failedTasks).toEqual([]);
    expect(patchesIn(events)).not.toContain(PATCH_ID);

    // A new import on N+1 takes the new step, and records its patch marker.
    const next = await p.startImport('deploy', 'delta');
    expect((await next.result()).status).toBe('completed');
    const nextEvents = (await next.fetchHistory()).events ?? [];
    expect(patchesIn(nextEvents)).toContain(PATCH_ID);
  });
});
