import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalBlobStore, sweepLocalTemp, type BlobStore } from '../../../src/storage/blob-store.js';
import { assertValidKey, originalKey, variantKey } from '../../../src/storage/keys.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(store: BlobStore, key: string): Promise<Buffer> {
  return Buffer.concat(await store.open(key).toArray());
}

/** Streams `data` in small chunks with pauses, so concurrent writers really overlap. */
function slowStream(data: Buffer, chunk = 64 * 1024): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < data.length; i += chunk) {
        await sleep(1);
        yield data.subarray(i, i + chunk);
      }
    })(),
  );
}

describe('blob keys', () => {
  it('addresses originals by hash and variants by source hash, width and format', () => {
    const h = sha(Buffer.from('x'));
    expect(originalKey(h)).toBe(`originals/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}`);
    expect(variantKey(h, 600, 'webp')).toBe(`variants/${h}/600.webp`);
    expect(() => originalKey('../../etc/passwd')).toThrow();
    expect(() => variantKey(h, 0, 'webp')).toThrow();
    expect(() => variantKey(h, 600, '../x')).toThrow();
  });

  it.each(['', '../x', 'a/../../x', '/etc/passwd', 'a//b', 'a\\b', './a', '.tmp/x', 'a/', 'C:/x', 'a/b\0'])(
    'rejects key %j',
    (key) => {
      expect(() => assertValidKey(key)).toThrow(/Invalid blob key/);
    },
  );
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

  const tempFiles = async () => (await fs.readdir(path.join(root, '.tmp')).catch(() => [])).length;

  it('stores buffers and streams and reads them back', async () => {
    const a = randomBytes(10_000);
    const key = originalKey(sha(a));
    expect(await store.has(key)).toBe(false);
    expect(await store.size(key)).toBeNull();
    expect(await store.put(key, a)).toEqual({ bytes: a.length, created: true });
    expect(await store.has(key)).toBe(true);
    expect(await readAll(store, key)).toEqual(a);
    expect(await fs.readFile(store.path!(key))).toEqual(a);

    const b = randomBytes(300_000);
    await store.put(originalKey(sha(b)), slowStream(b));
    expect(await readAll(store, originalKey(sha(b)))).toEqual(b);
    expect(await tempFiles()).toBe(0);
  });

  it('is idempotent: an existing key is never rewritten', async () => {
    const key = 'variants/' + sha(Buffer.from('s')) + '/200.jpeg';
    await store.put(key, Buffer.from('first'));
    const before = await fs.stat(store.path!(key));
    await sleep(20);
    expect(await store.put(key, Buffer.from('second, longer'))).toEqual({ bytes: 5, created: false });
    const tmp = await store.tempPath();
    await fs.writeFile(tmp, 'third');
    expect(await store.putFile(key, tmp)).toEqual({ bytes: 5, created: false });
    await expect(fs.access(tmp)).rejects.toThrow(); // the temp file is consumed either way
    const after = await fs.stat(store.path!(key));
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino).toBe(before.ino);
    expect((await readAll(store, key)).toString()).toBe('first');
  });

  it('lets concurrent writers of one key race safely; readers never see a partial blob', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const key = originalKey(sha(data));
    // A second store instance over the same root stands in for a second worker process.
    const other = createLocalBlobStore(root);
    let polling = true;
    const sizesSeen = new Set<number>();
    const reader = (async () => {
      while (polling) {
        const size = await store.size(key);
        if (size !== null) sizesSeen.add(size);
        await sleep(0);
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).put(key, slowStream(data))),
    );
    polling = false;
    await reader;
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.every((r) => r.bytes === data.length)).toBe(true);
    expect([...sizesSeen]).toEqual([data.length]);
    expect(sha(await readAll(store, key))).toBe(sha(data));
    expect(await tempFiles()).toBe(0);
  });

  it('leaves nothing behind when the source stream fails', async () => {
    const key = originalKey(sha(Buffer.from('never')));
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(1000);
        throw new Error('connection reset');
      })(),
    );
    await expect(store.put(key, failing)).rejects.toThrow('connection reset');
    expect(await store.has(key)).toBe(false);
    expect(await tempFiles()).toBe(0);
  });

  it('refuses keys that would escape the root', async () => {
    await expect(store.put('../outside', Buffer.from('x'))).rejects.toThrow(/Invalid blob key/);
    expect(() => store.open('/etc/passwd')).toThrow(/Invalid blob key/);
    await expect(fs.access(path.join(root, '..', 'outside'))).rejects.toThrow();
  });

  it('sweeps temp files left by a crashed writer, but not fresh ones', async () => {
    const stale = await store.tempPath();
    const fresh = await store.tempPath();
    await fs.writeFile(stale, 'half');
    await fs.writeFile(fresh, 'in progress');
    const hourAgo = new Date(Date.now() - 3600_000);
    await fs.utimes(stale, hourAgo, hourAgo);
    expect(await sweepLocalTemp(root, 600_000)).toBe(1);
    expect(await tempFiles()).toBe(1);
  });

  it('deletes', async () => {
    const key = originalKey(sha(Buffer.from('d')));
    await store.put(key, Buffer.from('d'));
    await store.delete(key);
    expect(await store.has(key)).toBe(false);
    await store.delete(key); // deleting a missing key is not an error
  });
});
