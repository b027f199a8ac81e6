/**
 * Worker for the `tour-import` task queue: both workflows plus the I/O activities (operator APIs,
 * downloads, PostgreSQL). Run any number on any host. SIGTERM/SIGINT drain in-flight work, then exit.
 */
import { Runtime } from '@temporalio/worker';
import { config } from '../config.js';
import { logger, temporalRuntimeOptions } from '../logging.js';
import { createTourImportWorker } from './create.js';
import { buildWorkerDeps } from './runtime.js';

// Before any connection: SDK, workflow and activity logs become pino JSON with workflowId and operatorId.
Runtime.install(temporalRuntimeOptions());

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
