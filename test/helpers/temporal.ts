import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';

const require = createRequire(import.meta.url);
export const workflowsPath = require.resolve('../../src/workflows/index.ts');

/** A client and worker connection to the suite's Temporal server (started by the global setup). */
export function connectTestEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
}

/** Task queues and ids unique to one test, so tests never pick up each other's work. */
export function uniqueName(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

/** Runs `fn` while a worker of the project's workflows and these activities polls a fresh task queue. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  activities: object,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueName('wf');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath,
    activities,
  });
  return worker.runUntil(fn(taskQueue));
}
