import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHousekeepingActivities } from '../../src/activities/housekeeping.js';
import { markUnreferenced } from '../../src/db/blob-gc.js';
import { DEFAULT_HOUSEKEEPING } from '../../src/domain/housekeeping.js';
import { originalKey, type BlobStore } from '../../src/storage/index.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The blob GC's sweep against a live import of the same image: an image no tour referred to for its grace
 * period, swept while a delta import takes it up again (the import found it checked recently with every
 * size stored, so it skips the resize). The test holds the sweep's transaction open while it deletes the
 * image's blobs, until the import's persist waits on it: the interleaving happens on every run.
 */
const OP = 'gc-race';

describe('blob GC against a live import', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline(
      'gcrace',
      [
        {
          id: OP,
          dialect: 'B',
          seed: 31,
          tourCount: 10,
          imagesPerTour: { min: 1, max: 1 },
          imageWidth: 400,
          imageHeight: 267,
        },
      ],
      // An image checked within the hour with every size stored is taken as it is.
      { imageRecheckMs: 3_600_000 },
    );
  });
  afterAll(async () => p?.close());

  const importOf = async (mode: 'full' | 'delta') => (await p.startImport(OP, mode)).result();
  const imageOf = async (externalId: string) =>
    (
      await p.db.pool.query(
        `SELECT ta.sha256 FROM tours t JOIN tour_assets ta ON ta.tour_id = t.id
          WHERE t.operator_id = $1 AND t.external_id = $2`,
        [OP, externalId],
      )
    ).rows[0].sha256 as string;

  it('a tour that takes up an image being swept ends imported with the image stored, and the delta mark moves', async () => {
    const sim = p.sim.operator(OP);
    expect((await importOf('full')).status).toBe('completed');
    // Two tours whose products name an image by the same URL (B's item URL, not its URL template).
    const byItemUrl = await p.db.pool.query(
      `SELECT t.external_id FROM tours t JOIN tour_assets ta ON ta.tour_id = t.id
        WHERE t.operator_id = $1 AND ta.source_url ~ '/img/[^/]+[.]jpg$' ORDER BY t.external_id LIMIT 2`,
      [OP],
    );
    const [first, second] = byItemUrl.rows.map((r) => r.external_id as string);
    // `first` gets an image of its own, then another one: the first of them is no tour's any more.
    const image = sim.replaceImage(first, 0, { newUrl: true }).images[0].id;
    expect((await importOf('delta')).progress).toMatchObject({ done: 1, failed: 0 });
    const sha = await imageOf(first);
    sim.replaceImage(first, 0, { newUrl: true });
    expect((await importOf('delta')).progress).toMatchObject({ done: 1, failed: 0 });
    expect(await markUnreferenced(p.db.pool, [sha])).toBe(1);

    // The sweep (grace 0: due at once) holds its transaction at its first blob delete.
    const gate = holdAtFirstDelete(p.store);
    const housekeeping = createHousekeepingActivities({
      pool: p.db.pool,
      store: gate.store,
      policy: { ...DEFAULT_HOUSEKEEPING, blobGc: { enabled: true, graceMs: 0 } },
      recheckAfterMs: 0,
    });
    const sweeping = new MockActivityEnvironment().run(housekeeping.sweepBlobs);
    await gate.reached;
    const sweeper = await waitFor(() => sweepingBackend(p), 30_000, 'the sweep holding its transaction');

    // Meanwhile `second` takes up the image being swept, and a delta import persists it.
    sim.useImage(second, 0, image);
    const delta = p.startImport(OP, 'delta');
    await waitFor(() => waitingOn(p, sweeper), 60_000, "the import's persist waiting on the sweep");
    gate.release();
    expect(await sweeping).toMatchObject({ swept: 1 });

    const result = await (await delta).result();
    expect(result.progress).toMatchObject({ done: 1, failed: 0 });
    const stored = await p.db.pool.query(
      `SELECT ta.status, ta.sha256 FROM tours t JOIN tour_assets ta ON ta.tour_id = t.id
        WHERE t.operator_id = $1 AND t.external_id = $2`,
      [OP, second],
    );
    expect(stored.rows).toEqual([{ status: 'ready', sha256: sha }]);
    // Its original and every size are there again, with the rows that name them.
    expect(await p.store.has(originalKey(sha))).toBe(true);
    const variants = await p.db.pool.query('SELECT storage_key FROM asset_variants WHERE sha256 = $1', [sha]);
    expect(variants.rows).toHaveLength(6);
    for (const v of variants.rows) expect(await p.store.has(v.storage_key)).toBe(true);
    // No failure was recorded, and the delta mark moved past the change.
    const failures = await p.db.pool.query('SELECT kind FROM tour_failures WHERE operator_id = $1', [OP]);
    expect(failures.rows).toEqual([]);
    const run = await p.db.pool.query(
      `SELECT r.status FROM import_runs r JOIN operators o ON o.id = r.operator_id
        WHERE r.workflow_id = $1 AND o.delta_mark_at >= r.started_at`,
      [(await delta).workflowId],
    );
    expect(run.rows).toEqual([{ status: 'completed' }]);
  });
});

/** The store, its first delete held until `release()`; `reached` once a delete is waiting. */
function holdAtFirstDelete(store: BlobStore) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let reachedIt!: () => void;
  const reached = new Promise<void>((r) => (reachedIt = r));
  const held: BlobStore = {
    ...store,
    async delete(key) {
      reachedIt();
      await released;
      return store.delete(key);
    },
  };
  return { store: held, reached, release };
}

/** The backend of the sweep's open transaction: it has deleted this schema's GC candidate. */
async function sweepingBackend(p: Pipeline): Promise<number | undefined> {
  const { rows } = await p.db.pool.query(
    `SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = 'blob_gc_candidates' AND l.mode = 'RowExclusiveLock' AND l.granted`,
    [p.db.schema],
  );
  return rows[0]?.pid;
}

/** Whether a backend waits on a lock `pid` holds. */
async function waitingOn(p: Pipeline, pid: number): Promise<boolean> {
  const { rows } = await p.db.pool.query(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))',
    [pid],
  );
  return rows[0].n > 0;
}
