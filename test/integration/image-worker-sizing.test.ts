import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { readHostLimits, sizeImageWorker } from '../../src/workers/image-sizing.js';
import { testLogFile } from '../helpers/data-dir.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { until } from '../helpers/wait.js';

interface Started {
  pid: number;
  sizing: { maxResizes: number; threadPoolSize: number; pixelBudget: number };
  threadPool: { requested: number; size?: number };
}

/**
 * The image worker as a user starts it, reporting the libuv pool it actually got (counted from the
 * threads, not read back from the variable): sized for the host, or by the explicit settings.
 */
describe('image-processing worker: libuv pool and permits sized before Node starts its pool', () => {
  let db: TestDb;
  let blobDir: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    db = await createTestDb('workersizing');
    blobDir = mkdtempSync(path.join(os.tmpdir(), 'worker-sizing-'));
  });
  afterAll(async () => {
    children.forEach((c) => c.kill('SIGKILL'));
    await db?.drop();
    rmSync(blobDir, { recursive: true, force: true });
  });

  async function startWorker(env: Record<string, string>) {
    // Its output goes to a file of the test's data folder (shown if the test fails); the test reads it.
    const logFile = testLogFile(`image-processing-${children.length + 1}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/workers/image-processing.ts'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: db.schema,
        BLOB_DIR: blobDir,
        ...env,
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    children.push(child);
    const out = () => readFileSync(logFile, 'utf8');
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    // Whole lines only: the worker may be writing the last one.
    const startedLine = () =>
      out()
        .split('\n')
        .slice(0, -1)
        .find((l) => l.includes('image-processing worker started'));
    await until(async () => {
      if (child.exitCode !== null)
        throw new Error(`the worker exited (its log: ${logFile}):\n${out().slice(-3000)}`);
      return startedLine() !== undefined;
    }, `image-processing worker started (its log: ${logFile})`);
    return { child, exited, started: JSON.parse(startedLine()!) as Started, log: out };
  }

  it('gets the pool sized for this host by default', async () => {
    const expected = sizeImageWorker(readHostLimits());
    const w = await startWorker({});
    expect(w.started.sizing).toMatchObject({
      maxResizes: expected.maxResizes,
      threadPoolSize: expected.threadPoolSize,
      pixelBudget: expected.pixelBudget,
    });
    expect(w.started.threadPool).toEqual({
      requested: expected.threadPoolSize,
      size: expected.threadPoolSize,
    });
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
  });

  it("treats an empty UV_THREADPOOL_SIZE (an unset compose variable) as unset, not as libuv's one thread", async () => {
    const expected = sizeImageWorker(readHostLimits());
    const w = await startWorker({ UV_THREADPOOL_SIZE: '', IMAGE_WORKER_MAX_RESIZES: '' });
    expect(w.started.threadPool).toEqual({
      requested: expected.threadPoolSize,
      size: expected.threadPoolSize,
    });
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
  });

  it('relaunches with a pool as large as explicit resize permits, passes SIGTERM on and exits 0', async () => {
    const w = await startWorker({ IMAGE_WORKER_MAX_RESIZES: '6' });
    expect(w.started.threadPool).toEqual({ requested: 6, size: 6 });
    expect(w.started.pid).not.toBe(w.child.pid); // the worker runs in the launcher's child
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.log()).toContain('image-processing worker drained and stopped');
  });

  it('dies with its launcher when the launcher is killed outright', async () => {
    const w = await startWorker({ IMAGE_WORKER_MAX_RESIZES: '6' });
    w.child.kill('SIGKILL');
    expect((await w.exited).signal).toBe('SIGKILL');
    await until(async () => !isAlive(w.started.pid), `worker ${w.started.pid} gone after its launcher`);
  });

  it('keeps an explicit UV_THREADPOOL_SIZE, without relaunching', async () => {
    const w = await startWorker({ UV_THREADPOOL_SIZE: '3', IMAGE_WORKER_MAX_RESIZES: '6' });
    expect(w.started.threadPool).toEqual({ requested: 3, size: 3 });
    expect(w.started.sizing.maxResizes).toBe(6);
    expect(w.started.pid).toBe(w.child.pid);
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
