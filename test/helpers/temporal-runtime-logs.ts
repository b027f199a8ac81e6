import { Runtime } from '@temporalio/worker';
import { temporalRuntimeOptions } from '../../src/logging.js';

/**
 * Setup file of the tiers that run workers in the test process: the SDK's, workflows', activities' and
 * the native core's log lines go through src/logging.ts — to the test file's test.log (see
 * test/helpers/test-logs.ts) — as in the worker mains, instead of the SDK's default, straight to stderr.
 * It must run before anything asks for Runtime.instance().
 */
Runtime.install(temporalRuntimeOptions());
