import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { variantsComplete } from '../../src/activities/variants.js';
import { saveVariants, upsertOriginal } from '../../src/db/assets.js';
import { createLocalBlobStore, variantKey } from '../../src/storage/index.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

/** The resize is skipped only when exactly the configured sizes exist, recorded and stored. */
describe('variants of an original', () => {
  let db: TestDb;
  let dir: string;
  const sha = 'a'.repeat(64);
  beforeAll(async () => {
    db = await createTestDb('variants');
    dir = mkdtempSync(path.join(os.tmpdir(), 'variants-'));
    const store = createLocalBlobStore(dir);
    await upsertOriginal(db.pool, {
      sha256: sha,
      storageKey: 'originals/x',
      bytes: 1,
      contentType: 'image/jpeg',
      url: 'http://x/1.jpg',
      etag: null,
    });
    const rows = [1200, 600, 200].flatMap((width) =>
      ['jpeg', 'webp'].map((format) => ({
        width,
        format,
        storageKey: variantKey(sha, width, format),
        actualWidth: width,
        actualHeight: 1,
        bytes: 1,
      })),
    );
    await saveVariants(db.pool, sha, { width: 1600, height: 1067, format: 'jpeg' }, rows);
    for (const r of rows) await store.put(r.storageKey, Buffer.from('x'));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (widths: number[], formats: string[], store = createLocalBlobStore(dir)) =>
    variantsComplete({ pool: db.pool, store, images: { widths, formats } }, sha);

  it('are complete for the configured sizes', async () => {
    expect(await check([1200, 600, 200], ['jpeg', 'webp'])).toBe(true);
  });

  it('are not complete when the sizes changed, even to as many sizes', async () => {
    expect(await check([1600, 800, 400], ['jpeg', 'webp'])).toBe(false);
    expect(await check([1200, 600, 200], ['jpeg', 'avif'])).toBe(false);
  });

  it('are not complete when a recorded variant file is missing', async () => {
    const store = createLocalBlobStore(dir);
    await store.delete(variantKey(sha, 600, 'webp'));
    expect(await check([1200, 600, 200], ['jpeg', 'webp'], store)).toBe(false);
  });
});
