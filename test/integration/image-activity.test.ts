import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createImageActivities,
  type ImportedImage,
  type TourImagesImport,
} from '../../src/activities/images.js';
import { upsertOperator } from '../../src/db/operators.js';
import { pruneBatch } from '../../src/db/retention.js';
import { stageTours } from '../../src/db/tours.js';
import type { Tour } from '../../src/domain/tour.js';
import { startSimulator, type Simulator } from '../../tooling/simulator/server.js';
import { createLocalBlobStore, type BlobStore } from '../../src/storage/index.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

const DAY = 24 * 3_600_000;

/** The image activity on real HTTP, PostgreSQL, sharp and a blob folder. */
describe('importImage', () => {
  let sim: Simulator;
  let db: TestDb;
  let dir: string;
  let store: BlobStore;
  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      operators: [{ id: 'img', dialect: 'A', seed: 5, tourCount: 10, imageWidth: 640, imageHeight: 427 }],
    });
    db = await createTestDb('imageactivity');
    dir = mkdtempSync(path.join(os.tmpdir(), 'image-activity-'));
    store = createLocalBlobStore(dir);
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const activities = () =>
    createImageActivities({
      pool: db.pool,
      store,
      images: {
        widths: [600, 200],
        formats: ['jpeg', 'webp'],
        maxPixels: 100_000_000,
        maxBytes: 10 * 1024 * 1024,
        allowPrivateHosts: ['127.0.0.1'],
      },
      maxResizes: 1,
    });
  /** One activity execution, as the image worker would run it. */
  const run = (importImage: ReturnType<typeof activities>['importImage'], url: string) =>
    new MockActivityEnvironment().run(importImage, { url }) as Promise<ImportedImage>;
  const op = () => sim.operator('img');
  const imageRequests = () => op().state().requests.image;
  const variants = async (sha256: string) =>
    Number(
      (await db.pool.query(`SELECT count(*) AS n FROM asset_variants WHERE sha256 = $1`, [sha256])).rows[0].n,
    );

  it('tours importing the same photo at once share one download and one resize', async () => {
    const { importImage } = activities();
    const url = op().imageUrl(op().tour(op().activeCodes()[0])!.images[0].id);
    const before = imageRequests();
    const results = await Promise.all([1, 2, 3].map(() => run(importImage, url)));
    expect(imageRequests() - before).toBe(1);
    expect(new Set(results.map((r) => r.sha256)).size).toBe(1);
    expect(results.map((r) => [r.downloaded, r.resized])).toEqual([
      [true, true],
      [true, true],
      [true, true],
    ]);
    expect(await variants(results[0].sha256)).toBe(4);
  });

  it('an image imported again costs a conditional GET (304) and no resize', async () => {
    const { importImage } = activities();
    const url = op().imageUrl(op().tour(op().activeCodes()[1])!.images[0].id);
    const first = await run(importImage, url);
    expect(first).toMatchObject({ downloaded: true, resized: true });
    // A retried activity or the next import: same bytes, nothing to do but ask.
    const again = await run(importImage, url);
    expect(again).toEqual({ sha256: first.sha256, downloaded: false, resized: false });
    expect(await variants(first.sha256)).toBe(4);
  });

  it('a missing image fails with a typed error naming the URL', async () => {
    const { importImage } = activities();
    const url = op().imageUrl('does-not-exist');
    await expect(run(importImage, url)).rejects.toMatchObject({
      type: 'ImageGone',
      message: expect.stringContaining('does-not-exist'),
    });
  });

  /** A tour of operator `img`, staged as a listing or a fetch stages it. */
  const stage = async (externalId: string, contentHash: string, images: Tour['images']) => {
    await upsertOperator(db.pool, {
      id: 'img',
      name: 'img',
      dialect: 'A',
      baseUrl: 'http://x',
      settings: {},
    });
    const tour: Tour = {
      operatorId: 'img',
      externalId,
      title: `Staged ${externalId}`,
      description: '',
      durationMinutes: 60,
      price: null,
      location: null,
      images,
      sourceUpdatedAt: '2026-11-30T00:00:00Z',
    };
    await stageTours(db.pool, [{ tour, contentHash }], new Date());
    return images.map((img) => ({ url: img.url, caption: img.caption }));
  };
  const runTogether = (
    externalId: string,
    contentHash: string,
    images: { url: string; caption: string | null }[],
  ) =>
    new MockActivityEnvironment().run(activities().importTourImages, {
      operatorId: 'img',
      externalId,
      contentHash,
      images,
      retriesAlone: true,
    }) as Promise<TourImagesImport>;

  it("importTourImages imports a tour's images and persists it with them; run again, it finds its own outcome", async () => {
    const photo = op().imageUrl(op().tour(op().activeCodes()[2])!.images[0].id);
    const images = await stage('S1', 'h1', [
      { url: photo, caption: 'first' },
      { url: op().imageUrl('does-not-exist'), caption: null },
    ]);
    // The missing image fails for good (ImageGone): stored as failed, the tour persisted.
    expect(await runTogether('S1', 'h1', images)).toEqual({
      outcome: 'imported',
      images: 2,
      failedImages: 1,
    });
    const stored = async () =>
      (
        await db.pool.query(
          `SELECT ta.position, ta.status, ta.failure_reason FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id
            WHERE t.operator_id = 'img' AND t.external_id = 'S1' ORDER BY ta.position`,
        )
      ).rows.map((r) => [r.position, r.status, r.failure_reason?.split(':')[0] ?? null]);
    expect(await stored()).toEqual([
      [0, 'ready', null],
      [1, 'failed', 'ImageGone'],
    ]);
    // A retry after its commit (a lost worker) reports what it stored.
    expect(await runTogether('S1', 'h1', images)).toEqual({
      outcome: 'imported',
      images: 2,
      failedImages: 1,
    });
  });

  it('importTourImages persists nothing when an image failed for a reason a retry may fix, and says which', async () => {
    const photo = op().imageUrl(op().tour(op().activeCodes()[3])!.images[0].id);
    const images = await stage('S2', 'h2', [{ url: photo, caption: null }]);
    op().addFaults('image', [{ type: 'error', status: 503 }]);
    try {
      expect(await runTogether('S2', 'h2', images)).toMatchObject({
        outcome: 'images-to-retry',
        imageOutcomes: [{ url: photo, failure: { retryable: true } }],
      });
      const tours = await db.pool.query(
        `SELECT 1 FROM tours WHERE operator_id = 'img' AND external_id = 'S2'`,
      );
      expect(tours.rowCount).toBe(0);
    } finally {
      op().clearFaults();
    }
  });

  it('importTourImages retried after its tour was persisted and its staged record pruned answers from the stored tour', async () => {
    const photo = op().imageUrl(op().tour(op().activeCodes()[5])!.images[0].id);
    const images = await stage('S4', 'h4', [{ url: photo, caption: null }]);
    const done = { outcome: 'imported', images: 1, failedImages: 0 };
    expect(await runTogether('S4', 'h4', images)).toEqual(done);
    // Its completion was lost, and the retry comes after Housekeeping pruned the persisted staged row.
    const pruned = await pruneBatch(db.pool, 'staged_tours', {
      olderThanMs: DAY,
      limit: 100,
      persistedKeepMs: 0,
    });
    expect(pruned).toBeGreaterThanOrEqual(1);
    expect(await runTogether('S4', 'h4', images)).toEqual(done);
    const tours = await db.pool.query(
      `SELECT content_hash, status FROM tours WHERE operator_id = 'img' AND external_id = 'S4'`,
    );
    expect(tours.rows).toEqual([{ content_hash: 'h4', status: 'active' }]);
  });

  it('importTourImages fails as StagedTourMissing, for good, when the staged record is gone', async () => {
    const photo = op().imageUrl(op().tour(op().activeCodes()[4])!.images[0].id);
    await expect(runTogether('S3', 'never-staged', [{ url: photo, caption: null }])).rejects.toMatchObject({
      type: 'StagedTourMissing',
      nonRetryable: true,
    });
  });
});
