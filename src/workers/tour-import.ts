/**
 * Worker for the `tour-import` task queue: both workflows plus the I/O activities (operator APIs,
 * downloads, PostgreSQL). Run any number on any host. SIGTERM/SIGINT drain in-flight work, then exit.
 */
import { config } from '../config.js';
import { logger } from '../logging.js';
import { createTourImportWorker } from './create.js';
import { buildWorkerDeps } from './runtime.js';

const deps = await buildWorkerDeps();
const worker = await createTourImportWorker(deps, {
  maxActivities: config().workers.tourMaxActivities,
  maxWorkflows: config().workers.tourMaxWorkflows,
  bundlePath: config().workers.workflowBundlePath,
});
logger.info({ taskQueue: worker.options.taskQueue }, 'tour-import worker started');
await worker.run();
await deps.close();
logger.info('tour-import worker drained and stopped');
