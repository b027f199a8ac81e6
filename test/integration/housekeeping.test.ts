import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHousekeepingActivities, type HousekeepingDeps } from '../../src/activities/housekeeping.js';
import { upsertOperator } from '../../src/db/operators.js';
import { DEFAULT_HOUSEKEEPING, type HousekeepingPolicy } from '../../src/domain/housekeeping.js';
import { temporalLogger } from '../../src/logging.js';
import { applyHousekeepingSchedule, HOUSEKEEPING_SCHEDULE_ID } from '../../src/schedules/housekeeping.js';
import {
  createLocalBlobStore,
  createS3BlobStore,
  originalKey,
  variantKey,
  type BlobStore,
} from '../../src/storage/index.js';
import {
  Housekeeping,
  type HousekeepingInput,
  type HousekeepingResult,
} from '../../src/workflows/housekeeping.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';
import { connectTestEnv, uniqueName, workflowsPath } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Batches of two rows, keys or candidates: every phase has to loop to finish. */
const POLICY: HousekeepingPolicy = {
  ...DEFAULT_HOUSEKEEPING,
  batchSize: 2,
  blobGc: { enabled: true, graceMs: HOUR },
  tempFileMaxAgeMs: 10 * 60_000,
};

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  env = await connectTestEnv();
  // The bundler's lines go to the test's log, as the SDK's do (test/helpers/temporal-runtime-logs.ts).
  bundle = await bundleWorkflowCode({ workflowsPath, logger: temporalLogger() });
});
afterAll(async () => env?.teardown());

/** Runs `fn` while a tour-import-like worker with these housekeeping activities polls its own queue. */
async function withHousekeepingWorker<T>(deps: HousekeepingDeps, fn: (taskQueue: string) => Promise<T>) {
  const taskQueue = uniqueName('housekeeping');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: createHousekeepingActivities(deps),
  });
  return worker.runUntil(fn(taskQueue));
}

function runHousekeeping(deps: HousekeepingDeps, input: HousekeepingInput = {}): Promise<HousekeepingResult> {
  return withHousekeepingWorker(deps, (taskQueue) =>
    env.client.workflow.execute(Housekeeping, {
      taskQueue,
      workflowId: uniqueName('housekeeping'),
      args: [input],
    }),
  );
}

describe('Housekeeping: retention of bookkeeping rows', () => {
  let db: TestDb;
  let store: BlobStore;
  let blobDir: string;
  beforeAll(async () => {
    db = await createTestDb('housekeeping_rows');
    blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hk-rows-'));
    store = createLocalBlobStore(blobDir);
    for (const id of ['idle', 'busy', 'solo'])
      await upsertOperator(db.pool, { id, name: id, dialect: 'A', baseUrl: 'http://x', settings: {} });
    // busy's import holds its lock: it is running now.
    await db.pool.query(
      `UPDATE operators SET running_workflow_id = 'import:busy-now', running_since = now() WHERE id = 'busy'`,
    );
  });
  afterAll(async () => {
    await db?.drop();
    if (blobDir) await fs.rm(blobDir, { recursive: true, force: true });
  });

  async function run(operatorId: string, name: string, startedDaysAgo: number, finished: boolean) {
    const { rows } = await db.pool.query(
      `INSERT INTO import_runs (operator_id, mode, status, workflow_id, run_id, started_at, finished_at)
       VALUES ($1, 'delta', $2, $3, $3, now() - make_interval(days => $4),
               CASE WHEN $5 THEN now() - make_interval(days => $4) END)
       RETURNING id`,
      [operatorId, finished ? 'completed' : 'running', name, startedDaysAgo, finished],
    );
    return Number(rows[0].id);
  }

  async function stage(
    operatorId: string,
    externalId: string,
    fetchedAgoMs: number,
    persistedAgoMs?: number,
  ) {
    await db.pool.query(
      `INSERT INTO staged_tours (operator_id, external_id, content_hash, data, fetched_at, persisted_outcome, persisted_at)
       VALUES ($1, $2, 'h', '{}', now() - make_interval(secs => $3 / 1000.0),
               CASE WHEN $4::float8 IS NOT NULL THEN 'imported' END,
               now() - make_interval(secs => $4::float8 / 1000.0))`,
      [operatorId, externalId, fetchedAgoMs, persistedAgoMs ?? null],
    );
  }

  it('deletes what is past retention, in batches, and keeps what an import or a person still needs', async () => {
    await run('idle', 'old-1', 40, true);
    const heldRun = await run('idle', 'old-held', 35, true);
    await run('idle', 'old-2', 34, true);
    await run('idle', 'still-open', 40, false);
    await run('idle', 'recent', 1, true);
    await run('busy', 'import:busy-before', 41, true);
    await run('busy', 'import:busy-now', 40, true); // an earlier run of the import holding the lock
    await run('solo', 'only-one', 90, true); // the newest (only) run of its operator
    await db.pool.query(
      `INSERT INTO removals (operator_id, external_id, import_run_id, evidence, status)
       VALUES ('idle', 'T-held', $1, 'unlisted', 'held')`,
      [heldRun],
    );
    for (let i = 0; i < 5; i++)
      await db.pool.query(
        `INSERT INTO tour_failures (operator_id, external_id, kind, message, occurred_at)
         VALUES ('idle', $1, 'Boom', 'old', now() - interval '31 days')`,
        [`F${i}`],
      );
    await db.pool.query(
      `INSERT INTO tour_failures (operator_id, external_id, kind, message) VALUES ('idle', 'F-new', 'Boom', 'new')`,
    );
    await db.pool.query(
      `INSERT INTO webhook_deliveries (operator_id, webhook_id, received_at)
       VALUES ('idle', 'msg_old', now() - interval '25 hours'), ('idle', 'msg_recent', now() - interval '1 hour')`,
    );
    await stage('idle', 'ABANDONED', 2 * DAY); // its import failed between staging and persist
    await stage('idle', 'IN-FLIGHT', 0);
    await stage('busy', 'BUSY-OLD', 2 * DAY); // image retries are staged with the tour's old fetch time
    await stage('busy', 'PERSISTED-LONG-AGO', 3 * HOUR, 2 * HOUR);
    await stage('busy', 'JUST-PERSISTED', 10 * 60_000, 60_000); // its persist may still run again
    await db.pool.query(
      `INSERT INTO staged_tours (operator_id, external_id, content_hash, data, fetched_at, persisted_outcome)
       VALUES ('idle', 'PERSISTED-BEFORE-MIGRATION', 'h', '{}', now() - interval '3 hours', 'imported')`,
    );

    const result = await runHousekeeping({ pool: db.pool, store, policy: POLICY });

    expect(result.pruned).toEqual({
      webhook_deliveries: 1,
      staged_tours: 3,
      tour_failures: 5,
      import_runs: 3,
    });
    const names = async (sql: string) => (await db.pool.query(sql)).rows.map((r) => Object.values(r)[0]);
    expect(await names(`SELECT workflow_id FROM import_runs ORDER BY 1`)).toEqual([
      'import:busy-now',
      'old-held',
      'only-one',
      'recent',
      'still-open',
    ]);
    expect(await names(`SELECT external_id FROM tour_failures`)).toEqual(['F-new']);
    expect(await names(`SELECT webhook_id FROM webhook_deliveries`)).toEqual(['msg_recent']);
    expect(await names(`SELECT external_id FROM staged_tours ORDER BY 1`)).toEqual([
      'BUSY-OLD',
      'IN-FLIGHT',
      'JUST-PERSISTED',
    ]);
    // Once busy's import released its lock, its abandoned row goes too.
    await db.pool.query(`UPDATE operators SET running_workflow_id = NULL WHERE id = 'busy'`);
    expect((await runHousekeeping({ pool: db.pool, store, policy: POLICY })).pruned.staged_tours).toBe(1);
  });

  it('works through a long backlog across continue-as-new, losing neither its place nor its counts', async () => {
    for (let i = 0; i < 9; i++)
      await db.pool.query(
        `INSERT INTO tour_failures (operator_id, external_id, kind, message, occurred_at)
         VALUES ('solo', $1, 'Boom', 'old', now() - interval '40 days')`,
        [`B${i}`],
      );
    const result = await runHousekeeping({ pool: db.pool, store, policy: POLICY }, { callsPerRun: 2 });
    expect(result.pruned.tour_failures).toBe(9);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM tour_failures WHERE operator_id = 'solo'`,
    );
    expect(rows[0].n).toBe(0);
  });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const VARIANTS = [
  [200, 'jpeg'],
  [600, 'webp'],
] as const;

describe.each(['local', 's3'] as const)('Housekeeping: blob garbage collection (%s store)', (kind) => {
  let db: TestDb;
  let store: BlobStore;
  let dir: string;
  let s3: TestS3 | undefined;
  let deps: HousekeepingDeps;
  beforeAll(async () => {
    db = await createTestDb(`housekeeping_gc_${kind}`);
    if (kind === 's3') {
      s3 = await startTestS3('hk-gc');
      const { endpoint, region, bucket, credentials } = s3.server;
      dir = path.join(s3.dir, 'staging');
      store = createS3BlobStore({ endpoint, region, bucket, credentials, prefix: 'media', stagingDir: dir });
    } else {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hk-gc-'));
      store = createLocalBlobStore(dir);
    }
    deps = { pool: db.pool, store, policy: POLICY };
    await upsertOperator(db.pool, { id: 'gc', name: 'gc', dialect: 'A', baseUrl: 'http://x', settings: {} });
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
    await s3?.close();
    if (kind === 'local' && dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /** An original and its variants, stored and recorded as an image activity leaves them (checked 2 days ago). */
  async function image(name: string, recorded = true): Promise<string> {
    const bytes = Buffer.from(`image ${name}`);
    const h = sha(bytes);
    await store.put(originalKey(h), bytes);
    if (!recorded) return h; // a download whose worker died before recording it
    for (const [w, f] of VARIANTS) await store.put(variantKey(h, w, f), Buffer.from(`${name} ${w}.${f}`));
    await db.pool.query(`INSERT INTO assets (sha256, storage_key, bytes) VALUES ($1, $2, $3)`, [
      h,
      originalKey(h),
      bytes.length,
    ]);
    await db.pool.query(
      `INSERT INTO asset_sources (source_url, sha256, checked_at) VALUES ($1, $2, now() - interval '2 days')`,
      [`http://images.test/${name}.jpg`, h],
    );
    for (const [w, f] of VARIANTS)
      await db.pool.query(
        `INSERT INTO asset_variants (sha256, width, format, storage_key, actual_width, actual_height, bytes)
         VALUES ($1, $2, $3, $4, $2, $2, 1)`,
        [h, w, f, variantKey(h, w, f)],
      );
    return h;
  }

  async function tour(externalId: string, status: 'active' | 'removed', hashes: string[]) {
    const { rows } = await db.pool.query(
      `INSERT INTO tours (operator_id, external_id, status, fetched_at) VALUES ('gc', $1, $2, now()) RETURNING id`,
      [externalId, status],
    );
    for (const [i, h] of hashes.entries()) await refer(Number(rows[0].id), i, h);
    return Number(rows[0].id);
  }

  const refer = (tourId: number, position: number, h: string) =>
    db.pool.query(
      `INSERT INTO tour_assets (tour_id, position, source_url, sha256, status) VALUES ($1, $2, 'u', $3, 'ready')`,
      [tourId, position, h],
    );

  const keysOf = (h: string) => [originalKey(h), ...VARIANTS.map(([w, f]) => variantKey(h, w, f))];
  const present = async (keys: string[]) => (await Promise.all(keys.map((k) => store.has(k)))).every(Boolean);
  const absent = async (keys: string[]) => !(await Promise.all(keys.map((k) => store.has(k)))).some(Boolean);
  const candidates = async () =>
    (await db.pool.query(`SELECT sha256 FROM blob_gc_candidates ORDER BY 1`)).rows.map((r) => r.sha256);

  it('deletes blobs no tour refers to after the grace period, never one an import is about to use', async () => {
    const inUse = await image('in-use');
    const ofRemovedTour = await image('of-a-removed-tour');
    const replaced = await image('replaced');
    const redownloaded = await image('re-downloaded-after-the-mark');
    const markedRecently = await image('marked-within-the-grace-period');
    const persistedLater = await image('referenced-after-the-mark');
    const orphan = await image('never-recorded', false);
    const tourId = await tour('T1', 'active', [inUse]);
    await tour('T2', 'removed', [ofRemovedTour]);
    await store.put('misc/not-a-blob-key', Buffer.from('left alone'));
    const stale = await store.tempPath('.download');
    const fresh = await store.tempPath('.download');
    await fs.writeFile(stale, 'half a download');
    await fs.writeFile(fresh, 'a download in progress');
    await fs.utimes(stale, new Date(Date.now() - HOUR), new Date(Date.now() - HOUR));

    // First run: the unreferenced are marked, nothing is deleted yet.
    const first = await runHousekeeping(deps);
    expect(first.blobs).toMatchObject({ marked: 5, swept: 0, deleted: 0 });
    expect(first.tempFilesRemoved).toBe(1);
    const unreferenced = [replaced, redownloaded, markedRecently, persistedLater, orphan];
    expect(await candidates()).toEqual([...unreferenced].sort());
    expect(await present(unreferenced.flatMap((h) => (h === orphan ? [originalKey(h)] : keysOf(h))))).toBe(
      true,
    );

    // The grace period passes for all but one; meanwhile an import downloads (or gets a 304 for) one of
    // them again, and another import's persist refers to one.
    await db.pool.query(
      `UPDATE blob_gc_candidates SET marked_at = now() - interval '2 hours' WHERE sha256 <> $1`,
      [markedRecently],
    );
    await db.pool.query(`UPDATE asset_sources SET checked_at = now() WHERE sha256 = $1`, [redownloaded]);
    await refer(tourId, 1, persistedLater);

    const second = await runHousekeeping(deps);
    expect(second.blobs).toMatchObject({ swept: 2, deleted: 4, kept: 1 });
    expect(await absent(keysOf(replaced))).toBe(true);
    expect(await absent([originalKey(orphan)])).toBe(true);
    for (const h of [inUse, ofRemovedTour, redownloaded, markedRecently, persistedLater])
      expect(await present(keysOf(h))).toBe(true);
    expect(await store.has('misc/not-a-blob-key')).toBe(true);
    const rows = await db.pool.query(
      `SELECT (SELECT count(*)::int FROM assets WHERE sha256 = $1) AS assets,
              (SELECT count(*)::int FROM asset_sources WHERE sha256 = $1) AS sources,
              (SELECT count(*)::int FROM asset_variants WHERE sha256 = $1) AS variants,
              (SELECT count(*)::int FROM assets) AS all_assets`,
      [replaced],
    );
    expect(rows.rows[0]).toEqual({ assets: 0, sources: 0, variants: 0, all_assets: 5 });
    // The re-downloaded one starts a new grace period; the one referenced again is no candidate.
    expect(await candidates()).toEqual([redownloaded, markedRecently].sort());
    const { rows: marks } = await db.pool.query(
      `SELECT marked_at > now() - interval '1 minute' AS fresh FROM blob_gc_candidates WHERE sha256 = $1`,
      [redownloaded],
    );
    expect(marks[0].fresh).toBe(true);
    // The temp file being written is still there.
    await expect(fs.access(fresh)).resolves.toBeUndefined();
  });

  it('keeps every blob when blob GC is off', async () => {
    const unreferenced = await image('unreferenced-with-gc-off');
    await db.pool.query(`UPDATE blob_gc_candidates SET marked_at = now() - interval '2 days'`);
    const result = await runHousekeeping({
      ...deps,
      policy: { ...POLICY, blobGc: { enabled: false, graceMs: 0 } },
    });
    expect(result.blobs).toEqual({ listed: 0, marked: 0, swept: 0, deleted: 0, kept: 0 });
    expect(await present(keysOf(unreferenced))).toBe(true);
  });
});

describe('the Housekeeping schedule', () => {
  let db: TestDb;
  let blobDir: string;
  beforeAll(async () => {
    db = await createTestDb('housekeeping_schedule');
    blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hk-schedule-'));
  });
  afterAll(async () => {
    await applyHousekeepingSchedule(env.client, { everyMs: 0 }).catch(() => undefined);
    await db?.drop();
    if (blobDir) await fs.rm(blobDir, { recursive: true, force: true });
  });

  it('is created by apply, runs Housekeeping on the tour-import queue, and goes when set to 0', async () => {
    const deps = { pool: db.pool, store: createLocalBlobStore(blobDir), policy: POLICY };
    await withHousekeepingWorker(deps, async (taskQueue) => {
      expect(await applyHousekeepingSchedule(env.client, { everyMs: DAY, taskQueue })).toBe('created');
      expect(await applyHousekeepingSchedule(env.client, { everyMs: HOUR, taskQueue })).toBe('updated');
      const handle = env.client.schedule.getHandle(HOUSEKEEPING_SCHEDULE_ID);
      const d = await handle.describe();
      expect(d.spec.intervals).toMatchObject([{ every: HOUR }]);
      expect(d.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
      expect(d.action).toMatchObject({ workflowType: 'Housekeeping', taskQueue, workflowId: 'housekeeping' });

      await handle.trigger();
      const workflowId = await waitFor(
        async () => (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId,
        30_000,
        'the triggered Housekeeping',
      );
      const result: HousekeepingResult = await env.client.workflow.getHandle(workflowId).result();
      expect(result.pruned).toEqual({
        webhook_deliveries: 0,
        staged_tours: 0,
        tour_failures: 0,
        import_runs: 0,
      });
    });
    expect(await applyHousekeepingSchedule(env.client, { everyMs: 0 })).toBe('deleted');
    expect(await applyHousekeepingSchedule(env.client, { everyMs: 0 })).toBe('absent');
  });
});
