/**
 * How much an image worker takes on, from what its host gives it: resize permits and libuv's thread pool
 * from the cores (os.availableParallelism(), capped by a cgroup v2 CPU quota), a budget of decoded pixels
 * from its memory (IMAGE_WORKER_MEMORY_MB, else the cgroup v2 memory limit, else a default that keeps the
 * worker near 512 MB whatever the core count). Explicit settings win. docs/configuration.md: "Chosen defaults".
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Resizes and pool threads per core. On this 2-core machine raw sharp peaked at 4 images in flight
 * (18.0 images/s against 17.6 at 2) and at UV_THREADPOOL_SIZE 4 (13 % above 2; bench/RESULTS.md, ceiling
 * probes): a resize waits on I/O and on its encodes between bursts of CPU, so two per core keep it busy.
 */
const RESIZES_PER_CORE = 2;
const POOL_THREADS_PER_CORE = 2;
/** libuv's own default, kept as the floor: downloads' file writes and DNS lookups share the pool. */
export const LIBUV_DEFAULT_POOL_THREADS = 4;
/** Memory of an idle image worker (Node, the Temporal SDK, sharp): 247 MB in the bench. */
export const BASELINE_MB = 256;
/** Without a limit from the environment or a cgroup: the RSS an image worker should stay under. */
export const DEFAULT_MEMORY_MB = 512;
/**
 * What a resize holds, measured here with the product's processor on 24 MP sources (peak RSS over an idle
 * process, 1, 4 and 16 at once): PNG 54, 154 and 585 MB (1.5 bytes per source pixel: no shrink-on-load),
 * JPEG 25, 61 and 190 MB (0.5: decoded at 1/4 scale). Rounded up to the PNG case. Every resize also holds
 * its encoders and 1200-px buffer whatever the source: 4 resizes of 1.7 MP JPEGs took the worker from
 * 247 to 365 MB in the bench, about 24 MB each beyond their pixels.
 */
export const BYTES_PER_PIXEL = 2;
export const PER_RESIZE_MB = 24;

/** What the host allows this process, as the kernel reports it. */
export interface HostLimits {
  /** os.availableParallelism(): the CPUs this process may run on. */
  cores: number;
  /** Contents of /sys/fs/cgroup/cpu.max ("max 100000" or "<quota> <period>"); undefined without cgroup v2. */
  cpuMax?: string;
  /** Contents of /sys/fs/cgroup/memory.max ("max" or bytes). */
  memoryMax?: string;
}

/** Explicit settings (environment variables); each one wins over what the host suggests. */
export interface ImageWorkerSettings {
  maxResizes?: number;
  threadPoolSize?: number;
  memoryMb?: number;
}

export interface ImageWorkerSizing {
  /** Cores the sizing counted: available CPUs, capped by the cgroup quota. */
  cores: number;
  maxResizes: number;
  threadPoolSize: number;
  memoryMb: number;
  memoryFrom: 'IMAGE_WORKER_MEMORY_MB' | 'cgroup' | 'default';
  /** Source pixels that resizes may hold at once; one image larger than this runs alone. */
  pixelBudget: number;
  /** What each resize is charged beyond its source's pixels, in pixels (PER_RESIZE_MB). */
  pixelsPerResize: number;
}

export function sizeImageWorker(host: HostLimits, explicit: ImageWorkerSettings = {}): ImageWorkerSizing {
  const cores = Math.max(1, Math.min(host.cores, cgroupCpus(host.cpuMax) ?? Infinity));
  const maxResizes = explicit.maxResizes ?? RESIZES_PER_CORE * cores;
  // A resize occupies a pool thread while it decodes or encodes: more permits than threads would wait.
  const threadPoolSize =
    explicit.threadPoolSize ??
    Math.max(LIBUV_DEFAULT_POOL_THREADS, POOL_THREADS_PER_CORE * cores, maxResizes);
  const cgroupMb = cgroupMemoryMb(host.memoryMax);
  const [memoryMb, memoryFrom] =
    explicit.memoryMb !== undefined
      ? [explicit.memoryMb, 'IMAGE_WORKER_MEMORY_MB' as const]
      : cgroupMb !== undefined
        ? [cgroupMb, 'cgroup' as const]
        : [DEFAULT_MEMORY_MB, 'default' as const];
  const pixelBudget = Math.max(0, Math.floor(((memoryMb - BASELINE_MB) * 2 ** 20) / BYTES_PER_PIXEL));
  const pixelsPerResize = Math.floor((PER_RESIZE_MB * 2 ** 20) / BYTES_PER_PIXEL);
  return { cores, maxResizes, threadPoolSize, memoryMb, memoryFrom, pixelBudget, pixelsPerResize };
}

/** CPUs a cgroup v2 quota amounts to (rounded up: 1.5 CPUs keep two threads partly busy). */
export function cgroupCpus(cpuMax: string | undefined): number | undefined {
  const [quota, period] = (cpuMax ?? '').trim().split(/\s+/);
  if (!quota || quota === 'max' || !Number(period)) return undefined;
  return Math.max(1, Math.ceil(Number(quota) / Number(period)));
}

function cgroupMemoryMb(memoryMax: string | undefined): number | undefined {
  const v = (memoryMax ?? '').trim();
  if (!v || v === 'max' || !Number.isFinite(Number(v))) return undefined;
  return Math.floor(Number(v) / 2 ** 20);
}

/** This process's limits, read from the kernel (cgroup v2 at its usual mount point). */
export function readHostLimits(cgroupDir = '/sys/fs/cgroup'): HostLimits {
  const read = (file: string) => {
    try {
      return readFileSync(`${cgroupDir}/${file}`, 'utf8');
    } catch {
      return undefined; // no cgroup v2 here, or not mounted at the usual place
    }
  };
  return { cores: os.availableParallelism(), cpuMax: read('cpu.max'), memoryMax: read('memory.max') };
}
