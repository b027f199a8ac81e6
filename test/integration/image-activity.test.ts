import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageActivities, type ImportedImage } from '../../src/activities/images.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { createLocalBlobStore, type BlobStore } from '../../src/storage/index.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

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
});
