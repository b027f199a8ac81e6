import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  stageBody,
  sweepLocalTemp,
  tempPathUnder,
  type BlobStore,
  type ListOptions,
  type PutResult,
} from './blob-store.js';
import { sniffImageType, variantContentType } from './content-type.js';
import { assertValidKey } from './keys.js';

/** Variants are public and their bytes never change under a key: CDNs and browsers may keep them forever. */
export const VARIANT_CACHE_CONTROL = 'public, max-age=31536000, immutable';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Prepended to every key (`<prefix>/<key>`), so one bucket can hold several deployments. */
  prefix?: string;
  /** An S3-compatible server (versitygw, MinIO, Ceph…); unset: AWS S3. */
  endpoint?: string;
  region: string;
  /** Local folder whose `.tmp` stages downloads and variants before upload (swept by sweepLocalTemp). */
  stagingDir: string;
  /** Explicit keys (tests); unset: the SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

function createS3Client(o: Pick<S3BlobStoreOptions, 'endpoint' | 'region' | 'credentials'>): S3Client {
  return new S3Client({
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint, forcePathStyle: true } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    // The SDK's default CRC checksums (since 3.729) are rejected by many S3-compatible servers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    logger: QUIET_ON_LOST_RACES,
  });
}

/**
 * Given a logger, the SDK logs every failed command at `error` (a HeadObject's 404 included), which the
 * caller gets thrown anyway; and it warns whenever a streamed upload fails, which includes the 412 of a
 * writer that lost a race for a key (an expected outcome, see upload()). Other warnings still show.
 */
const QUIET_ON_LOST_RACES = {
  debug: () => {},
  info: () => {},
  warn: (...args: unknown[]) => {
    if (!String(args[0]).includes('non-retryable streaming request')) console.warn(...args);
  },
  error: () => {},
};

/**
 * The BlobStore port on S3. Keys are content-addressed, so a key that exists already holds the right
 * bytes: puts look first (HeadObject) and upload with `If-None-Match: *`, and a retried activity that
 * finds its object uploads nothing (a 409 on the way is settled by upload()). Uploads stream a staged
 * file with its known length (one PutObject; originals are capped by IMAGE_MAX_BYTES, far below S3's
 * 5 GiB single-put limit).
 */
export function createS3BlobStore(o: S3BlobStoreOptions): BlobStore {
  const b: Bucket = {
    client: createS3Client(o),
    name: o.bucket,
    prefix: (o.prefix ?? '').replace(/^\/+|\/+$/g, ''),
    tempPath: tempPathUnder(o.stagingDir),
  };
  return {
    put: (key, body) => put(b, key, body),
    putFile: (key, tmpPath) => putFile(b, key, tmpPath),
    tempPath: b.tempPath,
    size: (key) => size(b, key),
    has: async (key) => (await size(b, key)) !== null,
    open: (key) => open(b, key),
    async delete(key) {
      await b.client.send(new DeleteObjectCommand({ Bucket: b.name, Key: objectKey(b, key) }));
    },
    list: (l) => list(b, l),
    sweepTemp: (olderThanMs) => sweepLocalTemp(o.stagingDir, olderThanMs),
  };
}

/** The bucket (and key prefix within it) one store writes to, and where it stages uploads. */
interface Bucket {
  client: S3Client;
  name: string;
  prefix: string;
  tempPath: (suffix?: string) => Promise<string>;
}

function objectKey(b: Bucket, key: string): string {
  assertValidKey(key);
  return b.prefix ? `${b.prefix}/${key}` : key;
}

async function size(b: Bucket, key: string): Promise<number | null> {
  try {
    const head = await b.client.send(new HeadObjectCommand({ Bucket: b.name, Key: objectKey(b, key) }));
    return head.ContentLength ?? 0;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

/** Whether the object shows up with this size within a second (a racing writer finishing its upload). */
async function appears(b: Bucket, key: string, bytes: number): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    if ((await size(b, key).catch(() => null)) === bytes) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * How long a put answered 409 ConditionalRequestConflict waits before each retry while the object has not
 * appeared: about 3 s in all, then it fails (and the activity's own retries take over).
 */
const CONFLICT_BACKOFF_MS = [100, 200, 400, 800, 1_600];
export const PUT_CONFLICT_ATTEMPTS = CONFLICT_BACKOFF_MS.length + 1;

/** A put's body, made afresh for each attempt: a stream is used up by the attempt that sends it. */
type BodySource = () => Buffer | Readable;

/**
 * Uploads with `If-None-Match: *`. A 409 means another conditional write of the key is in progress, which
 * may yet fail: the object counts as stored only once it exists, otherwise the put is tried again.
 */
async function upload(
  b: Bucket,
  key: string,
  body: BodySource,
  bytes: number,
  head: Buffer,
): Promise<PutResult> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await uploadOnce(b, key, body(), bytes, head);
    if (!('conflict' in outcome)) return outcome;
    const existing = await size(b, key);
    if (existing !== null) return { bytes: existing, created: false };
    const backoff = CONFLICT_BACKOFF_MS[attempt - 1];
    if (backoff === undefined) {
      throw new Error(
        `S3 answered 409 ConditionalRequestConflict to all ${attempt} conditional puts of ` +
          `"${objectKey(b, key)}" in bucket "${b.name}", and the object never appeared: ` +
          'another write of that key is stuck or keeps failing',
        { cause: outcome.conflict },
      );
    }
    await new Promise((r) => setTimeout(r, backoff));
  }
}

async function uploadOnce(
  b: Bucket,
  key: string,
  body: Buffer | Readable,
  bytes: number,
  head: Buffer,
): Promise<PutResult | { conflict: unknown }> {
  const variantType = variantContentType(key);
  try {
    await b.client.send(
      new PutObjectCommand({
        Bucket: b.name,
        Key: objectKey(b, key),
        Body: body,
        ContentLength: bytes,
        ContentType: variantType ?? sniffImageType(head),
        ...(variantType ? { CacheControl: VARIANT_CACHE_CONTROL } : {}),
        IfNoneMatch: '*',
      }),
    );
    return { bytes, created: true };
  } catch (err) {
    const status = statusOf(err);
    if (status === 409) return { conflict: err };
    // 412: another writer finished first, and the key holds the same bytes.
    if (status === 412) return { bytes: (await size(b, key)) ?? bytes, created: false };
    // A server may answer the precondition before reading the body and close the connection, which the
    // SDK reports as a reset while writing: if the object is there now, another writer stored it.
    if (status === undefined && (await appears(b, key, bytes))) return { bytes, created: false };
    throw err;
  } finally {
    if (body instanceof Readable) body.destroy();
  }
}

async function putFile(b: Bucket, key: string, tmpPath: string): Promise<PutResult> {
  try {
    const existing = await size(b, key);
    if (existing !== null) return { bytes: existing, created: false };
    const bytes = (await fs.stat(tmpPath)).size;
    return await upload(b, key, () => createReadStream(tmpPath), bytes, await readHead(tmpPath));
  } finally {
    await fs.rm(tmpPath, { force: true });
  }
}

async function put(b: Bucket, key: string, body: Buffer | Readable): Promise<PutResult> {
  const existing = await size(b, key);
  if (existing !== null) {
    if (body instanceof Readable) body.destroy();
    return { bytes: existing, created: false };
  }
  if (Buffer.isBuffer(body)) return upload(b, key, () => body, body.length, body.subarray(0, 16));
  // A stream of unknown length is staged first: PutObject needs the length, and a failed source must
  // leave no object behind.
  return putFile(b, key, await stageBody(b.tempPath, body));
}

function open(b: Bucket, key: string): Readable {
  const Key = objectKey(b, key);
  return Readable.from(
    (async function* () {
      const res = await b.client.send(new GetObjectCommand({ Bucket: b.name, Key }));
      yield* res.Body as Readable;
    })(),
    { objectMode: false },
  );
}

/** ListObjectsV2 pages (at most 1,000 keys each) until `limit`, the store's prefix taken off the keys. */
async function list(b: Bucket, l: ListOptions): Promise<string[]> {
  const base = b.prefix ? `${b.prefix}/` : '';
  const out: string[] = [];
  let startAfter = l.startAfter === undefined ? undefined : base + l.startAfter;
  while (out.length < l.limit) {
    const page = await b.client.send(
      new ListObjectsV2Command({
        Bucket: b.name,
        Prefix: base + (l.prefix ?? ''),
        StartAfter: startAfter,
        MaxKeys: Math.min(1_000, l.limit - out.length),
      }),
    );
    const keys = (page.Contents ?? []).flatMap((c) => (c.Key ? [c.Key] : []));
    out.push(...keys.map((k) => k.slice(base.length)));
    if (!page.IsTruncated || keys.length === 0) break;
    startAfter = keys.at(-1);
  }
  return out;
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

async function readHead(file: string): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(16), 0, 16, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Creates the bucket unless it exists (tests and a fresh S3-compatible server). Waits for the server:
 * connection errors are retried until `waitMs` has passed.
 */
export async function ensureBucket(
  o: Pick<S3BlobStoreOptions, 'endpoint' | 'region' | 'credentials'> & { bucket: string; waitMs?: number },
): Promise<void> {
  const client = createS3Client(o);
  const deadline = Date.now() + (o.waitMs ?? 0);
  try {
    for (;;) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: o.bucket }));
        return;
      } catch (err) {
        const status = statusOf(err);
        if (status === 409) return; // BucketAlreadyOwnedByYou / BucketAlreadyExists
        if (status !== undefined || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.destroy();
  }
}
