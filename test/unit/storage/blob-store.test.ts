import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalBlobStore, type BlobStore } from '../../../src/storage/blob-store.js';
import { assertValidKey, originalKey, sourceHashOfKey, variantKey } from '../../../src/storage/keys.js';
import { describeBlobStoreContract, readAll, sha } from '../../helpers/blob-store-contract.js';

describe('blob keys', () => {
  it('addresses originals by hash and variants by source hash, width and format', () => {
    const h = sha(Buffer.from('x'));
    expect(originalKey(h)).toBe(`originals/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}`);
    expect(variantKey(h, 600, 'webp')).toBe(`variants/${h}/600.webp`);
    expect(() => originalKey('../../etc/passwd')).toThrow();
    expect(() => variantKey(h, 0, 'webp')).toThrow();
    expect(() => variantKey(h, 600, '../x')).toThrow();
  });

  it('finds the original a key belongs to (what blob GC marks), nothing for other keys', () => {
    const h = sha(Buffer.from('x'));
    expect(sourceHashOfKey(originalKey(h))).toBe(h);
    expect(sourceHashOfKey(variantKey(h, 600, 'webp'))).toBe(h);
    expect(sourceHashOfKey(`originals/00/00/${h}`)).toBeUndefined(); // not where an original of h lives
    expect(sourceHashOfKey(`variants/${h}/600.webp/x`)).toBeUndefined();
    expect(sourceHashOfKey('misc/a')).toBeUndefined();
  });

  it.each(['', '../x', 'a/../../x', '/etc/passwd', 'a//b', 'a\\b', './a', '.tmp/x', 'a/', 'C:/x', 'a/b\0'])(
    'rejects key %j',
    (key) => {
      expect(() => assertValidKey(key)).toThrow(/Invalid blob key/);
    },
  );
});

describeBlobStoreContract('local', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'blobs-'));
  return {
    store: createLocalBlobStore(root),
    other: createLocalBlobStore(root),
    tempFiles: async () => (await fs.readdir(path.join(root, '.tmp')).catch(() => [])).length,
    close: () => fs.rm(root, { recursive: true, force: true }),
  };
});

describe('local blob store', () => {
  let root: string;
  let store: BlobStore;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'blobs-'));
    store = createLocalBlobStore(root);
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('takes the folders a delete emptied along, never the root or a folder still in use', async () => {
    const h = sha(Buffer.from('v'));
    await store.put(variantKey(h, 200, 'jpeg'), Buffer.from('a'));
    await store.put(variantKey(h, 600, 'jpeg'), Buffer.from('b'));
    await store.put(originalKey(h), Buffer.from('v'));
    await store.delete(variantKey(h, 200, 'jpeg'));
    expect(await fs.readdir(path.join(root, 'variants', h))).toEqual(['600.jpeg']);
    await store.delete(variantKey(h, 600, 'jpeg'));
    await store.delete(originalKey(h));
    expect((await fs.readdir(root)).filter((n) => !n.startsWith('.'))).toEqual([]);
    await expect(fs.access(root)).resolves.toBeUndefined();
  });

  it('keeps each blob as a file under its key', async () => {
    const a = Buffer.from('a file');
    const key = originalKey(sha(a));
    await store.put(key, a);
    expect(await fs.readFile(store.path!(key))).toEqual(a);
  });

  it('never rewrites an existing file (same inode, same mtime)', async () => {
    const key = 'variants/' + sha(Buffer.from('s')) + '/200.jpeg';
    await store.put(key, Buffer.from('first'));
    // Dated an hour back, so a rewrite shows in the mtime however coarse the filesystem's clock is.
    const hourAgo = new Date(Date.now() - 3_600_000);
    await fs.utimes(store.path!(key), hourAgo, hourAgo);
    const before = await fs.stat(store.path!(key));
    await store.put(key, Buffer.from('second, longer'));
    const tmp = await store.tempPath();
    await fs.writeFile(tmp, 'third');
    await store.putFile(key, tmp);
    const after = await fs.stat(store.path!(key));
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino).toBe(before.ino);
    expect((await readAll(store, key)).toString()).toBe('first');
  });

  it('refuses keys that would escape the root', async () => {
    await expect(store.put('../outside', Buffer.from('x'))).rejects.toThrow(/Invalid blob key/);
    await expect(fs.access(path.join(root, '..', 'outside'))).rejects.toThrow();
  });
});
