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
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Up to `limit` keys starting with `prefix`, after `startAfter` when given, in ascending byte order:
   * the last key of a page is the next page's `startAfter`. Temp files are not keys.
   */
  list(o: ListOptions): Promise<string[]>;
  /** A fresh path on a filesystem the store can move from cheaply; the caller writes it. */
  tempPath(suffix?: string): Promise<string>;
  /** Removes this store's temp files older than `olderThanMs` (see sweepLocalTemp); returns how many. */
  sweepTemp(olderThanMs: number): Promise<number>;
}

export interface ListOptions {
  prefix?: string;
  startAfter?: string;
  limit: number;
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
      const created = await publishInto(tmpPath, target);
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
      const file = fileOf(key);
      await fs.rm(file, { force: true });
      await removeEmptyParents(root, path.dirname(file));
    },
    list: (o) => listLocal(root, o),
    sweepTemp: (olderThanMs) => sweepLocalTemp(root, olderThanMs),
  };
}

/**
 * Keys under `root` in the order S3 lists them (byte order of the whole key): a folder sorts as its name
 * plus '/', so `a.x` comes before `a/b`. Folders wholly before `startAfter` or outside `prefix` are not
 * read, so a page costs the folders on its way, not the whole tree.
 */
async function listLocal(root: string, o: ListOptions): Promise<string[]> {
  const prefix = o.prefix ?? '';
  const after = o.startAfter;
  const out: string[] = [];
  async function walk(dirKey: string): Promise<void> {
    const entries = await fs
      .readdir(path.join(root, ...dirKey.split('/').filter(Boolean)), { withFileTypes: true })
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [];
        throw err;
      });
    const named = entries
      .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || e.isFile()))
      .map((e) => ({ key: `${dirKey}${e.name}${e.isDirectory() ? '/' : ''}`, dir: e.isDirectory() }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const e of named) {
      if (out.length >= o.limit) return;
      if (!e.key.startsWith(prefix) && !(e.dir && prefix.startsWith(e.key))) continue;
      if (after !== undefined && e.key <= after && !(e.dir && after.startsWith(e.key))) continue;
      if (e.dir) await walk(e.key);
      else out.push(e.key);
    }
  }
  await walk('');
  return out;
}

/**
 * Folders a delete left empty go too (a variant folder per original adds up). A writer that made the
 * folder a moment ago and is about to link into it finds it gone and makes it again (see putFile).
 */
async function removeEmptyParents(root: string, dir: string): Promise<void> {
  while (dir.startsWith(root + path.sep)) {
    try {
      await fs.rmdir(dir);
    } catch {
      return; // not empty (ENOTEMPTY), already gone, or not ours to remove: stop here
    }
    dir = path.dirname(dir);
  }
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

/** publish(), making the target's folder first, again if a delete removed it in between. */
async function publishInto(tmpPath: string, target: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      return await publish(tmpPath, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
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
