/** Worker processes started the way a user starts them: `tsx src/workers/<kind>.ts` with environment variables. */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopChild } from '../../tooling/servers/dev-server.js';
import { onCpus, ROOT } from './common.js';
import { resetPeakRss, treeCpuMs, treePeakRssMb } from './proc.js';

export type WorkerKind = 'tour-import' | 'image-processing';

export interface WorkerProcess {
  kind: WorkerKind;
  child: ChildProcess;
  logFile: string;
  cpuMs(): number;
  peakRssMb(): number;
  resetPeak(): void;
  stop(): Promise<void>;
}

export async function startWorker(
  kind: WorkerKind,
  env: Record<string, string>,
  logFile: string,
  /** CPUs it may run on (taskset list); default: wherever the bench runs. */
  cpus?: string,
): Promise<WorkerProcess> {
  const out = openSync(logFile, 'a');
  // BENCH_CPU_PROF=<dir>: V8 CPU profiles of every worker thread, written when the worker stops.
  const prof = process.env['BENCH_CPU_PROF'];
  const nodeArgs = prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : [];
  const [cmd, ...args] = onCpus(cpus, [
    path.join(ROOT, 'node_modules/.bin/tsx'),
    ...nodeArgs,
    `src/workers/${kind}.ts`,
  ]);
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${kind} worker exited with ${code}; see ${logFile}`))),
  );
  exited.catch(() => undefined);
  const deadline = Date.now() + 180_000;
  await Promise.race([
    (async () => {
      while (!readFileSync(logFile, 'utf8').includes('worker started')) {
        if (Date.now() > deadline) throw new Error(`${kind} worker not ready after 180 s; see ${logFile}`);
        await sleep(200);
      }
    })(),
    exited,
  ]);
  const pid = child.pid!;
  return {
    kind,
    child,
    logFile,
    cpuMs: () => treeCpuMs(pid),
    peakRssMb: () => treePeakRssMb(pid),
    resetPeak: () => resetPeakRss(pid),
    stop: () => stopChild(child, 30_000),
  };
}
