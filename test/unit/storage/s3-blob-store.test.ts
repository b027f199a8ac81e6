import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Server } from '../../../tooling/servers/s3-server.js';
import {
  createS3BlobStore,
  originalKey,
  VARIANT_CACHE_CONTROL,
  variantKey,
  type BlobStore,
  type S3BlobStoreOptions,
} from '../../../src/storage/index.js';
import { PUT_CONFLICT_ATTEMPTS } from '../../../src/storage/s3-blob-store.js';
import { describeBlobStoreContract, sha } from '../../helpers/blob-store-contract.js';
import { startConflictProxy, startTestS3, type ConflictProxy, type TestS3 } from '../../helpers/s3.js';

/** The S3 store against a real S3 server (versitygw, started here; see startTestS3). */
let s3: TestS3;
let server: S3Server;
let dir: string;
let raw: S3Client;

beforeAll(async () => {
  s3 = await startTestS3('s3-store');
  ({ server, dir, raw } = s3);
}, 60_000);

const proxies: ConflictProxy[] = [];
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await s3?.close();
});

function options(prefix: string): S3BlobStoreOptions {
  const { endpoint, region, bucket, credentials } = server;
  return { endpoint, region, bucket, credentials, prefix, stagingDir: path.join(dir, 'staging', prefix) };
}

describeBlobStoreContract('s3', async () => {
  // Each test its own prefix (and staging folder): tests share the server, never each other's keys.
  const o = options(`contract-${randomUUID()}`);
  return {
    store: createS3BlobStore(o),
    other: createS3BlobStore({ ...o, stagingDir: `${o.stagingDir}-other` }),
    tempFiles: async () =>
      (
        await Promise.all(
          [o.stagingDir, `${o.stagingDir}-other`].map((d) =>
            fs.readdir(path.join(d, '.tmp')).catch(() => []),
          ),
        )
      ).flat().length,
    close: async () => {},
  };
});

describe('s3 blob store', () => {
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('not really a jpeg')]);

  it('writes under the prefix, with content types and immutable caching on variants only', async () => {
    const prefix = `objects-${randomUUID()}`;
    const store = createS3BlobStore(options(`/${prefix}/`));
    const original = originalKey(sha(jpeg));
    const variant = variantKey(sha(jpeg), 200, 'webp');
    await store.put(original, jpeg);
    const tmp = await store.tempPath('.webp');
    await fs.writeFile(tmp, 'webp bytes');
    await store.putFile(variant, tmp);

    const listed = await raw.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${prefix}/` }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual([
      `${prefix}/${original}`,
      `${prefix}/${variant}`,
    ]);
    const head = (key: string) =>
      raw.send(new HeadObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${key}` }));
    const o = await head(original);
    expect(o.ContentType).toBe('image/jpeg');
    expect(o.CacheControl).toBeUndefined();
    const v = await head(variant);
    expect(v.ContentType).toBe('image/webp');
    expect(v.CacheControl).toBe(VARIANT_CACHE_CONTROL);
    expect(v.ContentLength).toBe('webp bytes'.length);
  });

  it('reports a server it cannot reach as an error, not as a missing blob', async () => {
    const store = createS3BlobStore({ ...options('unreachable'), endpoint: 'http://127.0.0.1:9' });
    await expect(store.has(originalKey(sha(jpeg)))).rejects.toThrow();
  });
});

/**
 * 409 ConditionalRequestConflict: another conditional write of the key is in progress, and the object may
 * or may not end up stored. A proxy in front of versitygw answers it (see startConflictProxy).
 */
describe('s3 blob store: a put answered 409 ConditionalRequestConflict', () => {
  const data = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(5_000)]);

  /** A store whose requests pass the proxy, with the first `conflicts` conditional puts of `key` answered 409. */
  async function storeBehindProxy(
    key: string,
    conflicts: number,
    beforeConflict?: (objectKey: string) => Promise<void>,
  ) {
    const prefix = `conflict-${randomUUID()}`;
    const objectKey = `${prefix}/${key}`;
    const proxy = await startConflictProxy(server.endpoint, {
      bucket: server.bucket,
      objectKey,
      conflicts,
      beforeConflict: beforeConflict && (() => beforeConflict(objectKey)),
    });
    proxies.push(proxy);
    const store = createS3BlobStore({ ...options(prefix), endpoint: proxy.endpoint });
    return { store, proxy, objectKey };
  }
  const stored = async (objectKey: string) => {
    try {
      const res = await raw.send(new GetObjectCommand({ Bucket: server.bucket, Key: objectKey }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return null;
      throw err;
    }
  };
  const putVia = async (how: 'put' | 'putFile', store: BlobStore, key: string, body: Buffer) => {
    if (how === 'put') return store.put(key, body);
    const tmp = await store.tempPath();
    await fs.writeFile(tmp, body);
    return store.putFile(key, tmp);
  };

  it.each(['put', 'putFile'] as const)(
    '%s: when the other writer stored nothing, it is retried and the object is stored',
    async (how) => {
      const key = originalKey(sha(data));
      const { store, proxy, objectKey } = await storeBehindProxy(key, 1);
      expect(await putVia(how, store, key, data)).toEqual({ bytes: data.length, created: true });
      expect(proxy.conflicts()).toBe(1);
      expect(await stored(objectKey)).toEqual(data);
      expect(
        (await raw.send(new HeadObjectCommand({ Bucket: server.bucket, Key: objectKey }))).ContentType,
      ).toBe('image/jpeg');
    },
  );

  it('when the other writer stored the object meanwhile, it is taken as existing and left as it is', async () => {
    const key = originalKey(sha(data));
    const theirs = Buffer.from('the other writer stored this');
    const { store, proxy, objectKey } = await storeBehindProxy(key, 1, (k) =>
      raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: k, Body: theirs })).then(() => undefined),
    );
    expect(await store.put(key, data)).toEqual({ bytes: theirs.length, created: false });
    expect(proxy.conflicts()).toBe(1);
    expect(await stored(objectKey)).toEqual(theirs);
  });

  it('a put that keeps getting 409 fails after a bounded number of attempts, naming the key', async () => {
    const key = originalKey(sha(data));
    const { store, proxy, objectKey } = await storeBehindProxy(key, Number.POSITIVE_INFINITY);
    const tmp = await store.tempPath();
    await fs.writeFile(tmp, data);
    const failure = store.putFile(key, tmp);
    await expect(failure).rejects.toThrow(/409 ConditionalRequestConflict/);
    await expect(failure).rejects.toThrow(objectKey);
    expect(proxy.conflicts()).toBe(PUT_CONFLICT_ATTEMPTS);
    expect(await stored(objectKey)).toBeNull();
    await expect(fs.access(tmp)).rejects.toThrow(); // the temp file is consumed either way
  });
});
