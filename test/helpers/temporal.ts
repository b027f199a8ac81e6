import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { TestWorkflowEnvironment } from '@temporalio/testing';
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
