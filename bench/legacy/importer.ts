/**
 * The seed system's importer, reduced to its shape: walk the operator's listing, take each tour (from
 * its listing record, or its detail call where the listing has summaries only, as the product does),
 * and write one JSON file per tour into a shared folder — the folder is the queue.
 */
import { writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { OperatorAdapter } from '../../src/operators/types.js';
import { tourFromListing } from '../lib/common.js';

export async function runImporter(adapter: OperatorAdapter, queueDir: string, maxTours: number) {
  let position: string | undefined;
  let written = 0;
  do {
    const page = await adapter.listPage(position, { mode: 'full', pageSize: 500 });
    for (const e of page.entries) {
      if (written >= maxTours) break;
      if (e.kind !== 'active') continue;
      const tour = await tourFromListing(adapter, e);
      if (!tour) continue;
      const file = path.join(queueDir, `${String(written).padStart(8, '0')}-${e.externalId}.json`);
      await writeFile(`${file}.tmp`, JSON.stringify({ queuedAt: Date.now(), tour }));
      await rename(`${file}.tmp`, file);
      written++;
    }
    position = page.next;
  } while (position !== undefined && written < maxTours);
  await writeFile(path.join(queueDir, 'DONE'), String(written));
  return written;
}
