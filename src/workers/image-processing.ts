/**
 * Worker for the `image-processing` task queue: image downloads and sharp resizes, scaled apart from
 * the tour-import worker.
 * Set UV_THREADPOOL_SIZE and MALLOC_ARENA_MAX before Node starts (see README).
 */
import { Runtime } from '@temporalio/worker';
import { config } from '../config.js';
import { configureSharp } from '../images/resize.js';
import { logger, temporalRuntimeOptions } from '../logging.js';
import { createImageWorker } from './create.js';
import { buildWorkerDeps } from './runtime.js';

// Before any connection: SDK and activity logs become pino JSON with workflowId, activityType and operatorId.
Runtime.install(temporalRuntimeOptions());

const sharpInfo = configureSharp({ concurrency: config().workers.sharpConcurrency });
const deps = await buildWorkerDeps();
const { imageMaxActivities, imageMaxResizes } = config().workers;
const worker = await createImageWorker(deps, {
  maxActivities: imageMaxActivities,
  maxResizes: imageMaxResizes,
});
logger.info({ taskQueue: worker.options.taskQueue, sharp: sharpInfo }, 'image-processing worker started');
await worker.run();
await deps.close();
logger.info('image-processing worker drained and stopped');
