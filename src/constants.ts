/** Names shared by workers, clients and workflows. Change them here only. */
export const TASK_QUEUES = {
  tourImport: 'tour-import',
  imageProcessing: 'image-processing',
} as const;

export const WORKFLOW_TYPES = {
  importOperator: 'ImportOperator',
  importTour: 'ImportTour',
  housekeeping: 'Housekeeping',
} as const;

export const SEARCH_ATTRIBUTES = {
  operatorId: 'OperatorId',
  importMode: 'ImportMode',
  importStatus: 'ImportStatus',
} as const;

export const SIGNALS = {
  pause: 'pause',
  resume: 'resume',
  refresh: 'refresh',
  makeRoom: 'makeRoom',
  roomFreed: 'roomFreed',
} as const;
export const QUERIES = { progress: 'progress' } as const;

/**
 * The priority of everything one operator's imports do: its ImportOperator, ImportTour children
 * (scheduled, pushed or started by hand) and all their activities share the operator's fairness key.
 * With `matching.enableFairness` on the server, tasks are dispatched fairly between keys, so a big
 * catalog cannot starve a small one's; without it the key is ignored.
 */
export function operatorPriority(
  operatorId: string,
  priorityKey?: number,
): { fairnessKey: string; priorityKey?: number } {
  return priorityKey ? { fairnessKey: operatorId, priorityKey } : { fairnessKey: operatorId };
}

/** Temporal's priority key when none is set: with the default five levels, 3 (1 goes first). */
export const DEFAULT_PRIORITY_KEY = 3;

/**
 * The priority key of the tours an import starts while it makes room for a smaller import (see
 * src/workflows/room.ts): their tasks, and the image worker's resizes, go after everyone else's.
 */
export const MAKING_ROOM_PRIORITY_KEY = 4;

export function importOperatorWorkflowId(operatorId: string): string {
  return `import:${operatorId}`;
}

/** A dry run's workflow id: its own, so it never meets the operator's imports. */
export function dryRunWorkflowId(operatorId: string, at: Date): string {
  return `dry-run:${operatorId}:${at.toISOString()}`;
}

export function importTourWorkflowId(operatorId: string, externalId: string): string {
  return `tour:${operatorId}:${externalId}`;
}

/** Housekeeping's schedule starts it under this id (plus the scheduled time); overlap SKIP: one at a time. */
export const HOUSEKEEPING_WORKFLOW_ID = 'housekeeping';
