import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importTourWorkflowId } from '../../src/constants.js';
import { ImportTour, refreshSignal } from '../../src/workflows/import-tour.js';
import { pauseSignal, progressQuery, resumeSignal } from '../../src/workflows/import-operator.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { FIXTURES_DIR, WORKFLOW_PATHS, type WorkflowPath } from '../helpers/histories.js';

/**
 * `npm run histories:record`: runs every workflow path on the real pipeline and writes its histories to
 * test/fixtures/histories/, the release's baseline that `npm test` replays the current code against
 * (test/unit/workflows/replay-fixtures.test.ts). Refresh them at a release only (docs/development.md, "Deploying
 * workflow changes").
 */
const small = { imagesPerTour: { min: 1, max: 1 }, imageWidth: 120, imageHeight: 80 };
const OPERATORS = [
  { id: 'rec-a', dialect: 'A' as const, seed: 81, tourCount: 10, ...small },
  { id: 'rec-b', dialect: 'B' as const, seed: 82, tourCount: 10, ...small },
  { id: 'rec-c', dialect: 'C' as const, seed: 83, tourCount: 10, ...small },
  { id: 'rec-d', dialect: 'D' as const, seed: 85, tourCount: 10, ...small },
  { id: 'rec-guard', dialect: 'A' as const, seed: 84, tourCount: 10, imagesPerTour: { min: 0, max: 0 } },
];
const retry = { retry: { initialIntervalMs: 100, maximumAttempts: 2 } };

describe('record workflow histories', () => {
  let p: Pipeline;
  beforeAll(async () => void (p = await startPipeline('record', OPERATORS)));
  afterAll(async () => p?.close());

  /** Every run of these workflows (continue-as-new makes several), oldest first. */
  async function save(name: WorkflowPath, workflowIds: string[]) {
    const histories = [];
    for (const workflowId of workflowIds) {
      const runs = [];
      for await (const wf of p.env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
        runs.push(wf);
      runs.sort((x, y) => x.startTime.getTime() - y.startTime.getTime());
      for (const run of runs) {
        const history = await p.env.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
        // Protobuf bytes, as the server keeps them: the exact history, whatever the JSON mapping does.
        const bytes = temporal.api.history.v1.History.encode(history).finish();
        histories.push({ workflowId, runId: run.runId, history: Buffer.from(bytes).toString('base64') });
      }
    }
    expect(histories.length).toBeGreaterThan(0);
    writeFileSync(path.join(FIXTURES_DIR, `${name}.json`), JSON.stringify(histories) + '\n');
  }
  const child = (op: string) => importTourWorkflowId(op, p.sim.operator(op).activeCodes()[0]);

  it('full imports of each dialect, with a failing image', async () => {
    p.sim.operator('rec-a').addFaults('image', [{ type: 'html-as-image', times: 1 }]);
    const ids: string[] = [];
    for (const op of ['rec-a', 'rec-b', 'rec-c', 'rec-d']) {
      const h = await p.startImport(op, 'full', retry);
      await h.result();
      ids.push(h.workflowId, child(op));
    }
    await save('full', ids);
  });

  it('a delta with a change and a removal', async () => {
    const [changed, removed] = p.sim.operator('rec-a').activeCodes();
    p.sim.operator('rec-a').change(changed);
    p.sim.operator('rec-a').remove(removed);
    const h = await p.startImport('rec-a', 'delta', retry);
    await h.result();
    await save('delta', [h.workflowId, importTourWorkflowId('rec-a', changed)]);
  });

  it('pause and resume', async () => {
    p.sim.operator('rec-c').addFaults('detail', [{ type: 'latency', ms: 300 }]);
    const h = await p.startImport('rec-c', 'full', { ...retry, window: 1, force: true });
    await until(async () => (await h.query(progressQuery)).done >= 1);
    await h.signal(pauseSignal, { reason: 'recording' });
    await until(async () => (await h.query(progressQuery)).status === 'paused');
    await h.signal(resumeSignal);
    await h.result();
    p.sim.operator('rec-c').clearFaults();
    await save('pause-resume', [h.workflowId]);
  });

  it('the circuit breaker trips, and the import finishes after resume', async () => {
    p.sim.operator('rec-c').addFaults('detail', [{ type: 'error', status: 500 }]);
    const breaker = { consecutiveFailures: 2, failureRatio: 1, overLast: 20 };
    const h = await p.startImport('rec-c', 'full', { ...retry, window: 1, force: true, breaker });
    await until(async () => (await h.query(progressQuery)).status === 'paused');
    p.sim.operator('rec-c').clearFaults();
    await h.signal(resumeSignal);
    await h.result();
    await save('breaker', [h.workflowId]);
  });

  it('a cancelled import', async () => {
    p.sim.operator('rec-c').addFaults('detail', [{ type: 'latency', ms: 500 }]);
    const h = await p.startImport('rec-c', 'full', { ...retry, window: 1, force: true });
    await until(async () => (await h.query(progressQuery)).done >= 1);
    await h.cancel();
    await h.result().catch(() => undefined);
    p.sim.operator('rec-c').clearFaults();
    await save('cancel', [h.workflowId]);
  });

  it('continue-as-new', async () => {
    const h = await p.startImport('rec-b', 'full', { ...retry, force: true, toursPerRun: 2 });
    await h.result();
    await save('continue-as-new', [h.workflowId]);
  });

  it('a push import refreshed while it runs', async () => {
    const code = p.sim.operator('rec-c').activeCodes()[1];
    p.sim.operator('rec-c').addFaults('detail', [{ type: 'latency', ms: 500, times: 1 }]);
    const workflowId = importTourWorkflowId('rec-c', code);
    const h = await p.env.client.workflow.start(ImportTour, {
      taskQueue: p.taskQueue,
      workflowId,
      args: [{ operatorId: 'rec-c', externalId: code, force: true, imageTaskQueue: p.imageTaskQueue }],
    });
    await h.signal(refreshSignal);
    await h.result();
    await save('push-refresh', [workflowId]);
  });

  it('removals held by the removal guard', async () => {
    await (await p.startImport('rec-guard', 'full', retry)).result();
    for (const code of p.sim.operator('rec-guard').activeCodes().slice(0, 5))
      p.sim.operator('rec-guard').remove(code);
    const h = await p.startImport('rec-guard', 'delta', retry);
    expect((await h.result()).progress.heldRemovals).toBe(5);
    await save('removal-guard', [h.workflowId]);
  });

  it('records every path', () => {
    expect(WORKFLOW_PATHS.length).toBe(8);
  });
});
