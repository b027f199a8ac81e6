import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Committed workflow histories, one file per workflow path (see test/record/histories.record.ts). */
export const FIXTURES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/histories');

export const WORKFLOW_PATHS = [
  'full',
  'delta',
  'pause-resume',
  'breaker',
  'cancel',
  'continue-as-new',
  'push-refresh',
  'removal-guard',
] as const;
export type WorkflowPath = (typeof WORKFLOW_PATHS)[number];
