import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import {
  QUERIES,
  TASK_QUEUES,
  WORKFLOW_TYPES,
  importOperatorWorkflowId,
  operatorPriority,
} from '../../constants.js';
import type { Pool } from '../../db/pool.js';
import type {
  ImportMode,
  ImportOperatorInput,
  ImportOperatorResult,
  ImportStatus,
  ImportTourResult,
  Progress,
} from '../../workflows/types.js';
import { CliError, EXIT } from '../errors.js';
import { requireOperator } from '../../operations/operators.js';
import { startOrRefreshTourImport } from '../../operations/start-or-refresh-tour.js';

export interface QueueOptions {
  /** Defaults to the product's queues; tests pass their own. */
  taskQueue?: string;
  imageTaskQueue?: string;
}

export interface StartedImport {
  operatorId: string;
  mode: ImportMode;
  workflowId: string;
  runId: string;
}

/**
 * Starts an ImportOperator workflow. The id carries the time so every manual import is its own
 * execution; whether another import of the operator is running is decided by the workflow's import
 * lock (it ends as `skipped`), the same rule that protects scheduled runs.
 */
export async function startImport(
  deps: { pool: Pool; client: Client },
  operatorId: string,
  o: QueueOptions & { full?: boolean; now?: Date } = {},
): Promise<StartedImport> {
  await requireOperator(deps.pool, operatorId);
  const mode: ImportMode = o.full ? 'full' : 'delta';
  const input: ImportOperatorInput = { operatorId, mode };
  if (o.imageTaskQueue) input.settings = { imageTaskQueue: o.imageTaskQueue };
  const workflowId = `${importOperatorWorkflowId(operatorId)}:${(o.now ?? new Date()).toISOString()}`;
  const handle = await deps.client.workflow.start(WORKFLOW_TYPES.importOperator, {
    taskQueue: o.taskQueue ?? TASK_QUEUES.tourImport,
    workflowId,
    args: [input],
    priority: operatorPriority(operatorId),
  });
  return { operatorId, mode, workflowId, runId: handle.firstExecutionRunId };
}

export interface ImportOutcome {
  workflowId: string;
  status: ImportStatus;
  message: string;
  progress: Progress | null;
}

/**
 * Follows an import until it ends, feeding `onProgress` from the progress query. A paused import
 * waits for a human, so waiting ends there too (status `paused`) instead of hanging.
 */
export async function waitForImport(
  client: Client,
  workflowId: string,
  onProgress: (p: Progress) => void = () => undefined,
  pollMs = 500,
): Promise<ImportOutcome> {
  const handle: WorkflowHandle = client.workflow.getHandle(workflowId);
  let settled: ImportOutcome | undefined;
  const done = handle.result().then(
    (r: ImportOperatorResult) => (settled = { workflowId, ...r }),
    (err) => (settled = { workflowId, ...failureOutcome(err), progress: null }),
  );
  let last: Progress | null = null;
  while (!settled) {
    const p = await queryProgress(client, workflowId);
    if (p && !settled) {
      last = p;
      onProgress(p);
      if (p.paused) return { workflowId, status: 'paused', message: `paused: ${p.pauseReason}`, progress: p };
    }
    await Promise.race([done, sleep(pollMs)]);
  }
  if (settled.progress) onProgress(settled.progress);
  return { ...settled, progress: settled.progress ?? last };
}

/**
 * The import's live progress, or null when it cannot be had soon: a query waits for a worker, and
 * with none polling (all stopped, or a stale lock) it would otherwise hang the command.
 */
export async function queryProgress(
  client: Client,
  workflowId: string,
  timeoutMs = 3_000,
): Promise<Progress | null> {
  const query = client.workflow
    .getHandle(workflowId)
    .query<Progress>(QUERIES.progress)
    .catch(() => null);
  return Promise.race([query, sleep(timeoutMs, null, { ref: false })]);
}

function failureOutcome(err: unknown): { status: ImportStatus; message: string } {
  if (!(err instanceof WorkflowFailedError)) throw err;
  const cancelled = err.cause?.name === 'CancelledFailure';
  const message = err.cause?.message ?? err.message;
  return { status: cancelled ? 'cancelled' : 'failed', message };
}

export function importExitCode(status: ImportStatus): number {
  switch (status) {
    case 'completed':
    case 'running':
      return EXIT.ok;
    case 'skipped':
      return EXIT.skipped;
    case 'paused':
      return EXIT.paused;
    default:
      return EXIT.failed;
  }
}

/** Imports one tour now, unless its operator is paused: see startOrRefreshTourImport. */
export async function startTourImport(
  deps: { pool: Pool; client: Client },
  operatorId: string,
  externalId: string,
  o: QueueOptions & { force?: boolean } = {},
): Promise<{ workflowId: string; runId: string }> {
  const op = await requireOperator(deps.pool, operatorId);
  if (op.paused) {
    // A paused operator imports nothing, pushed or listed; resume it first.
    throw new CliError(
      `operator "${operatorId}" is paused (${op.pauseReason ?? 'no reason given'}); run \`tour-import resume ${operatorId}\` first`,
      EXIT.skipped,
    );
  }
  return startOrRefreshTourImport(deps.client, {
    operatorId,
    externalId,
    taskQueue: o.taskQueue ?? TASK_QUEUES.tourImport,
    imageTaskQueue: o.imageTaskQueue,
    force: o.force,
  });
}

export async function waitForTourImport(
  client: Client,
  workflowId: string,
): Promise<{ status: ImportStatus; message: string; result: ImportTourResult | null }> {
  try {
    const result = await client.workflow.getHandle(workflowId).result();
    return { status: 'completed', message: `tour ${result.outcome}`, result };
  } catch (err) {
    return { ...failureOutcome(err), result: null };
  }
}
