/**
 * Prebuilds the workflow bundle so a worker starts in a second instead of webpacking on every start:
 * `tsx scripts/build-workflow-bundle.ts [out-file]` (default dist/workflow-bundle.js). Workers load it
 * when WORKFLOW_BUNDLE_PATH points at it; the Dockerfile runs this at image build time.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_TRACING_MODULES } from '../src/telemetry/tracing.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WORKFLOWS_PATH = path.join(root, 'src/workflows/index.ts');
export const DEFAULT_BUNDLE_PATH = path.join(root, 'dist/workflow-bundle.js');

export async function buildWorkflowBundle(
  outFile = DEFAULT_BUNDLE_PATH,
  workflowsPath = WORKFLOWS_PATH,
): Promise<{ path: string; bytes: number }> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    // Built before the environment is known: the tracing interceptors are in; a worker with tracing off
    // drops their spans (docs/operations.md: Traces).
    workflowInterceptorModules: WORKFLOW_TRACING_MODULES,
    // Bundling logs through console; keep the build output to warnings.
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  const target = path.resolve(outFile);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, code);
  return { path: target, bytes: Buffer.byteLength(code) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildWorkflowBundle(process.argv[2]);
  console.log(`Workflow bundle written to ${out.path} (${Math.round(out.bytes / 1024)} KiB)`);
}
