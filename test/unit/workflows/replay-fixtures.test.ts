import { readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_TRACING_MODULES, tracingWorkerOptions } from '../../../src/telemetry/tracing.js';
import { temporalLogger } from '../../../src/logging.js';
import { FIXTURES_DIR, WORKFLOW_PATHS } from '../../helpers/histories.js';
import { workflowsPath } from '../../helpers/temporal.js';
// The unit tier does not load the SDK for every file; this one replays and bundles, and their log
// lines go to the test's log file as in the other tiers (see vitest.config.ts).
import '../../helpers/temporal-runtime-logs.js';

/**
 * The current workflow code replays the histories of the last release (test/fixtures/histories): a
 * workflow change that would break imports running during a deploy fails here until it is behind
 * `patched()` (src/workflows/patches.ts). Refresh the fixtures only at a release:
 * `npm run histories:record`. They replay with the tracing interceptors too (docs/operations.md: Traces), as the
 * prebuilt bundle carries them: those add headers and sink calls, never commands.
 */
describe.each([
  ['', []],
  [' with the tracing interceptors', WORKFLOW_TRACING_MODULES],
])('replay of the committed workflow histories%s', (_, workflowInterceptorModules) => {
  let workflowBundle: WorkflowBundle;
  beforeAll(
    async () =>
      void (workflowBundle = await bundleWorkflowCode({
        workflowsPath,
        workflowInterceptorModules,
        logger: temporalLogger(),
      })),
    120_000,
  );

  it.each(WORKFLOW_PATHS)('%s replays without non-determinism', async (name) => {
    const file = path.join(FIXTURES_DIR, `${name}.json`);
    const histories: { workflowId: string; history: string }[] = JSON.parse(readFileSync(file, 'utf8'));
    expect(histories.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for await (const r of Worker.runReplayHistories(
      { workflowBundle, replayName: `fixtures-${name}`, sinks: tracingWorkerOptions(false).sinks },
      histories.map((h) => ({
        workflowId: h.workflowId,
        history: temporal.api.history.v1.History.decode(Buffer.from(h.history, 'base64')),
      })),
    ))
      if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
    expect(failures).toEqual([]);
  });
});
