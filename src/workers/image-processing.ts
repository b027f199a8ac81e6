/**
 * Entry point of the image worker (`npm run worker:images`). Sizes it for its host first
 * (src/workers/image-sizing.ts): resize permits, a budget of decoded pixels, and libuv's thread pool,
 * which sharp runs on. The pool takes its size from UV_THREADPOOL_SIZE when the process starts reading its
 * modules, before any code here runs; so unless the variable is set (an explicit setting wins) or the
 * host's size is libuv's default anyway, this process runs the worker as its child with the variable set
 * and stands for it (signals, exit code). Set MALLOC_ARENA_MAX before Node starts too (see docs/configuration.md).
 */
import { config } from '../config.js';
import { LIBUV_DEFAULT_POOL_THREADS, readHostLimits, sizeImageWorker } from './image-sizing.js';
import { dieWithLauncher, relaunchWith } from './thread-pool.js';

const { workers } = config();
const sizing = sizeImageWorker(readHostLimits(), {
  maxResizes: workers.imageMaxResizes,
  threadPoolSize: workers.uvThreadpoolSize,
  memoryMb: workers.imageMemoryMb,
});
// An empty UV_THREADPOOL_SIZE gave this process one thread (libuv reads it as 0): relaunch then too.
const poolIsWrong = sizing.threadPoolSize !== LIBUV_DEFAULT_POOL_THREADS || workers.uvThreadpoolSizeEmpty;
if (workers.uvThreadpoolSize === undefined && poolIsWrong)
  await relaunchWith({ UV_THREADPOOL_SIZE: String(sizing.threadPoolSize) });

dieWithLauncher();
const { runImageWorker } = await import('./image-processing-worker.js');
await runImageWorker(sizing);
