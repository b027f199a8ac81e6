import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dryRunImport } from '../../src/operations/dry-run.js';
import type { ImportOperatorResult } from '../../src/workflows/types.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';

/**
 * `import --dry-run` on the real pipeline: it lists and decides as the import after it does, and leaves
 * the database and the blob store exactly as they were — for dialects whose listing carries tours (B),
 * the one whose tours are fetched one by one (C) and the one whose listing is one answer (D, staged by an
 * import, held in memory by a dry run), for a removal guard that would hold, and for an operator whose
 * API fails.
 */
const TOURS = { tourCount: 20, imagesPerTour: { min: 1, max: 2 }, imageWidth: 320, imageHeight: 213 };

describe('a dry run of an import', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline('dryrun', [
      { id: 'dry-b', dialect: 'B', seed: 41, ...TOURS },
      { id: 'dry-c', dialect: 'C', seed: 42, ...TOURS },
      { id: 'dry-d', dialect: 'D', seed: 45, ...TOURS },
      { id: 'dry-guard', dialect: 'B', seed: 43, ...TOURS },
      { id: 'dry-down', dialect: 'B', seed: 44, ...TOURS },
    ]);
    for (const id of ['dry-b', 'dry-c', 'dry-d', 'dry-guard', 'dry-down'])
      expect((await (await p.startImport(id, 'full')).result()).status).toBe('completed');
  });
  afterAll(async () => p?.close());

  const dryRun = (operatorId: string) =>
    dryRunImport({ client: p.env.client }, operatorId, {
      full: true,
      taskQueue: p.taskQueue,
      settings: { retry: { initialIntervalMs: 200, maximumAttempts: 2 } },
    });

  /** Two changed, two added, one gone from the listing, one that no column can store. */
  function mutate(operatorId: string) {
    const sim = p.sim.operator(operatorId);
    const [a, b, c, d] = sim.activeCodes();
    sim.change(a);
    sim.change(b);
    sim.remove(c);
    sim.change(d, { price: 1e12 });
    const added = sim.add(2).map((t) => t.code);
    return { changed: [a, b], removed: c, invalid: d, added };
  }

  for (const operatorId of ['dry-b', 'dry-c', 'dry-d']) {
    it(`${operatorId}: says what the import would do, writes nothing, and the import then does just that`, async () => {
      const m = mutate(operatorId);
      const before = await snapshot(p);
      const r = await dryRun(operatorId);
      expect(await snapshot(p)).toEqual(before);
      expect(r.status).toBe('completed');
      const d = r.dryRun!;
      expect(d).toMatchObject({ fullListing: true, listed: 21, removalsHeld: false, activeAtStart: 20 });
      expect(d.added).toEqual({ count: 2, examples: expect.arrayContaining(m.added) });
      expect(d.changed).toEqual({ count: 2, examples: expect.arrayContaining(m.changed) });
      expect(d.removed).toEqual({ count: 1, examples: [`${m.removed} (not listed)`] });
      expect(d.invalid.count).toBe(1);
      expect(d.invalid.examples[0]).toMatch(new RegExp(`^${m.invalid}: .*price\\.amount`));
      expect(d.unchanged).toBe(16);
      const sources = async () =>
        (await p.db.pool.query('SELECT count(*)::int AS n FROM asset_sources')).rows[0].n as number;
      const sourcesBefore = await sources();

      // The import after it does exactly what it said.
      const imported: ImportOperatorResult = await (await p.startImport(operatorId, 'full')).result();
      expect(imported.progress).toMatchObject({
        done: d.added.count + d.changed.count,
        removed: d.removed.count,
        unchanged: d.unchanged,
      });
      const { rows } = await p.db.pool.query(
        `SELECT count(*)::int AS n FROM tour_failures WHERE operator_id = $1 AND external_id = $2`,
        [operatorId, m.invalid],
      );
      expect(rows[0].n).toBeGreaterThan(0);
      expect((await sources()) - sourcesBefore).toBe(d.newImages.count); // the images it said were new
    });
  }

  it('says the removal guard would hold removals in bulk, and pauses no one', async () => {
    const sim = p.sim.operator('dry-guard');
    for (const code of sim.activeCodes().slice(0, 6)) sim.remove(code);
    const before = await snapshot(p);
    const r = await dryRun('dry-guard');
    expect(await snapshot(p)).toEqual(before);
    expect(r.dryRun).toMatchObject({ removed: { count: 6 }, removalsHeld: true });
    expect(r.dryRun!.removalsReason).toMatch(/would remove 6 of 20 active tours/);
    expect(r.message).toMatch(/held by the removal guard/);
  });

  it('an operator whose API fails: the dry run ends failed with the reason, trips no breaker, writes nothing', async () => {
    p.sim.operator('dry-down').addFaults('list', [{ type: 'error', status: 500, times: 100 }]);
    try {
      const before = await snapshot(p);
      const r = await dryRun('dry-down');
      expect(await snapshot(p)).toEqual(before);
      expect(r.status).toBe('failed');
      expect(r.message).toMatch(/^dry run failed: OperatorHttpError: .*500/);
    } finally {
      p.sim.operator('dry-down').clearFaults();
    }
  });
});

/**
 * Every table of the test's schema (row count and a checksum of its rows) and every file of the blob
 * store. The operators' shared rate-limit slot is left out: a dry run asks the operator's API as an
 * import would, within the same quota.
 */
async function snapshot(p: Pipeline) {
  const { rows: tables } = await p.db.pool.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'
      ORDER BY table_name`,
    [p.db.schema],
  );
  const db: Record<string, { rows: number; md5: string | null }> = {};
  for (const { table_name: t } of tables) {
    const { rows } = await p.db.pool.query(
      `SELECT count(*)::int AS n,
              md5(string_agg((to_jsonb(x) - 'rate_next_slot')::text, '|' ORDER BY (to_jsonb(x) - 'rate_next_slot')::text)) AS md5
         FROM "${t}" x`,
    );
    db[t] = { rows: rows[0].n, md5: rows[0].md5 };
  }
  return { db, blobs: files(p.blobDir) };
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      return `${path.relative(dir, file)} ${statSync(file).size}`;
    })
    .sort();
}
