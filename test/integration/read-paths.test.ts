import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DURATION_BUCKETS, createMetrics } from '../../src/api/metrics.js';
import { renderOperatorsPage } from '../../src/api/catalog/operators-page.js';
import { renderTourPage, renderToursPage } from '../../src/api/catalog/tours-page.js';
import { failuresCommand, operatorStatus, runsCommand } from '../../src/cli/commands/status.js';
import { originalContentType } from '../../src/db/catalog-pages.js';
import { inTransaction, type Pool } from '../../src/db/pool.js';
import * as removals from '../../src/db/removals.js';
import { pruneBatch } from '../../src/db/retention.js';
import { recordFailure, startRun, updateRun } from '../../src/db/runs.js';
import { markRemoved, replaceTourAssets, upsertTour, type TourAssetInput } from '../../src/db/tours.js';
import type { Tour } from '../../src/domain/tour.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

/**
 * The metrics scrape, the operators page, the tours pages and `tour-import status` on a catalog of
 * 100,000 tours and 10,000 runs: the plan of every query they run (captured from the real functions)
 * reads no big table whole, and the counts they read agree with count(*) after writes.
 */
const BIG_TABLES = new Set([
  'tours',
  'tour_assets',
  'assets',
  'asset_variants',
  'import_runs',
  'tour_failures',
  'staged_tours',
  'webhook_deliveries',
  'notification_deliveries',
]);
const OPERATORS = 50;

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb('read_paths');
  await seed(db.pool);
}, 300_000);
afterAll(async () => db?.drop());

async function seed(pool: Pool) {
  const ops = `'op' || lpad((1 + g % ${OPERATORS})::text, 2, '0')`;
  await pool.query(
    `INSERT INTO operators (id, name, dialect, base_url)
     SELECT ${ops}, 'Operator ' || g, 'A', 'http://op.invalid' FROM generate_series(0, ${OPERATORS - 1}) g`,
  );
  await pool.query(
    `INSERT INTO tours (operator_id, external_id, status, title, fetched_at, removed_at)
     SELECT ${ops}, 'T' || g, CASE WHEN g % 20 = 0 THEN 'removed' ELSE 'active' END, 'Tour ' || md5(g::text),
            now(), CASE WHEN g % 20 = 0 THEN now() END
       FROM generate_series(1, 100000) g`,
  );
  await pool.query(
    `INSERT INTO assets (sha256, storage_key, bytes, content_type, width, height, format)
     SELECT 's' || g, 'originals/s' || g, 1000, 'image/jpeg', 1600, 1200, 'jpg' FROM generate_series(1, 10000) g`,
  );
  await pool.query(
    `INSERT INTO asset_variants (sha256, width, format, storage_key, actual_width, actual_height, bytes)
     SELECT 's' || g, w, 'webp', 'variants/s' || g || '/' || w || '.webp', w, w, 100
       FROM generate_series(1, 10000) g, unnest('{200,800}'::int[]) w`,
  );
  await pool.query(
    `INSERT INTO tour_assets (tour_id, position, source_url, sha256, status, failure_reason)
     SELECT t.id, p, 'http://img.invalid/' || t.id || '/' || p, 's' || (1 + (t.id * 2 + p) % 10000),
            CASE WHEN t.id % 50 = 0 AND p = 1 THEN 'failed' ELSE 'ready' END,
            CASE WHEN t.id % 50 = 0 AND p = 1 THEN 'download failed' END
       FROM tours t, generate_series(0, 1) p`,
  );
  await pool.query(
    `INSERT INTO import_runs (operator_id, mode, status, workflow_id, run_id, counts, started_at, finished_at)
     SELECT ${ops}, (ARRAY['delta', 'full', 'tour'])[1 + g % 3], CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'completed' END,
            'import:' || g, 'r' || g, '{"listed": 10, "done": 9, "failed": 1}',
            now() - make_interval(mins => g), now() - make_interval(mins => g) + make_interval(secs => g % 4000)
       FROM generate_series(1, 10000) g`,
  );
  await pool.query(
    `INSERT INTO tour_failures (operator_id, external_id, kind, message, occurred_at)
     SELECT ${ops}, 'T' || g, (ARRAY['InvalidTour', 'ImageFailed'])[1 + g % 2], 'failed', now() - make_interval(mins => g)
       FROM generate_series(1, 10000) g`,
  );
  await pool.query(
    `INSERT INTO notification_deliveries (dedup_key, sink, operator_id, event, message, status, updated_at)
     SELECT 'n' || g, 'slack', ${ops}, 'import-failed', 'an import failed', 'delivered', now() - make_interval(mins => g)
       FROM generate_series(1, 10000) g`,
  );
  await pool.query(
    `INSERT INTO webhook_deliveries (operator_id, webhook_id, received_at)
     SELECT ${ops}, 'w' || g, now() - make_interval(mins => g) FROM generate_series(1, 10000) g`,
  );
  // Removals held for a person on one operator: the page and `status` list them.
  await pool.query(
    `INSERT INTO removals (operator_id, external_id, import_run_id, evidence, status)
     SELECT operator_id, external_id, (SELECT min(id) FROM import_runs), 'unlisted', 'held'
       FROM tours WHERE operator_id = 'op02' AND status = 'active' ORDER BY id LIMIT 5`,
  );
  await pool.query('ANALYZE');
}

/** A pool that runs every query and remembers it, so the test explains what the code really sends. */
function recording(pool: Pool): { db: Pool; queries: { text: string; values?: unknown[] }[] } {
  const queries: { text: string; values?: unknown[] }[] = [];
  const db = {
    query: (text: string, values?: unknown[]) => {
      queries.push({ text, values });
      return pool.query(text, values);
    },
  };
  return { db: db as unknown as Pool, queries };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** The big tables each query's plan reads with a sequential scan. */
async function seqScans(pool: Pool, queries: { text: string; values?: unknown[] }[]) {
  const found: { query: string; tables: string[] }[] = [];
  for (const q of queries) {
    const { rows } = await pool.query(`EXPLAIN (FORMAT JSON) ${q.text}`, q.values);
    const tables: string[] = [];
    const walk = (n: PlanNode) => {
      if (n['Node Type'] === 'Seq Scan' && BIG_TABLES.has(n['Relation Name'] ?? ''))
        tables.push(n['Relation Name']!);
      n.Plans?.forEach(walk);
    };
    walk(rows[0]['QUERY PLAN'][0].Plan);
    if (tables.length) found.push({ query: q.text.replace(/\s+/g, ' '), tables });
  }
  return found;
}

describe('read paths on 100,000 tours and 10,000 runs', () => {
  it('no query of the scrape, the pages or status reads a big table with a sequential scan', async () => {
    const { db: rec, queries } = recording(db.pool);
    const metrics = await createMetrics(rec).registry.metrics();
    expect(metrics).toMatch(/^tour_import_tours\{operator="op01",status="active"\} \d+$/m);
    const page = await renderOperatorsPage({
      pool: rec,
      client: {} as Client, // no import is running: the page asks Temporal nothing
      temporalUiUrl: 'http://ui.invalid',
      namespace: 'default',
    });
    expect(page).toContain('5 removals held for review');
    const { operators } = await operatorStatus({ pool: rec, client: 'no Temporal in this test' });
    expect(operators).toHaveLength(OPERATORS);
    await operatorStatus({ pool: rec, client: 'no Temporal in this test' }, 'op02');
    await runsCommand({ pool: rec }, 'op03');
    await failuresCommand({ pool: rec }, 'op03');
    expect(await renderToursPage(rec, '', 1)).toMatch(/95000 tours/);
    await renderToursPage(rec, '', 20);
    const { rows } = await db.pool.query(`SELECT id FROM tours WHERE external_id = 'T4242'`);
    expect(await renderTourPage(rec, rows[0].id)).toContain('variants/');
    expect(await originalContentType(rec, 'originals/s77')).toBe('image/jpeg');
    expect(queries.length).toBeGreaterThan(10);

    expect(await seqScans(db.pool, queries)).toEqual([]);
  });

  it('the search with text is the one read left that scans (a substring has no index)', async () => {
    const { db: rec, queries } = recording(db.pool);
    expect(await renderToursPage(rec, 'abc', 1)).toMatch(/tours? matching/);
    const scans = await seqScans(db.pool, queries);
    // The count always; the page too when the planner expects few matches.
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) {
      expect(scan.tables).toEqual(['tours']);
      expect(scan.query).toMatch(/WHERE (t\.)?status = 'active' AND .*title ILIKE/);
    }
  });

  it('the duration buckets in SQL are the ones the histogram reports', async () => {
    const { rows } = await db.pool.query(
      `SELECT import_duration_le(b) AS at, import_duration_le(b + 0.5) AS above FROM unnest($1::float8[]) b`,
      [DURATION_BUCKETS],
    );
    expect(rows.map((r) => r.at)).toEqual(DURATION_BUCKETS);
    expect(rows.map((r) => r.above)).toEqual([...DURATION_BUCKETS.slice(1), null]);
  });

  it('counts kept on write agree with count(*) after writes, concurrent ones included', async () => {
    const pool = db.pool;
    const durationsBefore = await histogramCount(pool);
    // Tours persisted concurrently for one operator, their image lists replaced with other statuses.
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        persist(
          pool,
          tour('op05', `NEW${i % 12}`),
          i % 2 ? [asset(0, 'ready'), asset(1, 'failed')] : [asset(0, 'failed')],
        ),
      ),
    );
    await persist(pool, tour('op05', 'T5'), [asset(0, 'ready'), asset(1, 'ready'), asset(2, 'failed')]);
    await markRemoved(pool, 'op05', 'NEW3');
    await inTransaction(pool, (tx) => removals.apply(tx, 'op02', { held: true }));
    const run = await startRun(pool, {
      operatorId: 'op05',
      mode: 'full',
      workflowId: 'import:new',
      runId: 'x',
    });
    await updateRun(pool, run, { status: 'running', counts: { listed: 3 } });
    await updateRun(pool, run, { status: 'completed', counts: { listed: 3, done: 3 } });
    await updateRun(pool, run, { status: 'completed', counts: { listed: 3, done: 3 } }); // a retried update
    await recordFailure(pool, {
      operatorId: 'op05',
      externalId: 'NEW1',
      kind: 'InvalidTour',
      message: 'bad',
    });
    expect(await histogramCount(pool)).toBe(durationsBefore + 1);

    const batch = { olderThanMs: 3 * 24 * 3_600_000, limit: 1_000, persistedKeepMs: 3_600_000 };
    expect(await pruneBatch(pool, 'import_runs', batch)).toBeGreaterThan(0);
    expect(await pruneBatch(pool, 'tour_failures', batch)).toBeGreaterThan(0);

    for (const [metric, actual] of Object.entries(COUNT_STAR)) {
      expect(await counted(pool, metric), metric).toEqual(await rowsOf(pool, actual));
    }
    // Retention takes runs out of import_runs, not out of the histogram: it only grows.
    expect(await histogramCount(pool)).toBe(durationsBefore + 1);
  });
});

/** What each count of read_counts is, counted from its table. */
const COUNT_STAR: Record<string, string> = {
  tours: `SELECT operator_id, jsonb_build_object('status', status) AS labels, count(*) AS n FROM tours GROUP BY 1, 2`,
  images: `SELECT t.operator_id, jsonb_build_object('status', a.status) AS labels, count(*) AS n
             FROM tour_assets a JOIN tours t ON t.id = a.tour_id GROUP BY 1, 2`,
  tour_failures: `SELECT operator_id, jsonb_build_object('kind', kind) AS labels, count(*) AS n FROM tour_failures GROUP BY 1, 2`,
  import_runs: `SELECT operator_id, jsonb_build_object('mode', mode, 'status', status) AS labels, count(*) AS n
                  FROM import_runs GROUP BY 1, 2`,
};

async function counted(pool: Pool, metric: string) {
  return rowsOf(pool, `SELECT operator_id, labels, n FROM read_counts WHERE metric = '${metric}' AND n <> 0`);
}

async function rowsOf(pool: Pool, sql: string): Promise<string[]> {
  const { rows } = await pool.query(sql);
  return rows.map((r) => `${r.operator_id} ${JSON.stringify(r.labels)} ${Number(r.n)}`).sort();
}

async function histogramCount(pool: Pool): Promise<number> {
  const { rows } = await pool.query(`SELECT sum(n) AS n FROM read_counts WHERE metric = 'import_duration'`);
  return Number(rows[0].n);
}

function tour(operatorId: string, externalId: string): Tour {
  return {
    operatorId,
    externalId,
    title: `Tour ${externalId}`,
    description: '',
    durationMinutes: 60,
    price: null,
    location: null,
    images: [],
    sourceUpdatedAt: null,
  };
}

function asset(position: number, status: 'ready' | 'failed'): TourAssetInput {
  return {
    position,
    sourceUrl: `http://img.invalid/${position}`,
    caption: null,
    sha256: status === 'ready' ? 's1' : null,
    status,
    failureReason: status === 'failed' ? 'download failed' : null,
  };
}

/** What persistTour writes, in one transaction: the tour, then its image list. */
async function persist(pool: Pool, t: Tour, assets: TourAssetInput[]) {
  await inTransaction(pool, async (tx) => {
    const id = await upsertTour(tx, t, `hash-${assets.length}`, new Date());
    if (id !== undefined) await replaceTourAssets(tx, id, assets);
  });
}
