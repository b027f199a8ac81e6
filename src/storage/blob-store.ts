import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey } from './keys.js';

export interface PutResult {
  bytes: number;
  /** false when the key already existed: the store kept the existing blob untouched. */
  created: boolean;
}

/**
 * Blob storage for originals and variants. Writes are all-or-nothing and idempotent: a reader
 * never sees a partial blob, and writing an existing key leaves it as it is. Local disk
 * implements it below; the S3 store (s3-blob-store.ts) stages in a local temp dir and uploads in putFile.
 */
export interface BlobStore {
  put(key: string, body: Buffer | Readable): Promise<PutResult>;
  /** Moves a finished temp file (from tempPath) into the store; the temp file is gone afterwards. */
  putFile(key: string, tmpPath: string): Promise<PutResult>;
  has(key: string): Promise<boolean>;
  /** Size in bytes, or null when the key does not exist. */
  size(key: string): Promise<number | null>;
  open(key: string): Readable;
  /** A local file path for the blob, when the store has one (lets sharp read without a stream). */
  path?(key: string): string;
  delete(key: string): Promise<void>;
  /** A fresh path on a filesystem the store can move from cheaply; the caller writes it. */
  tempPath(suffix?: string): Promise<string>;
}

const TMP_DIR = '.tmp';

/**
 * A fresh temp file name under `<rootDir>/.tmp`, the folder sweepLocalTemp cleans. Both stores stage
 * there: the local one so the final link never crosses filesystems, the S3 one before uploading.
 */
export function tempPathUnder(rootDir: string): (suffix?: string) => Promise<string> {
  const tmpDir = path.join(path.resolve(rootDir), TMP_DIR);
  return async (suffix = '') => {
    await fs.mkdir(tmpDir, { recursive: true });
    return path.join(tmpDir, `${randomUUID()}${suffix.replace(/[^A-Za-z0-9.]/g, '')}`);
  };
}

/** Writes a body to a fresh temp file and returns its path; a failed source leaves no file behind. */
export async function stageBody(tempPath: () => Promise<string>, body: Buffer | Readable): Promise<string> {
  const tmp = await tempPath();
  try {
    await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(tmp));
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  return tmp;
}

export function createLocalBlobStore(rootDir: string): BlobStore {
  const root = path.resolve(rootDir);
  const tempPath = tempPathUnder(root);

  function fileOf(key: string): string {
    assertValidKey(key);
    return path.join(root, ...key.split('/'));
  }

  async function putFile(key: string, tmpPath: string): Promise<PutResult> {
    const target = fileOf(key);
    try {
      const bytes = await syncFile(tmpPath);
      await fs.mkdir(path.dirname(target), { recursive: true });
      const created = await publish(tmpPath, target);
      return { bytes: created ? bytes : ((await sizeOf(target)) ?? bytes), created };
    } finally {
      await fs.rm(tmpPath, { force: true });
    }
  }

  async function put(key: string, body: Buffer | Readable): Promise<PutResult> {
    const target = fileOf(key);
    // Cheap early exit for the common re-import case; putFile still handles a racing writer.
    const existing = await sizeOf(target);
    if (existing !== null) {
      if (body instanceof Readable) body.destroy();
      return { bytes: existing, created: false };
    }
    return putFile(key, await stageBody(tempPath, body));
  }

  return {
    put,
    putFile,
    tempPath,
    async has(key) {
      return (await sizeOf(fileOf(key))) !== null;
    },
    size: (key) => sizeOf(fileOf(key)),
    open: (key) => createReadStream(fileOf(key)),
    path: fileOf,
    async delete(key) {
      await fs.rm(fileOf(key), { force: true });
    },
  };
}

/**
 * Removes temp files older than `olderThanMs` (left behind when a worker died mid-write). Safe to
 * run while workers are busy as long as the age exceeds the longest download or resize.
 */
export async function sweepLocalTemp(rootDir: string, olderThanMs: number): Promise<number> {
  const dir = path.join(path.resolve(rootDir), TMP_DIR);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    const st = await fs.stat(file).catch(() => null);
    if (st && Date.now() - st.mtimeMs > olderThanMs) {
      await fs.rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}

/**
 * Makes the blob visible under its final name atomically and without overwriting. link() fails
 * with EEXIST when another writer got there first, which is exactly "keep the existing blob";
 * where hard links are unsupported, rename() is still atomic and, the content being addressed by
 * its hash, replacing an identical file is harmless.
 */
async function publish(tmpPath: string, target: string): Promise<boolean> {
  try {
    await fs.link(tmpPath, target);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      if ((await sizeOf(target)) !== null) return false;
      await fs.rename(tmpPath, target);
      return true;
    }
    throw err;
  }
}

/** fsync before publishing: after a crash the name must never point at a half-written file. */
async function syncFile(file: string): Promise<number> {
  const fh = await fs.open(file, 'r+');
  try {
    await fh.sync();
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    const st = await fs.stat(file);
    return st.isFile() ? st.size : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
