import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../src/workflows/import-operator.js';
import type { ImportOperatorResult, Progress } from '../src/workflows/types.js';

/** Starts one of the project's programs as its own process (as a user would), logging to a file. */
export function startProcess(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  logDir: string,
): ChildProcess {
  mkdirSync(logDir, { recursive: true });
  const log = openSync(path.join(logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env, stdio: ['ignore', log, log] });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null)
      console.error(`${name} exited with code ${code}; see ${logDir}/${name}.log`);
  });
  return child;
}

const handled = (p: Progress) => p.done + p.unchanged + p.failed + p.removed;
const settled = (p: Progress) => p.status !== 'running';

/**
 * Follows imports with one progress bar each (fed by the workflows' progress query) until every one
 * has finished or paused. Returns the last progress of each.
 */
export async function followImports(handles: Map<string, WorkflowHandle>): Promise<Map<string, Progress>> {
  const bars = new cliProgress.MultiBar(
    {
      format: ' {operator} |{bar}| {value}/{total} tours  {status}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const last = new Map<string, Progress>();
  const rows = new Map(
    [...handles.keys()].map((op) => [op, bars.create(1, 0, { operator: op.padEnd(14), status: 'starting' })]),
  );
  try {
    while (last.size < handles.size || ![...last.values()].every(settled)) {
      for (const [op, handle] of handles) {
        const p = await progressOf(handle);
        if (!p) continue;
        last.set(op, p);
        const detail = p.paused
          ? `paused: ${p.pauseReason}`
          : `${p.status}, ${p.running} running, ${p.failed} failed`;
        // Tours removed by absence from the listing are handled without being listed.
        rows.get(op)!.setTotal(Math.max(p.listed, handled(p), 1));
        rows.get(op)!.update(handled(p), { operator: op.padEnd(14), status: detail });
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    bars.stop();
  }
  return last;
}

/** The live progress, or the final one once the workflow has closed. */
async function progressOf(handle: WorkflowHandle): Promise<Progress | undefined> {
  const { status } = await handle.describe();
  if (status.name === 'RUNNING') return handle.query(progressQuery).catch(() => undefined);
  if (status.name === 'COMPLETED') return ((await handle.result()) as ImportOperatorResult).progress;
  return undefined;
}

/** Leftovers of an earlier demo (its database schema is recreated) must not be picked up by the new workers. */
export async function terminateOpenImports(client: Client): Promise<number> {
  let n = 0;
  for await (const wf of client.workflow.list({ query: `ExecutionStatus = "Running"` })) {
    if (wf.type !== 'ImportOperator' && wf.type !== 'ImportTour') continue;
    await client.workflow.getHandle(wf.workflowId, wf.runId).terminate('superseded by a new demo run');
    n++;
  }
  return n;
}
