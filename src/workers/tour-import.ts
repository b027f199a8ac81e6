/**
 * Worker for the `tour-import` task queue: the workflows plus the I/O activities (operator APIs,
 * downloads, PostgreSQL, housekeeping). Run any number on any host. SIGTERM/SIGINT drain in-flight work, then exit.
 */
import { Runtime } from '@temporalio/worker';
import { config } from '../config.js';
import { logger, temporalRuntimeOptions } from '../logging.js';
import { startTracing, stopTracing } from '../telemetry/tracing.js';
import { createTourImportWorker } from './create.js';
import { readHostLimits } from './image-sizing.js';
import { buildWorkerDeps, notificationSinks, operatorAdapters } from './runtime.js';
import { sizeTourWorker } from './tour-sizing.js';

// Before any connection: SDK, workflow and activity logs become pino JSON with workflowId and operatorId.
Runtime.install(temporalRuntimeOptions());
// Before the worker and its client exist: they pick their tracing interceptors up then (docs/operations.md: Traces).
startTracing({ serviceName: 'tour-import-worker', endpoint: config().tracing.endpoint });

const sizing = sizeTourWorker(readHostLimits(), { workflowThreads: config().workers.tourWorkflowThreads });
// Before any connection too: a notification sink it cannot use (a weak secret, say) is refused at once.
const sinks = await notificationSinks();
const deps = await buildWorkerDeps();
// The operators file is registered in PostgreSQL before any adapter exists: see registerOperators.
const adapterFor = await operatorAdapters(deps.pool);
const worker = await createTourImportWorker(
  { ...deps, adapterFor, sinks, housekeeping: config().housekeeping },
  {
    maxActivities: config().workers.tourMaxActivities,
    maxWorkflows: config().workers.tourMaxWorkflows,
    bundlePath: config().workers.workflowBundlePath,
    workflowThreads: sizing.workflowThreads,
    maxCachedWorkflows: config().workers.tourMaxCachedWorkflows,
  },
);
logger.info(
  {
    taskQueue: worker.options.taskQueue,
    sizing: {
      ...sizing,
      maxCachedWorkflows: worker.options.maxCachedWorkflows,
      maxConcurrentWorkflowTaskExecutions: config().workers.tourMaxWorkflows,
      maxConcurrentActivityTaskExecutions: config().workers.tourMaxActivities,
    },
  },
  'tour-import worker started',
);
await worker.run();
await deps.close();
await stopTracing();
logger.info('tour-import worker drained and stopped');
