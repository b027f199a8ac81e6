import fs from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Server } from '../../tooling/servers/s3-server.js';
import { createS3BlobStore, VARIANT_CACHE_CONTROL } from '../../src/storage/index.js';
import { createPipelineApi, startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';

/** The whole import with originals and variants in a real S3 server (versitygw), not a local folder. */
const PREFIX = 'catalog';
const CDN = 'https://cdn.example.test/tour-media';
const TOKEN = 'catalog-reader-token';
const TYPES: Record<string, string> = { jpeg: 'image/jpeg', webp: 'image/webp' };

describe('an import with BLOB_STORE=s3', () => {
  let s3: TestS3;
  let server: S3Server;
  let raw: S3Client;
  let p: Pipeline;
  let app: FastifyInstance;

  beforeAll(async () => {
    s3 = await startTestS3('s3-import');
    ({ server, raw } = s3);
    const { endpoint, region, bucket, credentials } = server;
    p = await startPipeline(
      's3import',
      [
        {
          id: 's3op',
          dialect: 'A',
          seed: 7,
          tourCount: 10,
          imagesPerTour: { min: 1, max: 3 },
          imageWidth: 640,
          imageHeight: 427,
        },
      ],
      {
        createStore: (blobDir) =>
          createS3BlobStore({ endpoint, region, bucket, credentials, prefix: PREFIX, stagingDir: blobDir }),
      },
    );
    app = await createPipelineApi(p, {
      blobPublicUrl: CDN,
      credentials: { token: TOKEN },
    });
  });
  afterAll(async () => {
    await app?.close();
    await p?.close();
    await s3?.close();
  });

  const head = (key: string) =>
    raw.send(new HeadObjectCommand({ Bucket: server.bucket, Key: `${PREFIX}/${key}` }));

  it('puts every referenced original and variant in the bucket under its key, typed and cached right', async () => {
    const result = await (await p.startImport('s3op', 'full')).result();
    expect(result.status).toBe('completed');

    const originals = (
      await p.db.pool.query(
        `SELECT DISTINCT a.storage_key, a.bytes FROM tour_assets ta JOIN assets a ON a.sha256 = ta.sha256
         WHERE ta.status = 'ready'`,
      )
    ).rows as { storage_key: string; bytes: string }[];
    const variants = (
      await p.db.pool.query(
        `SELECT v.storage_key, v.format, v.bytes FROM asset_variants v
         WHERE v.sha256 IN (SELECT sha256 FROM tour_assets WHERE status = 'ready')`,
      )
    ).rows as { storage_key: string; format: string; bytes: string }[];
    expect(originals.length).toBeGreaterThan(0);
    expect(variants.length).toBe(originals.length * 6); // 3 widths x 2 formats

    for (const o of originals) {
      const h = await head(o.storage_key);
      expect(h.ContentLength).toBe(Number(o.bytes));
      expect(h.ContentType).toBe('image/jpeg');
      expect(h.CacheControl).toBeUndefined();
    }
    for (const v of variants) {
      const h = await head(v.storage_key);
      expect(h.ContentLength).toBe(Number(v.bytes));
      expect(h.ContentType).toBe(TYPES[v.format]);
      expect(h.CacheControl).toBe(VARIANT_CACHE_CONTROL);
    }
    // Nothing else in the bucket, and nothing left in the local staging folder.
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${PREFIX}/` }));
    expect(listed.Contents?.map((c) => c.Key).sort()).toEqual(
      [...originals, ...variants].map((b) => `${PREFIX}/${b.storage_key}`).sort(),
    );
    expect(await fs.readdir(path.join(p.blobDir, '.tmp')).catch(() => [])).toEqual([]);
  });

  it('a second import of the unchanged catalog uploads nothing', async () => {
    const before = await raw.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${PREFIX}/` }));
    const result = await (await p.startImport('s3op', 'full')).result();
    expect(result.status).toBe('completed');
    const after = await raw.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${PREFIX}/` }));
    const stamps = (l: typeof before) =>
      l.Contents?.map((c) => `${c.Key} ${c.LastModified?.toISOString()}`).sort();
    expect(stamps(after)).toEqual(stamps(before));
  });

  it('the catalog page links variants to the CDN, originals through the API, and lets the CDN images load', async () => {
    const { rows } = await p.db.pool.query(
      `SELECT t.id FROM tours t JOIN tour_assets ta ON ta.tour_id = t.id WHERE ta.status = 'ready' LIMIT 1`,
    );
    const res = await app.inject({
      method: 'GET',
      url: `/tours/${rows[0].id}`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(new RegExp(`src="${CDN}/variants/[0-9a-f]{64}/\\d+\\.(jpeg|webp)"`));
    expect(res.body).not.toMatch(/src="\/blobs\//);
    expect(res.body).toMatch(/href="\/blobs\/originals\//);
    expect(res.headers['content-security-policy']).toContain("img-src 'self' https://cdn.example.test;");
    // The API still serves the store's blobs (here from S3) under /blobs/, to anyone (keys are content hashes).
    const original = /href="\/blobs\/(originals\/[^"]+)"/.exec(res.body)![1]!;
    const blob = await app.inject({ method: 'GET', url: `/blobs/${original}` });
    expect(blob.statusCode).toBe(200);
    expect(blob.rawPayload.length).toBe((await head(original)).ContentLength);
  });
});
