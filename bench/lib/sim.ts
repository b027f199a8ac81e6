/** The operator simulator in a child process (bench/lib/sim-child.ts), driven over IPC. */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopChild } from '../../tooling/servers/dev-server.js';
import type { OperatorInfo } from '../../tooling/simulator/operator.js';
import type { OperatorSpecInput } from '../../tooling/simulator/types.js';
import { ROOT } from './common.js';
import type { Counters, RouteRequests, SimRequest } from './sim-child.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface SimHandle {
  url: string;
  pid: number;
  operators: OperatorInfo[];
  counters(reset?: boolean): Promise<Counters>;
  /** The simulator's own per-route request counts of these operators (never reset). */
  requests(operators: string[]): Promise<RouteRequests>;
  change(operator: string, fraction: number): Promise<{ changedTours: number; changedImages: number }>;
  close(): Promise<void>;
}

/**
 * Where the simulator keeps the images it paints between runs: a picture is a function of its key (the
 * catalog's seed, image id and revision, and the size), so one folder per version of the painter.
 */
export function imageCacheDir(): string {
  const painter = readFileSync(path.join(ROOT, 'tooling/simulator/images.ts'));
  const version = createHash('sha256').update(painter).digest('hex').slice(0, 16);
  return path.join(os.homedir(), '.cache', 'tour-import', 'bench-images', version);
}

/**
 * The simulator with its images cached on disk in `cacheDir` (none: painted every run), painting on
 * libuv threads sized to the machine (two per core, as the image worker) so a cold catalog paints in parallel.
 */
export async function startSim(specs: OperatorSpecInput[], cacheDir?: string): Promise<SimHandle> {
  const uv = String(Math.max(4, 2 * os.availableParallelism()));
  const child = fork(path.join(ROOT, 'bench/lib/sim-child.ts'), [JSON.stringify(specs), cacheDir ?? ''], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, UV_THREADPOOL_SIZE: uv },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ url: string; operators: OperatorInfo[] }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string; operators: OperatorInfo[] }));
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  let next = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  child.on('message', (m: { id?: number; ok?: unknown; error?: string }) => {
    const p = m.id === undefined ? undefined : pending.get(m.id);
    if (!p) return;
    pending.delete(m.id!);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m.ok);
  });
  const call = <T>(req: WithoutId<SimRequest>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...req, id });
    });
  return {
    url: ready.url,
    pid: child.pid!,
    operators: ready.operators,
    counters: (reset) => call<Counters>({ cmd: 'counters', reset }),
    requests: (operators) => call<RouteRequests>({ cmd: 'requests', operators }),
    change: (operator, fraction) => call({ cmd: 'change', operator, fraction, replaceImage: true }),
    close: async () => {
      await Promise.race([call({ cmd: 'close' }), new Promise((r) => setTimeout(r, 3000))]);
      await stopChild(child, 3000);
    },
  };
}
