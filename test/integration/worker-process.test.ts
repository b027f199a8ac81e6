import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { freePort } from '../../tooling/servers/dev-server.js';
import { testLogFile } from '../helpers/data-dir.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { until } from '../helpers/wait.js';

/** A worker as a user starts it: its own process, configured by environment variables. */
describe('image-processing worker process', () => {
  let db: TestDb;
  let blobDir: string;
  beforeAll(async () => {
    db = await createTestDb('workerproc');
    blobDir = mkdtempSync(path.join(os.tmpdir(), 'worker-blobs-'));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(blobDir, { recursive: true, force: true });
  });

  it('serves the Temporal SDK metrics and drains and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    // Its log lines and its stderr apart: the test reads the stderr; both are shown if it fails.
    const logFile = testLogFile('image-processing.log');
    const stderrFile = testLogFile('image-processing.stderr.log');
    const [out, err] = [openSync(logFile, 'a'), openSync(stderrFile, 'a')];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/workers/image-processing.ts'], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: db.schema,
        BLOB_DIR: blobDir,
        WORKER_METRICS_BIND: `127.0.0.1:${port}`,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', out, err],
    });
    closeSync(out);
    closeSync(err);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let metrics = '';
      await until(async () => {
        metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then(
          (r) => r.text(),
          () => '',
        );
        return metrics.includes('temporal_');
      }, 'worker metrics endpoint');
      expect(metrics).toMatch(/# TYPE temporal_request counter/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(readFileSync(stderrFile, 'utf8'), `its log: ${logFile}`).not.toMatch(/Error/);
  });
});
