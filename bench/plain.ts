/**
 * Scenario 3, plain: the straightforward concurrent script one would write without durability — p-limit
 * windows for tours, downloads and resizes, downloads deduplicated by URL and resizes by content hash
 * (as the product does), each tour taken from its listing record or its detail call as the product takes
 * it, one upsert per tour. No retries, no checkpoints. With `catalogs`, several operators' catalogs at once
 * (the many-operators scenario), each within its own tour window, sharing the download and resize limits.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { createPool } from '../src/db/pool.js';
import type { OperatorAdapter } from '../src/operators/types.js';
import { configureSharp, createImageProcessor, type VariantSink } from '../src/images/resize.js';
import {
  FORMATS,
  WIDTHS,
  benchAdapter,
  jobFromEnv,
  parseOps,
  selfUsage,
  tourFromListing,
  type ActiveEntry,
  type JobResult,
  type JobSpec,
} from './lib/common.js';

interface PlainJob extends JobSpec {
  tourConcurrency: number;
  downloadConcurrency: number;
  resizeConcurrency: number;
  sharpConcurrency: number;
  catalogs?: { operatorId: string; apiKey: string }[];
}

const job = jobFromEnv<PlainJob>();
const ops = parseOps(job.operatorsYaml);
const pool = createPool(job.databaseUrl, job.schema, job.tourConcurrency);
await pool.query(`CREATE TABLE IF NOT EXISTS bench_plain_tours (
  operator_id text NOT NULL, external_id text NOT NULL, title text, data jsonb NOT NULL, images jsonb NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (operator_id, external_id))`);
configureSharp({ concurrency: job.sharpConcurrency });
const processor = createImageProcessor({ widths: WIDTHS, formats: FORMATS, maxPixels: 100_000_000 });
rmSync(job.outDir, { recursive: true, force: true });
mkdirSync(job.outDir, { recursive: true });

const downloadLimit = pLimit(job.downloadConcurrency);
const resizeLimit = pLimit(job.resizeConcurrency);
const downloads = new Map<string, Promise<{ sha256: string; bytes: Buffer }>>();
const resizes = new Map<string, Promise<void>>();
let n = 0;
let imageSlots = 0;

function download(url: string) {
  let p = downloads.get(url);
  if (!p) {
    p = downloadLimit(async () => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes };
    });
    downloads.set(url, p);
  }
  return p;
}

function resize(sha256: string, bytes: Buffer) {
  let p = resizes.get(sha256);
  if (!p) {
    p = resizeLimit(async () => {
      const dir = path.join(job.outDir, sha256);
      await mkdir(dir, { recursive: true });
      const sink: VariantSink = {
        tempPath: async (spec) => path.join(job.outDir, `.tmp-${n++}.${spec.format}`),
        async commit(spec, tmp) {
          const key = path.join(dir, `${spec.width}.${spec.format}`);
          await rename(tmp, key);
          return key;
        },
      };
      await processor.makeVariants({ input: bytes, sink });
    });
    resizes.set(sha256, p);
  }
  return p;
}

const latenciesMs: number[] = [];
async function importTour(adapter: OperatorAdapter, entry: ActiveEntry) {
  const started = performance.now();
  const tour = await tourFromListing(adapter, entry);
  if (!tour) return;
  const images = await Promise.all(
    tour.images.map(async (img) => {
      const { sha256, bytes } = await download(img.url);
      await resize(sha256, bytes);
      imageSlots++;
      return { url: img.url, sha256 };
    }),
  );
  await pool.query(
    `INSERT INTO bench_plain_tours (operator_id, external_id, title, data, images) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (operator_id, external_id) DO UPDATE SET title = EXCLUDED.title, data = EXCLUDED.data,
       images = EXCLUDED.images, imported_at = now()`,
    [tour.operatorId, tour.externalId, tour.title, JSON.stringify(tour), JSON.stringify(images)],
  );
  latenciesMs.push(performance.now() - started);
}

/** One catalog's first `maxTours` tours, `tourConcurrency` at a time. */
async function importCatalog(operatorId: string, apiKey: string) {
  const adapter = benchAdapter(
    ops.find((o) => o.id === operatorId)!,
    apiKey,
  );
  const tourLimit = pLimit(job.tourConcurrency);
  const work: Promise<void>[] = [];
  let position: string | undefined;
  let listed = 0;
  do {
    const page = await adapter.listPage(position, { mode: 'full', pageSize: 500 });
    for (const e of page.entries) {
      if (e.kind !== 'active' || listed >= job.maxTours) continue;
      listed++;
      work.push(tourLimit(() => importTour(adapter, e)));
    }
    position = page.next;
  } while (position !== undefined && listed < job.maxTours);
  await Promise.all(work);
}

const t0 = performance.now();
const catalogs = job.catalogs ?? [{ operatorId: job.operatorId, apiKey: job.apiKey }];
await Promise.all(catalogs.map((c) => importCatalog(c.operatorId, c.apiKey)));
const wallMs = performance.now() - t0;
await pool.end();
rmSync(job.outDir, { recursive: true, force: true });
const result: JobResult = {
  wallMs,
  tours: latenciesMs.length,
  imageSlots,
  downloads: downloads.size,
  resizes: resizes.size,
  latenciesMs,
  ...selfUsage(),
};
await writeFile(job.resultFile, JSON.stringify(result));
