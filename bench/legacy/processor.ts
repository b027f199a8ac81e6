/**
 * The seed system's single TourProcessor: takes the queued JSON files one at a time, downloads each
 * image, makes every size, and writes the website's table — strictly sequentially.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Tour } from '../../src/domain/tour.js';
import { createImageProcessor, type VariantSink } from '../../src/images/resize.js';
import { FORMATS, WIDTHS } from '../lib/common.js';

export async function runProcessor(pool: pg.Pool, queueDir: string, outDir: string) {
  const processor = createImageProcessor({ widths: WIDTHS, formats: FORMATS, maxPixels: 100_000_000 });
  const latenciesMs: number[] = [];
  let tours = 0;
  let imageSlots = 0;
  let n = 0;
  for (;;) {
    const next = (await readdir(queueDir)).filter((f) => f.endsWith('.json')).sort()[0];
    if (!next) {
      if (existsSync(path.join(queueDir, 'DONE'))) break;
      await sleep(20);
      continue;
    }
    const started = performance.now();
    const file = path.join(queueDir, next);
    const { tour } = JSON.parse(await readFile(file, 'utf8')) as { queuedAt: number; tour: Tour };
    const images: { url: string; sha256: string }[] = [];
    for (const img of tour.images) {
      const res = await fetch(img.url);
      if (!res.ok) throw new Error(`${img.url}: ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const dir = path.join(outDir, sha256);
      await mkdir(dir, { recursive: true });
      const sink: VariantSink = {
        tempPath: async (spec) => path.join(outDir, `.tmp-${n++}.${spec.format}`),
        async commit(spec, tmp) {
          const key = path.join(dir, `${spec.width}.${spec.format}`);
          await rename(tmp, key);
          return key;
        },
      };
      await processor.makeVariants({ input: bytes, sink });
      images.push({ url: img.url, sha256 });
      imageSlots++;
    }
    await pool.query(
      `INSERT INTO bench_legacy_tours (operator_id, external_id, title, data, images) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (operator_id, external_id) DO UPDATE SET title = EXCLUDED.title, data = EXCLUDED.data,
         images = EXCLUDED.images, imported_at = now()`,
      [tour.operatorId, tour.externalId, tour.title, JSON.stringify(tour), JSON.stringify(images)],
    );
    await rm(file);
    tours++;
    latenciesMs.push(performance.now() - started);
  }
  return { tours, imageSlots, latenciesMs };
}
