/**
 * The tour-import worker's defaults from its host (docs/configuration.md: "Chosen defaults"). Its CPU goes to workflow
 * code, which runs on `workflowThreadPoolSize` threads (the SDK's default is one), and to activities,
 * local activities and the SDK's core on the main thread. One workflow thread spends about 25 ms of CPU
 * per changed tour (bench/RESULTS.md), so it caps a worker at about 40 tours/s whatever the host: on more
 * cores, more threads. Half the cores, since the main thread's share is about the same; at most 8.
 */
import { cgroupCpus, type HostLimits } from './image-sizing.js';

export const WORKFLOW_THREADS_MAX = 8;

export interface TourWorkerSizing {
  /** Cores the sizing counted: available CPUs, capped by the cgroup quota. */
  cores: number;
  workflowThreads: number;
}

export function sizeTourWorker(
  host: HostLimits,
  explicit: { workflowThreads?: number } = {},
): TourWorkerSizing {
  const cores = Math.max(1, Math.min(host.cores, cgroupCpus(host.cpuMax) ?? Infinity));
  const workflowThreads =
    explicit.workflowThreads ?? Math.max(1, Math.min(WORKFLOW_THREADS_MAX, Math.floor(cores / 2)));
  return { cores, workflowThreads };
}
