import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Server } from '../../../src/infra/s3-server.js';
import {
  createS3BlobStore,
  originalKey,
  VARIANT_CACHE_CONTROL,
  variantKey,
  type S3BlobStoreOptions,
} from '../../../src/storage/index.js';
import { describeBlobStoreContract, sha } from '../../helpers/blob-store-contract.js';
import { startTestS3, type TestS3 } from '../../helpers/s3.js';

/** The S3 store against a real S3 server (versitygw, started here; see startTestS3). */
let s3: TestS3;
let server: S3Server;
let dir: string;
let raw: S3Client;

beforeAll(async () => {
  s3 = await startTestS3('s3-store');
  ({ server, dir, raw } = s3);
}, 60_000);

afterAll(async () => s3?.close());

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
