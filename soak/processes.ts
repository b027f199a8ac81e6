import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { stopChild } from '../tooling/servers/dev-server.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * One part of the stack the soak runs, as the fault schedule sees it: brought down (SIGKILL, or a fast
 * stop for PostgreSQL), started again, stopped for good at the end.
 */
export interface Part {
  readonly name: string;
  up(): boolean;
  start(): Promise<void>;
  down(): Promise<void>;
  stop(): Promise<void>;
}

export interface ExitReport {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/**
 * Set when the soak ends or is interrupted: processes exiting then (^C reaches them too) stay down, and
 * no process is started any more.
 */
let ending = false;
export function endRestarts(): void {
  ending = true;
}
export const isEnding = () => ending;

/** Starts under way: when the soak ends, the cleanup waits for them and stops what they started. */
let startsInFlight = 0;
export async function tracked<T>(start: Promise<T>): Promise<T> {
  startsInFlight++;
  try {
    return await start;
  } finally {
    startsInFlight--;
  }
}

/** Gives up starting a part after this: a part that cannot come back is a failed soak, not a wait for ever. */
const START_DEADLINE_MS = 180_000;
const RETRY_MS = 2_000;

/**
 * A process the soak owns, started by `launch` (which resolves once it is ready), and watched like a
 * supervisor would: an exit the soak did not cause is reported and the process started again.
 */
export class Supervised implements Part {
  private child?: ChildProcess;
  private expectExit = false;
  private stopped = false;
  private starting?: Promise<void>;

  constructor(
    readonly name: string,
    private readonly launch: () => Promise<ChildProcess>,
    private readonly onUnexpectedExit: (exit: ExitReport) => void,
  ) {}

  up(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it, retrying a failed start (its dependency may be down) until START_DEADLINE_MS. */
  start(): Promise<void> {
    this.starting ??= tracked(this.startWithRetries()).finally(() => (this.starting = undefined));
    return this.starting;
  }

  async down(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const child = this.child;
    if (!child || !this.up()) return;
    this.expectExit = true;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    if (this.child && this.up()) await stopChild(this.child, 10_000);
  }

  private async startWithRetries(): Promise<void> {
    const deadline = Date.now() + START_DEADLINE_MS;
    for (;;) {
      if (this.stopped || ending) return;
      try {
        const child = await this.launch();
        this.watch(child);
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`${this.name} did not start within ${START_DEADLINE_MS / 1000} s: ${String(err)}`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private watch(child: ChildProcess): void {
    this.child = child;
    this.expectExit = false;
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.expectExit || this.stopped || ending) return;
      this.onUnexpectedExit({ name: this.name, code, signal, at: Date.now() });
      void this.start().catch(() => undefined);
    });
  }
}

/**
 * Starts `node --import tsx <script>` with its output appended to `logFile`: node itself is the child
 * (no npx or tsx CLI in between that would not pass SIGKILL on). Resolves once `ready` says so; a
 * process that exits first rejects with the end of its log.
 */
export async function launchNode(o: {
  script: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  ready: (logSinceStart: string) => Promise<boolean> | boolean;
  timeoutMs?: number;
}): Promise<ChildProcess> {
  if (ending) throw new Error(`not starting ${o.script}: the soak is ending`);
  const from = sizeOf(o.logFile);
  const fd = openSync(o.logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, o.script)], {
    cwd: ROOT,
    env: o.env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const logSinceStart = () => readFileSync(o.logFile).subarray(from).toString('utf8');
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${o.script} exited (${child.exitCode ?? child.signalCode}): ${tail(logSinceStart())}`);
    if (
      await Promise.resolve(logSinceStart())
        .then(o.ready)
        .catch(() => false)
    )
      return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${o.script} was not ready in time: ${tail(logSinceStart())}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function tail(log: string): string {
  return log.trim().split('\n').slice(-5).join('\n');
}

/**
 * What the soak started, stopped in reverse order: at its end, when it fails, and when it is interrupted
 * (also halfway through starting). Running it twice stops nothing twice.
 */
export class Cleanup {
  private readonly steps: { what: string; fn: () => Promise<void> }[] = [];
  private running?: Promise<void>;

  add(what: string, fn: () => Promise<void>): void {
    this.steps.push({ what, fn });
  }

  run(log: (line: string) => void = () => undefined): Promise<void> {
    endRestarts();
    this.running ??= (async () => {
      const deadline = Date.now() + START_DEADLINE_MS;
      // A part whose start was under way registers itself once up: it is stopped then, in a later round.
      do {
        for (const step of this.steps.splice(0).reverse())
          await step.fn().catch((err: Error) => log(`could not stop ${step.what}: ${err.message}`));
        if (startsInFlight || this.steps.length) await new Promise((r) => setTimeout(r, 250));
      } while ((startsInFlight || this.steps.length) && Date.now() < deadline);
    })();
    return this.running;
  }
}
