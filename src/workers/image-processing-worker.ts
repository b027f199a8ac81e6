/**
 * The image worker itself, run by src/workers/image-processing.ts once libuv's pool has its size:
 * image downloads and sharp resizes on the `image-processing` task queue, scaled apart from the
 * tour-import worker.
 */
import { Runtime } from '@temporalio/worker';
import { config } from '../config.js';
import { configureSharp } from '../images/resize.js';
import { createPixelBudget } from '../images/pixel-budget.js';
import { logger, temporalRuntimeOptions } from '../logging.js';
import { startTracing, stopTracing } from '../telemetry/tracing.js';
import { createImageWorker } from './create.js';
import type { ImageWorkerSizing } from './image-sizing.js';
import { buildWorkerDeps } from './runtime.js';
import { measureThreadPool } from './thread-pool.js';

export async function runImageWorker(sizing: ImageWorkerSizing): Promise<void> {
  // Before any connection: SDK and activity logs become pino JSON with workflowId, activityType and operatorId.
  Runtime.install(temporalRuntimeOptions());
  startTracing({ serviceName: 'tour-import-image-worker', endpoint: config().tracing.endpoint });

  // Measured, not assumed: the size libuv gave this process (docs/configuration.md: "Chosen defaults").
  const threadPool = await measureThreadPool(sizing.threadPoolSize + 8);
  const sharpInfo = configureSharp({ concurrency: config().workers.sharpConcurrency });
  const deps = await buildWorkerDeps();
  // Temp files of a worker that died here mid-download (Housekeeping sweeps only its own host's folder).
  const tempFilesSwept = await deps.store.sweepTemp(config().housekeeping.tempFileMaxAgeMs);
  const worker = await createImageWorker(
    {
      ...deps,
      images: { ...deps.images, pixelBudget: createPixelBudget(sizing.pixelBudget, sizing.pixelsPerResize) },
    },
    { maxActivities: config().workers.imageMaxActivities, maxResizes: sizing.maxResizes },
  );
  logger.info(
    {
      pid: process.pid,
      taskQueue: worker.options.taskQueue,
      sharp: sharpInfo,
      tempFilesSwept,
      sizing,
      threadPool: { requested: sizing.threadPoolSize, size: threadPool },
    },
    'image-processing worker started',
  );
  await worker.run();
  await deps.close();
  await stopTracing();
  logger.info('image-processing worker drained and stopped');
}
