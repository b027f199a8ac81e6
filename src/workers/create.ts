import { createRequire } from 'node:module';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { TASK_QUEUES } from '../constants.js';
import type { Pool } from '../db/pool.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { OperatorAdapter } from '../operators/types.js';
import {
  createOperatorImportActivities,
  type OperatorSchedules,
} from '../activities/operator-import/index.js';
import { createNotifyActivities } from '../activities/notify.js';
import type { Sink } from '../notify/sinks.js';
import { createTourActivities } from '../activities/tour.js';
import { createImageActivities } from '../activities/images.js';
import { createHousekeepingActivities } from '../activities/housekeeping.js';
import { DEFAULT_HOUSEKEEPING, type HousekeepingPolicy } from '../domain/housekeeping.js';
import type { ImageProcessorOptions } from '../images/resize.js';
import { tracingWorkerOptions } from '../telemetry/tracing.js';

const require = createRequire(import.meta.url);

export interface WorkerDeps {
  connection: NativeConnection;
  namespace: string;
  pool: Pool;
  store: BlobStore;
  adapterFor(operatorId: string): Promise<OperatorAdapter>;
  isWorkflowRunning(workflowId: string): Promise<boolean>;
  /** Where notifications go (src/notify/sinks.ts); none: they are only recorded. */
  sinks?: Sink[];
  /** Paused and resumed with the operator; unset: schedules are left alone. */
  schedules?: OperatorSchedules;
  images: {
    maxBytes: number;
    allowPrivateHosts: readonly string[];
    /** See IMAGE_RECHECK_MINUTES; 0 or unset: every image is asked for (conditional GET). */
    recheckAfterMs?: number;
  } & ImageProcessorOptions;
  /** Retention and blob GC of the Housekeeping workflow (docs/operations.md: Housekeeping); unset: the defaults. */
  housekeeping?: HousekeepingPolicy;
}

/** Workflows and the operator, PostgreSQL and housekeeping activities on the `tour-import` queue. */
export async function createTourImportWorker(
  deps: WorkerDeps,
  o: {
    taskQueue?: string;
    maxActivities?: number;
    maxWorkflows?: number;
    bundlePath?: string;
    /** Threads running workflow code (src/workers/tour-sizing.ts); unset: the SDK's one. */
    workflowThreads?: number;
    /** Unset: the SDK's, from the heap limit. */
    maxCachedWorkflows?: number;
  } = {},
): Promise<Worker> {
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = o.bundlePath
    ? { workflowBundle: { codePath: o.bundlePath } }
    : { workflowsPath: require.resolve('../workflows/index.ts') };
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: o.taskQueue ?? TASK_QUEUES.tourImport,
    ...workflows,
    activities: {
      ...createOperatorImportActivities(deps),
      ...createTourActivities(deps),
      ...createHousekeepingActivities({
        ...deps,
        policy: deps.housekeeping ?? DEFAULT_HOUSEKEEPING,
        recheckAfterMs: deps.images.recheckAfterMs,
      }),
      ...createNotifyActivities({ pool: deps.pool, sinks: deps.sinks ?? [] }),
    },
    maxConcurrentActivityTaskExecutions: o.maxActivities ?? 50,
    maxConcurrentWorkflowTaskExecutions: o.maxWorkflows ?? 100,
    ...(o.workflowThreads ? { workflowThreadPoolSize: o.workflowThreads } : {}),
    ...(o.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: o.maxCachedWorkflows } : {}),
    shutdownGraceTime: '30 seconds',
    // docs/operations.md: Traces — workflows, their activities and children in one trace when tracing is on.
    ...tracingWorkerOptions(!o.bundlePath),
  });
}

/**
 * Images on their own `image-processing` queue, scaled separately: each activity downloads one image
 * and resizes it; `maxActivities` images are in flight, `maxResizes` of them on the CPU at once, the
 * operators' images taking turns for the CPU (their fairness keys). Slots are cheap (an image waiting
 * for its download or for the CPU holds one), so the default keeps a big import's queued images from
 * taking every slot a small import's need.
 */
export async function createImageWorker(
  deps: Pick<WorkerDeps, 'connection' | 'namespace' | 'pool' | 'store' | 'images'>,
  o: { taskQueue?: string; maxActivities?: number; maxResizes?: number } = {},
): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: o.taskQueue ?? TASK_QUEUES.imageProcessing,
    activities: createImageActivities({ ...deps, maxResizes: o.maxResizes }),
    maxConcurrentActivityTaskExecutions: o.maxActivities ?? 64,
    shutdownGraceTime: '30 seconds',
    ...tracingWorkerOptions(false),
  });
}
