/**
 * libuv's thread pool (sharp's pipelines, file I/O and DNS run on it) is sized from UV_THREADPOOL_SIZE
 * once, when the process first uses it — and an ES module process uses it to read its own modules, before
 * any of its code runs. So the size cannot be set from the entry point; `relaunchWith` runs the entry
 * point again as a child with the variable set, and `measureThreadPool` reports the size a process got.
 */
import { spawn } from 'node:child_process';
import { constants, closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
/** Marks the relaunched child on its command line (tsx's own CLI talks to its child over IPC too). */
const RELAUNCHED = '--relaunched-with-thread-pool';

/**
 * Runs this process's script again (same Node flags and arguments) with `env` added, and stands for it:
 * signals are passed on, its exit code (or signal) becomes this process's. The child also dies at once if
 * this process is killed outright (see `dieWithLauncher`), so that kill -9 of the worker still stops it.
 */
export async function relaunchWith(env: Record<string, string>): Promise<never> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1), RELAUNCHED], {
    env: { ...process.env, ...env }, // eslint-disable-line no-restricted-properties -- the child's environment
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  const pass = (signal: NodeJS.Signals) => void child.kill(signal);
  for (const s of FORWARDED_SIGNALS) process.on(s, pass);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  for (const s of FORWARDED_SIGNALS) process.off(s, pass);
  if (signal) process.kill(process.pid, signal);
  process.exit(code ?? 1);
}

/** In a relaunched child: end at once when the launcher is gone (its IPC channel closes). */
export function dieWithLauncher(): void {
  if (!process.argv.includes(RELAUNCHED) || !process.channel) return;
  process.channel.unref(); // the channel alone must not keep the worker alive
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}

/**
 * The threads libuv's pool actually has (Linux): opens many FIFOs for reading, each of which blocks a
 * pool thread until a writer comes, and counts the threads the kernel shows waiting there; then lets them
 * all go. Counts up to `upTo` threads (then the pool has at least that many); undefined where /proc
 * cannot tell. Takes a few tens of milliseconds, at start-up.
 */
export async function measureThreadPool(upTo = 64): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'uv-pool-'));
  try {
    const fifos = Array.from({ length: upTo }, (_, i) => path.join(dir, String(i)));
    await mkfifos(fifos);
    const opening = fifos.map((f) => fs.open(f, 'r'));
    try {
      // Settled when the count holds for a few polls: a busy host may be slow to wake a pool thread.
      let [waiting, steady] = [0, 0];
      for (let i = 0; i < 100 && steady < 3; i++) {
        await sleep(10);
        const now = threadsWaitingOnFifo();
        steady = now > 0 && now === waiting ? steady + 1 : 0;
        waiting = now;
      }
      return waiting || undefined;
    } finally {
      // Always, or the pool would stay blocked: O_RDWR never blocks on Linux and gives every open its partner.
      const partners = fifos.map((f) => openSync(f, constants.O_RDWR | constants.O_NONBLOCK));
      await Promise.all((await Promise.all(opening)).map((h) => h.close()));
      partners.forEach(closeSync);
    }
  } catch {
    return undefined; // no mkfifo, or /proc hides the threads: the size is then not known, not wrong
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function mkfifos(files: string[]): Promise<void> {
  const child = spawn('mkfifo', files, { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`mkfifo exited with ${code}`);
}

function threadsWaitingOnFifo(): number {
  return readdirSync('/proc/self/task').filter((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/wchan`, 'utf8') === 'wait_for_partner';
    } catch {
      return false;
    }
  }).length;
}
