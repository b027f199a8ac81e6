import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/storage/index.js';
import { originalKey, variantKey } from '../../src/storage/index.js';

export const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export async function readAll(store: BlobStore, key: string): Promise<Buffer> {
  return Buffer.concat(await store.open(key).toArray());
}

/**
 * Streams `data` in small chunks with pauses, as a download arrives, so concurrent writers really overlap.
 * The pauses stand for the network; no assertion depends on how long they take.
 */
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

/** One store under test: `other` is a second instance over the same storage (a second worker process). */
export interface StoreUnderTest {
  store: BlobStore;
  other: BlobStore;
  /** Temp files the store left in its staging folder. */
  tempFiles(): Promise<number>;
  close(): Promise<void>;
}

/** What every BlobStore promises (see the port in src/storage/blob-store.ts), whatever holds the bytes. */
export function describeBlobStoreContract(name: string, open: () => Promise<StoreUnderTest>) {
  describe(`${name}: blob store contract`, () => {
    let t: StoreUnderTest;
    beforeEach(async () => {
      t = await open();
    });
    afterEach(async () => {
      await t.close();
    });

    it('stores buffers and streams and reads them back', async () => {
      const a = randomBytes(10_000);
      const key = originalKey(sha(a));
      expect(await t.store.has(key)).toBe(false);
      expect(await t.store.size(key)).toBeNull();
      expect(await t.store.put(key, a)).toEqual({ bytes: a.length, created: true });
      expect(await t.store.has(key)).toBe(true);
      expect(await t.store.size(key)).toBe(a.length);
      expect(await readAll(t.store, key)).toEqual(a);

      const b = randomBytes(300_000);
      expect(await t.store.put(originalKey(sha(b)), slowStream(b))).toEqual({
        bytes: b.length,
        created: true,
      });
      expect(await readAll(t.other, originalKey(sha(b)))).toEqual(b);
      expect(await t.tempFiles()).toBe(0);
    });

    it('is idempotent: an existing key is never rewritten', async () => {
      const key = 'variants/' + sha(Buffer.from('s')) + '/200.jpeg';
      expect(await t.store.put(key, Buffer.from('first'))).toEqual({ bytes: 5, created: true });
      expect(await t.store.put(key, Buffer.from('second, longer'))).toEqual({ bytes: 5, created: false });
      expect(await t.other.put(key, slowStream(Buffer.from('second, streamed')))).toEqual({
        bytes: 5,
        created: false,
      });
      const tmp = await t.store.tempPath('.jpeg');
      await fs.writeFile(tmp, 'third');
      expect(await t.store.putFile(key, tmp)).toEqual({ bytes: 5, created: false });
      await expect(fs.access(tmp)).rejects.toThrow(); // the temp file is consumed either way
      expect((await readAll(t.store, key)).toString()).toBe('first');
      expect(await t.tempFiles()).toBe(0);
    });

    it('publishes a finished temp file with putFile and consumes it', async () => {
      const data = randomBytes(50_000);
      const key = originalKey(sha(data));
      const tmp = await t.store.tempPath('.download');
      await fs.writeFile(tmp, data);
      expect(await t.store.putFile(key, tmp)).toEqual({ bytes: data.length, created: true });
      await expect(fs.access(tmp)).rejects.toThrow();
      expect(await readAll(t.other, key)).toEqual(data);
    });

    it('lets concurrent writers of one key race safely; readers never see a partial blob', async () => {
      const data = randomBytes(2 * 1024 * 1024);
      const key = originalKey(sha(data));
      let polling = true;
      const sizesSeen = new Set<number>();
      // Reads until the writers are done and it has seen the blob at least once, however they interleave.
      const reader = (async () => {
        while (polling || sizesSeen.size === 0) {
          const size = await t.store.size(key);
          if (size !== null) sizesSeen.add(size);
          await sleep(0);
        }
      })();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? t.other : t.store).put(key, slowStream(data))),
      );
      polling = false;
      await reader;
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(results.every((r) => r.bytes === data.length)).toBe(true);
      expect([...sizesSeen]).toEqual([data.length]);
      expect(sha(await readAll(t.store, key))).toBe(sha(data));
      expect(await t.tempFiles()).toBe(0);
    });

    it('leaves nothing behind when the source stream fails', async () => {
      const key = originalKey(sha(Buffer.from('never')));
      const failing = Readable.from(
        (async function* () {
          yield Buffer.alloc(1000);
          throw new Error('connection reset');
        })(),
      );
      await expect(t.store.put(key, failing)).rejects.toThrow('connection reset');
      expect(await t.store.has(key)).toBe(false);
      expect(await t.tempFiles()).toBe(0);
    });

    it('refuses keys that could escape the store', async () => {
      await expect(t.store.put('../outside', Buffer.from('x'))).rejects.toThrow(/Invalid blob key/);
      await expect(t.store.has('a/../../b')).rejects.toThrow(/Invalid blob key/);
      expect(() => t.store.open('/etc/passwd')).toThrow(/Invalid blob key/);
    });

    it('fails reading a missing key', async () => {
      await expect(readAll(t.store, originalKey(sha(Buffer.from('missing'))))).rejects.toThrow();
    });

    it('deletes', async () => {
      const key = originalKey(sha(Buffer.from('d')));
      await t.store.put(key, Buffer.from('d'));
      await t.store.delete(key);
      expect(await t.store.has(key)).toBe(false);
      expect(await t.other.has(key)).toBe(false);
      expect(await t.store.list({ limit: 10 })).toEqual([]);
      await t.store.delete(key); // deleting a missing key is not an error
      // A key whose folder a delete emptied can be written again.
      expect(await t.other.put(key, Buffer.from('d'))).toEqual({ bytes: 1, created: true });
    });

    it('lists keys in byte order, page after page and by prefix, never temp files', async () => {
      const h = sha(Buffer.from('listed'));
      const keys = [
        originalKey(sha(Buffer.from('o1'))),
        originalKey(sha(Buffer.from('o2'))),
        originalKey(h),
        variantKey(h, 200, 'jpeg'),
        variantKey(h, 1200, 'webp'),
        // A folder sorts after a sibling name that extends it with a lower byte ('.' < '/'), as S3 sorts.
        'misc/a.x',
        'misc/a/b',
        'misc/a0',
      ];
      for (const k of keys) await t.other.put(k, Buffer.from(k));
      await fs.writeFile(await t.store.tempPath('.download'), 'half a download');
      const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect(await t.store.list({ limit: 100 })).toEqual(sorted);

      const paged: string[] = [];
      for (let page = await t.store.list({ limit: 3 }); page.length;) {
        expect(page.length).toBeLessThanOrEqual(3);
        paged.push(...page);
        page = await t.store.list({ limit: 3, startAfter: page.at(-1) });
      }
      expect(paged).toEqual(sorted);

      expect(await t.store.list({ prefix: `variants/${h}/`, limit: 10 })).toEqual([
        variantKey(h, 1200, 'webp'),
        variantKey(h, 200, 'jpeg'),
      ]);
      expect(await t.store.list({ prefix: 'misc/a', startAfter: 'misc/a.x', limit: 10 })).toEqual([
        'misc/a/b',
        'misc/a0',
      ]);
      expect(await t.store.list({ prefix: 'nothing/', limit: 10 })).toEqual([]);
    });

    it('sweeps temp files left by a writer that died, but not fresh ones', async () => {
      const stale = await t.store.tempPath('.download');
      const fresh = await t.store.tempPath('.download');
      await fs.writeFile(stale, 'half');
      await fs.writeFile(fresh, 'in progress');
      const hourAgo = new Date(Date.now() - 3_600_000);
      await fs.utimes(stale, hourAgo, hourAgo);
      expect(await t.store.sweepTemp(600_000)).toBe(1);
      expect(await t.tempFiles()).toBe(1);
      await expect(fs.access(fresh)).resolves.toBeUndefined();
    });
  });
}
