import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, closeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export type WorkerKind = 'tour-import' | 'image-processing';

export interface WorkerProcess {
  kind: WorkerKind;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (null when killed by a signal) and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log(): string;
}

/**
 * Starts a real worker process: `node --import tsx src/workers/<kind>.ts`. Node itself is the child (not
 * npx or the tsx CLI, which would sit in between and not pass SIGKILL on), so a signal sent here hits
 * the worker. Resolves once the worker logs that it started polling.
 */
export async function spawnWorker(
  kind: WorkerKind,
  env: Record<string, string>,
  logFile: string,
  readyTimeoutMs = 120_000,
): Promise<WorkerProcess> {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/workers', `${kind}.ts`)], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const w: WorkerProcess = { kind, child, logFile, exited, log: () => readFileSync(logFile, 'utf8') };
  running.add(w);
  void exited.then(() => running.delete(w));
  const deadline = Date.now() + readyTimeoutMs;
  const marker = `${kind} worker started`;
  while (!w.log().includes(marker)) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${kind} worker exited before it started:\n${w.log().slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} worker did not start within ${readyTimeoutMs} ms:\n${w.log().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return w;
}

const running = new Set<WorkerProcess>();

/** SIGKILLs every worker this helper started that is still alive (for afterAll). */
export async function killAllWorkers(): Promise<void> {
  const all = [...running];
  for (const w of all) w.child.kill('SIGKILL');
  await Promise.all(all.map((w) => w.exited));
}
