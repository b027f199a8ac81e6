import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperatorImportActivities } from '../../src/activities/operator-import/index.js';
import type { ListedPage } from '../../src/activities/operator-import/listing.js';
import { upsertOperator } from '../../src/db/operators.js';
import { pruneBatch } from '../../src/db/retention.js';
import { startRun, updateRun } from '../../src/db/runs.js';
import { resolveSettings } from '../../src/domain/operator-import.js';
import { createDialectDAdapter } from '../../src/operators/dialect-d.js';
import { createOperatorHttp } from '../../src/operators/http.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { until } from '../helpers/wait.js';

/**
 * The staged listing of a one-answer dialect (D) on a real PostgreSQL and a real HTTP server the test
 * steers: the first listPage stages the whole answer in batches, later calls page through the copy. A
 * first call that dies midway leaves nothing; its retry stages the answer once; an attempt that timed
 * out and still streams while its retry runs (both writing at once) never mixes with it: the first to
 * parse the whole answer is the listing, the other's rows are deleted.
 */
const OP = 'staged-octo';
const COUNT = 1_200; // more than one staging batch (500)
const products = Array.from({ length: COUNT }, (_, i) => ({
  id: `p${String(i).padStart(4, '0')}`,
  internalName: `Product ${i}`,
  title: `Tour ${i}`,
  options: [{ id: 'DEFAULT', default: true, units: [] }],
}));
const BODY = Buffer.from(JSON.stringify(products));
const HALF = BODY.indexOf(`{"id":"p0700"`);

type Behaviour = 'whole' | 'cut' | 'hold';
const behaviours: Behaviour[] = [];
let served = 0;
let release: (() => void) | undefined;

function serve(_req: http.IncomingMessage, res: http.ServerResponse) {
  served++;
  const behaviour = behaviours.shift() ?? 'whole';
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': String(BODY.length),
    'octo-capabilities': 'octo/content, octo/pricing',
  });
  if (behaviour === 'whole') return res.end(BODY);
  res.write(BODY.subarray(0, HALF));
  if (behaviour === 'cut') return void setTimeout(() => res.destroy(), 20);
  release = () => res.end(BODY.subarray(HALF));
}

describe('a listing staged in PostgreSQL as it is parsed', () => {
  let db: TestDb;
  let server: http.Server;
  let catalog: ReturnType<typeof createOperatorImportActivities>;
  let runNumber = 0;
  beforeAll(async () => {
    db = await createTestDb('staged');
    await upsertOperator(db.pool, { id: OP, name: OP, dialect: 'D', baseUrl: 'http://x', settings: {} });
    server = http.createServer(serve);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const adapter = createDialectDAdapter({
      operatorId: OP,
      http: createOperatorHttp({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
      apiKey: 'k',
    });
    catalog = createOperatorImportActivities({
      pool: db.pool,
      adapterFor: async () => adapter,
      isWorkflowRunning: async () => false,
    });
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await db?.drop();
  });

  const newRun = () =>
    startRun(db.pool, { operatorId: OP, mode: 'full', workflowId: `w${++runNumber}`, runId: 'r' });
  const settings = { ...resolveSettings({}, { pageSize: 250 }, 'full', null) };
  const list = (importRunId: number, position?: string): Promise<ListedPage> =>
    new MockActivityEnvironment().run(catalog.listPage, { operatorId: OP, importRunId, position, settings });
  const count = async (sql: string, params: unknown[]) =>
    (await db.pool.query(sql, params)).rows[0].n as number;
  const rowsOf = (importRunId: number) =>
    count(`SELECT count(*)::int AS n FROM staged_listings WHERE import_run_id = $1`, [importRunId]);
  /** Every page from the first on: the tours the import would decide, in order. */
  async function allPages(importRunId: number, first: ListedPage) {
    const listed = [first.listed];
    let page = first;
    while (page.next !== undefined) {
      page = await list(importRunId, page.next);
      listed.push(page.listed);
    }
    const staged = await count(`SELECT count(*)::int AS n FROM staged_listings WHERE import_run_id = $1`, [
      importRunId,
    ]);
    return { listed, staged };
  }

  it('a first call cut off midway leaves no rows and fails retryably; its retry stages the answer once', async () => {
    const run = await newRun();
    behaviours.push('cut');
    const failed = await list(run).catch((e: unknown) => e);
    expect(failed).toMatchObject({ type: 'OperatorHttpError', nonRetryable: false });
    expect(await rowsOf(run)).toBe(0);
    const first = await list(run);
    expect(first.listed).toBe(250);
    expect(first.next).toMatch(/^staged:[0-9a-f-]{36}:250$/);
    const { listed, staged } = await allPages(run, first);
    expect(listed).toEqual([250, 250, 250, 250, 200]);
    expect(staged).toBe(COUNT);
    // The tours are those of the answer, each once.
    const ids = await db.pool.query(
      `SELECT external_id FROM staged_listings WHERE import_run_id = $1 ORDER BY seq`,
      [run],
    );
    expect(ids.rows.map((r) => r.external_id)).toEqual(products.map((p) => p.id));
  });

  it('a first call retried after it completed pages the same listing, without asking the operator again', async () => {
    const run = await newRun();
    const first = await list(run);
    const before = served;
    const again = await list(run);
    expect(served).toBe(before);
    expect(again).toEqual(first);
  });

  it('an attempt still streaming while its retry runs: the one that finishes first is the listing, the other leaves nothing', async () => {
    const run = await newRun();
    behaviours.push('hold');
    const zombie = list(run);
    // The first attempt has staged a batch and is waiting for the rest of its answer.
    await until(async () => (await rowsOf(run)) >= 500, 'the first attempt staging its first batch');
    const retry = await list(run);
    // Finishing first made it the listing: the first attempt's batch is gone already.
    expect(await rowsOf(run)).toBe(COUNT);
    release!();
    const late = await zombie;
    expect(late).toEqual(retry);
    expect(await rowsOf(run)).toBe(COUNT);
    expect(
      await count(`SELECT count(*)::int AS n FROM staged_listing_runs WHERE import_run_id = $1`, [run]),
    ).toBe(1);
    expect((await allPages(run, retry)).listed.reduce((a, b) => a + b)).toBe(COUNT);
  });

  it("the operator's next import drops the staged listings of its finished runs", async () => {
    const old = await newRun();
    await list(old);
    await updateRun(db.pool, old, {
      status: 'completed',
      counts: { listed: COUNT, done: 0, unchanged: 0, failed: 0, removed: 0, invalid: 0 },
      message: null,
    });
    const next = await newRun();
    await list(next);
    expect(await rowsOf(old)).toBe(0);
    expect(await rowsOf(next)).toBe(COUNT);
  });

  it("Housekeeping's staged-tours retention prunes the listings of finished runs, never an open run's", async () => {
    const open = await newRun();
    await list(open);
    const finished = await newRun();
    await list(finished);
    await updateRun(db.pool, finished, { status: 'failed', counts: {}, message: 'ended' });
    await pruneBatch(db.pool, 'staged_tours', { olderThanMs: 0, limit: 100_000, persistedKeepMs: 0 });
    expect(await rowsOf(finished)).toBe(0);
    expect(
      await count(`SELECT count(*)::int AS n FROM staged_listing_runs WHERE import_run_id = $1`, [finished]),
    ).toBe(0);
    expect(await rowsOf(open)).toBe(COUNT);
    expect((await list(open, `staged:${(await list(open)).next!.split(':')[1]}:1000`)).listed).toBe(200);
  });
});
