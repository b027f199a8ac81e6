import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOperatorsYaml } from '../../src/operators/registry.js';
import { syncOperators } from '../../src/operators/resolver.js';
import { startSimulator, type Simulator } from '../../tooling/simulator/server.js';
import type { ImportOperatorResult } from '../../src/workflows/types.js';
import { testLogFile } from '../helpers/data-dir.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { uniqueName } from '../helpers/temporal.js';
import { startOwnTemporal, type OwnTemporal } from './helpers/own-temporal.js';
import { killAllWorkers, spawnWorker, type WorkerKind, type WorkerProcess } from './helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Process and server faults on the real thing: worker processes started as in production (default task
 * queues, config from the environment) against a Temporal server of this file's own, so it can be
 * killed and restarted: a dev server on SQLite in the system tier, the real server on PostgreSQL in
 * the server tier (`npm run test:server`). Each test kills something mid-import and then checks
 * that the import completed with every tour once, every blob once and no orphaned rows or files.
 */
const OPERATORS = ['kill-img', 'kill-tour', 'term', 'restart'].map((id, i) => ({
  id,
  dialect: 'A' as const,
  seed: 40 + i,
  tourCount: 12,
  imagesPerTour: { min: 2, max: 3 },
  imageWidth: 1600,
  imageHeight: 1067,
  latency: { apiMs: 100, imageMs: 50, jitterMs: 0 },
}));

describe('process and server faults', () => {
  let tmp: string;
  let server: OwnTemporal;
  let sim: Simulator;
  let db: TestDb;
  let client: Client;
  let env: Record<string, string>;
  const workers: Partial<Record<WorkerKind, WorkerProcess>> = {};

  const start = async (kind: WorkerKind) =>
    (workers[kind] = await spawnWorker(kind, env, testLogFile(`${kind}-${Date.now()}.log`)));

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'faults-proc-'));
    server = await startOwnTemporal(tmp);
    sim = await startSimulator({ port: 0, operators: OPERATORS });
    db = await createTestDb('procs');
    const secrets: Record<string, string> = {};
    const yaml = sim.operators().map((o) => {
      const envName = `OP_${o.id.replace(/-/g, '_').toUpperCase()}_API_KEY`;
      secrets[envName] = o.credentials.apiKey;
      return `  - id: ${o.id}\n    name: ${o.id}\n    dialect: ${o.dialect}\n    baseUrl: ${o.baseUrl}\n    apiKeyEnv: ${envName}\n    rateLimit: { requestsPerSecond: 200 }\n    window: 6`;
    });
    const operatorsFile = path.join(tmp, 'operators.yaml');
    writeFileSync(operatorsFile, `operators:\n${yaml.join('\n')}\n`);
    await syncOperators(db.pool, parseOperatorsYaml(`operators:\n${yaml.join('\n')}\n`, operatorsFile));
    env = {
      ...secrets,
      DATABASE_URL: db.url,
      DATABASE_SCHEMA: db.schema,
      TEMPORAL_ADDRESS: server.address,
      OPERATORS_FILE: operatorsFile,
      BLOB_DIR: path.join(tmp, 'blobs'),
      TOUR_IMPORT_DATA_DIR: tmp,
      ALLOW_PRIVATE_HOSTS: '127.0.0.1',
      LOG_LEVEL: 'info',
      IMAGE_WORKER_MAX_ACTIVITIES: '2',
      UV_THREADPOOL_SIZE: '2',
    };
    client = new Client({ connection: await Connection.connect({ address: server.address }) });
    await Promise.all([start('tour-import'), start('image-processing')]);
  });

  afterAll(async () => {
    await killAllWorkers();
    await client?.connection.close();
    await server?.stop();
    await sim?.close();
    await db?.drop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const startImport = (operatorId: string) =>
    client.workflow.start('ImportOperator', {
      taskQueue: 'tour-import',
      workflowId: uniqueName(`import-${operatorId}`),
      args: [
        { operatorId, mode: 'full', settings: { retry: { initialIntervalMs: 200, maximumAttempts: 5 } } },
      ],
    });

  /** result(), surviving a server that is down for a while. */
  async function resultOf(workflowId: string, timeoutMs = 150_000): Promise<ImportOperatorResult> {
    return waitFor(
      async () => {
        try {
          return (await client.workflow.getHandle(workflowId).result()) as ImportOperatorResult;
        } catch {
          await new Promise((r) => setTimeout(r, 500));
          return undefined;
        }
      },
      timeoutMs,
      `result of ${workflowId}`,
    );
  }

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await db.pool.query(sql, params)).rows[0].n);

  /** Every tour once and ready; every blob on disk has exactly one row and every row its blob. */
  async function expectConsistent(operatorId: string) {
    const tours = await db.pool.query(
      `SELECT external_id FROM tours WHERE operator_id = $1 AND status = 'active' ORDER BY 1`,
      [operatorId],
    );
    expect(tours.rows.map((r) => r.external_id)).toEqual(
      sim.operator(operatorId).activeCodes().map(String).sort(),
    );
    const assets = await db.pool.query(
      `SELECT ta.status, ta.failure_reason FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id WHERE t.operator_id = $1`,
      [operatorId],
    );
    expect(assets.rows.length).toBeGreaterThan(0);
    expect(assets.rows.filter((r) => r.status !== 'ready')).toEqual([]);
    // Every staged tour was persisted (Housekeeping deletes the rows later).
    expect(
      await count(
        `SELECT count(*) AS n FROM staged_tours WHERE operator_id = $1 AND persisted_outcome IS NULL`,
        [operatorId],
      ),
    ).toBe(0);

    const blobDir = env['BLOB_DIR'];
    const files = listFiles(blobDir).filter((f) => !f.startsWith('.tmp/'));
    const originals = (await db.pool.query(`SELECT storage_key FROM assets`)).rows.map((r) => r.storage_key);
    const variants = (await db.pool.query(`SELECT storage_key FROM asset_variants`)).rows.map(
      (r) => r.storage_key,
    );
    expect(new Set(originals).size).toBe(originals.length);
    expect(new Set(variants).size).toBe(variants.length);
    expect(files.sort()).toEqual([...originals, ...variants].sort());
    // All sizes of every original, and no original without a tour image pointing at it.
    expect(variants.length).toBe(originals.length * 6);
    expect(
      await count(
        `SELECT count(*) AS n FROM assets a WHERE NOT EXISTS (SELECT 1 FROM tour_assets ta WHERE ta.sha256 = a.sha256)`,
      ),
    ).toBe(0);
  }

  it('SIGKILL the image worker mid-resize, restart it: import completes, each tour and blob once', async () => {
    const handle = await startImport('kill-img');
    await waitFor(
      async () => (await count(`SELECT count(*) AS n FROM asset_variants`)) > 0,
      60_000,
      'first resize',
    );
    workers['image-processing']!.child.kill('SIGKILL');
    expect((await workers['image-processing']!.exited).signal).toBe('SIGKILL');
    await start('image-processing');
    const result = await resultOf(handle.workflowId);
    expect(result).toMatchObject({ status: 'completed', progress: { done: 12, failed: 0 } });
    await expectConsistent('kill-img');
  });

  it('SIGKILL the tour-import worker mid-download and mid-persist, restart it: import completes, each tour and blob once', async () => {
    const handle = await startImport('kill-tour');
    // Some tours persisted (so persists and downloads of the next ones are in flight), not all.
    await waitFor(
      async () => (await count(`SELECT count(*) AS n FROM tours WHERE operator_id = 'kill-tour'`)) >= 2,
      60_000,
      'first tours',
    );
    workers['tour-import']!.child.kill('SIGKILL');
    expect((await workers['tour-import']!.exited).signal).toBe('SIGKILL');
    await start('tour-import');
    const result = await resultOf(handle.workflowId);
    expect(result).toMatchObject({ status: 'completed', progress: { done: 12, failed: 0 } });
    await expectConsistent('kill-tour');
  });

  it('SIGTERM a worker: it drains in-flight activities and exits 0; the import completes after restart', async () => {
    const handle = await startImport('term');
    await waitFor(
      async () => (await count(`SELECT count(*) AS n FROM tours WHERE operator_id = 'term'`)) >= 2,
      60_000,
      'first tours',
    );
    const tourWorker = workers['tour-import']!;
    const imageWorker = workers['image-processing']!;
    tourWorker.child.kill('SIGTERM');
    imageWorker.child.kill('SIGTERM');
    const [t, i] = await Promise.all([tourWorker.exited, imageWorker.exited]);
    expect(t).toEqual({ code: 0, signal: null });
    expect(i).toEqual({ code: 0, signal: null });
    expect(tourWorker.log()).toContain('tour-import worker drained and stopped');
    expect(imageWorker.log()).toContain('image-processing worker drained and stopped');
    await Promise.all([start('tour-import'), start('image-processing')]);
    const result = await resultOf(handle.workflowId);
    expect(result).toMatchObject({ status: 'completed', progress: { done: 12, failed: 0 } });
    await expectConsistent('term');
  });

  it('kill -9 the Temporal server mid-import and restart it on the same store: the import resumes and completes', async () => {
    const handle = await startImport('restart');
    await waitFor(
      async () => (await count(`SELECT count(*) AS n FROM tours WHERE operator_id = 'restart'`)) >= 2,
      60_000,
      'first tours',
    );
    await server.kill9();
    await new Promise((r) => setTimeout(r, 2_000));
    await server.restart();
    const result = await resultOf(handle.workflowId, 170_000);
    expect(result).toMatchObject({ status: 'completed', progress: { done: 12, failed: 0 } });
    await expectConsistent('restart');
    // Both workers rode out the outage without crashing.
    expect(workers['tour-import']!.child.exitCode).toBeNull();
    expect(workers['image-processing']!.child.exitCode).toBeNull();
  });
});

function listFiles(dir: string, prefix = ''): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    out = statSync(full).isDirectory() ? out.concat(listFiles(full, rel)) : [...out, rel];
  }
  return out;
}
