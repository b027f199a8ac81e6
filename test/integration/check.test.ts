import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, type ApiOptions } from '../../src/api/app.js';
import { checkExitCode } from '../../src/cli/commands/check.js';
import { EXIT } from '../../src/cli/errors.js';
import { setPaused } from '../../src/db/operators.js';
import { checkOperator, type CheckReport, type ImageLimits } from '../../src/operations/check.js';
import { parseOperatorsYaml, type OperatorConfig } from '../../src/operators/registry.js';
import { syncOperators } from '../../src/operators/resolver.js';
import { startSimulator, type Simulator } from '../../tooling/simulator/server.js';
import { createLocalBlobStore } from '../../src/storage/blob-store.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { connectTestEnv } from '../helpers/temporal.js';

const run = promisify(execFile);
const DIALECTS = ['A', 'B', 'C', 'D'] as const;
type Dialect = (typeof DIALECTS)[number];
/** Dialects with a change mark: their check asks a delta from now. */
const DELTA: readonly Dialect[] = ['A', 'B'];
const small = { tourCount: 10, imagesPerTour: { min: 1, max: 1 }, imageWidth: 320, imageHeight: 200 };
const id = (d: Dialect, variant = '') => `chk-${d.toLowerCase()}${variant}`;
const keyEnv = (opId: string) => `OP_${opId.replace(/-/g, '_').toUpperCase()}_API_KEY`;
const LOOPBACK: ImageLimits = {
  maxBytes: 25 * 1024 * 1024,
  maxPixels: 100_000_000,
  allowPrivateHosts: ['127.0.0.1'],
};
/** Listed where the simulator serves nothing: every request answers 404. */
const GONE = 'chk-gone';

/**
 * `tour-import check` against the simulator over HTTP, for each dialect: what a healthy operator looks
 * like, each failure class, the delta check, that nothing is written, and the same report from the CLI
 * (a real process) and the API (real HTTP).
 */
describe('check', () => {
  let sim: Simulator;
  let db: TestDb;
  let configs: OperatorConfig[];
  const secrets: Record<string, string> = {};
  const deps = (o: { secret?: (n: string) => string | undefined; images?: ImageLimits } = {}) => ({
    operators: configs,
    secret: o.secret ?? ((n: string) => secrets[n]),
    pool: db.pool,
    images: o.images ?? LOOPBACK,
  });

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      operators: DIALECTS.flatMap((d) => [
        { id: id(d), dialect: d, seed: 11, ...small },
        { id: id(d, '-bad'), dialect: d, seed: 12, ...small },
      ]),
    });
    db = await createTestDb('check');
    const entries = sim.operators().map((o) => {
      secrets[keyEnv(o.id)] = o.credentials.apiKey;
      const c = o.dialect === 'C' ? `\n    channelId: ${o.credentials.channelId}` : '';
      return `  - id: ${o.id}\n    name: ${o.id}\n    dialect: ${o.dialect}\n    baseUrl: ${o.baseUrl}${c}\n    apiKeyEnv: ${keyEnv(o.id)}\n    rateLimit: { requestsPerSecond: 200 }`;
    });
    entries.push(
      `  - id: ${GONE}\n    name: gone\n    dialect: A\n    baseUrl: ${sim.url}/ops/nobody\n    apiKeyEnv: ${keyEnv(GONE)}`,
    );
    secrets[keyEnv(GONE)] = 'some-key';
    configs = parseOperatorsYaml(`operators:\n${entries.join('\n')}\n`, 'check.yaml');
    // The healthy ones are synced (and paused, below); the others are in the file only.
    await syncOperators(
      db.pool,
      configs.filter((c) => DIALECTS.some((d) => c.id === id(d))),
    );
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  /** Every table's row count: a check must leave them all as they were. */
  async function rowCounts(): Promise<Record<string, number>> {
    const { rows } = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [db.schema],
    );
    const counts: Record<string, number> = {};
    for (const { table_name } of rows) {
      const r = await db.pool.query(`SELECT count(*)::int AS n FROM "${table_name}"`);
      counts[table_name] = r.rows[0].n;
    }
    return counts;
  }
  const scratchDirs = () => readdirSync(os.tmpdir()).filter((f) => f.startsWith('tour-import-check-'));

  describe.each(DIALECTS)('dialect %s', (d) => {
    it('a healthy operator can be imported, paused or not: counts, images, rate limits, delta; nothing written', async () => {
      await setPaused(db.pool, id(d), true, 'checked while paused');
      const before = await rowCounts();
      const scratch = scratchDirs();
      const r = await checkOperator(deps(), id(d), { sampleImages: 3 });

      expect(r).toMatchObject({
        operatorId: id(d),
        dialect: d,
        importable: true,
        failed: null,
        cutShort: false,
      });
      expect(checkExitCode(r)).toBe(EXIT.ok);
      expect(r.steps.auth.status).toBe('ok');
      expect(r.steps.listing).toMatchObject({ status: 'ok', entries: 10, pages: [{ page: 1, entries: 10 }] });
      expect(r.steps.mapping).toMatchObject({ status: 'ok', valid: 10, invalid: 0, unmapped: 0 });
      expect(r.steps.images.status).toBe('ok');
      expect(r.steps.images.sampled).toHaveLength(3);
      for (const s of r.steps.images.sampled)
        expect(s).toMatchObject({
          ok: true,
          contentType: 'image/jpeg',
          width: 320,
          height: 200,
          format: 'jpeg',
        });
      if (!DELTA.includes(d)) expect(r.steps.delta).toMatchObject({ status: 'skipped', entries: null });
      else
        expect(r.steps.delta).toMatchObject({ status: 'ok', entries: 0, pages: [{ page: 1, entries: 0 }] });
      const advertised = { A: 'ratelimit-limit', B: undefined, C: 'x-ratelimit-limit', D: undefined }[d];
      if (advertised)
        expect(r.steps.rateLimit).toMatchObject({ status: 'ok', headers: { [advertised]: '100000' } });
      else expect(r.steps.rateLimit).toMatchObject({ status: 'skipped', headers: {} });
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);
      expect(JSON.stringify(r)).not.toContain(secrets[keyEnv(id(d))]);

      expect(await rowCounts()).toEqual(before);
      expect(scratchDirs()).toEqual(scratch);
      const row = await db.pool.query(`SELECT paused FROM operators WHERE id = $1`, [id(d)]);
      expect(row.rows).toEqual([{ paused: true }]);
    });

    it('a wrong key is the auth class; a missing one names its variable', async () => {
      const wrong = await checkOperator(deps({ secret: () => 'not-the-key' }), id(d));
      expect(wrong).toMatchObject({ importable: false, failed: 'auth' });
      expect(wrong.steps.auth.status).toBe('failed');
      expect(wrong.steps.listing.status).toBe('skipped');
      expect(checkExitCode(wrong)).toBe(EXIT.checkAuth);
      expect(JSON.stringify(wrong)).not.toContain('not-the-key');

      const missing = await checkOperator(deps({ secret: () => undefined }), id(d));
      expect(missing.failed).toBe('auth');
      expect(missing.steps.auth.message).toContain(`environment variable ${keyEnv(id(d))}`);
    });

    it('a listing that answers 500 is the listing class', async () => {
      sim.operator(id(d)).addFaults('list', [{ type: 'error', status: 500 }]);
      try {
        const r = await checkOperator(deps(), id(d));
        expect(r).toMatchObject({ importable: false, failed: 'listing' });
        expect(r.steps.listing).toMatchObject({
          status: 'failed',
          message: expect.stringContaining('HTTP 500'),
        });
        expect(r.steps.auth.status).toBe('skipped');
        expect(checkExitCode(r)).toBe(EXIT.checkListing);
      } finally {
        sim.operator(id(d)).clearFaults();
      }
    });

    it('invalid tours are the mapping class, each with its field path', async () => {
      const op = sim.operator(id(d, '-bad'));
      const [first, second] = op.activeCodes();
      op.change(first, { price: 1e12 });
      op.change(second, { price: 2e12 });
      const r = await checkOperator(deps(), id(d, '-bad'), { sampleImages: 0 });
      expect(r).toMatchObject({ importable: false, failed: 'mapping' });
      expect(r.steps.mapping).toMatchObject({ status: 'failed', valid: 8, invalid: 2 });
      expect(r.steps.mapping.invalidTours).toEqual(
        expect.arrayContaining(
          [first, second].map((code) => ({
            externalId: code,
            field: 'price.amount',
            reason: expect.stringContaining('must be at most'),
          })),
        ),
      );
      expect(checkExitCode(r)).toBe(EXIT.checkMapping);
    });

    it('images a rule refuses are the images class: a private address, a pixel bomb', async () => {
      const privateRefused = await checkOperator(
        deps({ images: { ...LOOPBACK, allowPrivateHosts: [] } }),
        id(d),
        {
          sampleImages: 2,
        },
      );
      expect(privateRefused).toMatchObject({ importable: false, failed: 'images' });
      expect(privateRefused.steps.images.sampled.map((s) => s.refusedBy)).toEqual(['UnsafeUrl', 'UnsafeUrl']);
      expect(checkExitCode(privateRefused)).toBe(EXIT.checkImages);

      sim.operator(id(d)).addFaults('image', [{ type: 'pixel-bomb', times: 1 }]);
      try {
        const bomb = await checkOperator(deps(), id(d), { sampleImages: 2 });
        expect(bomb.failed).toBe('images');
        expect(bomb.steps.images.sampled.map((s) => [s.ok, s.refusedBy])).toEqual([
          [false, 'ImageTooLarge'],
          [true, null],
        ]);
      } finally {
        sim.operator(id(d)).clearFaults();
      }
    });

    if (d === 'A')
      it('lists the first page by default and every page with --all (the feed to its empty last page)', async () => {
        const first = await checkOperator(deps(), id(d), { sampleImages: 0 });
        expect(first.steps.listing).toMatchObject({ entries: 10, complete: false });
        expect(first.steps.listing.pages).toHaveLength(1);
        const all = await checkOperator(deps(), id(d), { allPages: true, sampleImages: 0 });
        expect(all).toMatchObject({ importable: true, allPages: true });
        expect(all.steps.listing).toMatchObject({ status: 'ok', entries: 10, complete: true });
        expect(all.steps.listing.pages.map((p) => p.entries)).toEqual([10, 0]);
      });

    if (DELTA.includes(d))
      it('the delta from now must answer: one that fails is the listing class', async () => {
        // The first listing request (the full page) answers; the second (the delta) fails.
        sim.operator(id(d)).addFaults('list', [{ type: 'error', status: 500, after: 1, times: 1 }]);
        try {
          const r = await checkOperator(deps(), id(d), { sampleImages: 0 });
          expect(r).toMatchObject({ importable: false, failed: 'listing' });
          expect(r.steps.listing.status).toBe('ok');
          expect(r.steps.delta).toMatchObject({ status: 'failed', since: expect.any(String) });
          expect(r.steps.delta.message).toContain('HTTP 500');
        } finally {
          sim.operator(id(d)).clearFaults();
        }
      });
  });

  describe('the command line and the API', () => {
    let dir: string;
    let blobDir: string;
    let tmpDir: string;
    let env: NodeJS.ProcessEnv;
    let temporal: TestWorkflowEnvironment;
    const apps: FastifyInstance[] = [];
    const TOKEN = 'check-test-token';

    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'check-cli-'));
      blobDir = path.join(dir, 'blobs');
      tmpDir = mkdtempSync(path.join(dir, 'tmp-'));
      const file = path.join(dir, 'operators.yaml');
      writeFileSync(
        file,
        `operators:\n${configs.map((c) => `  - id: ${c.id}\n    name: ${c.id}\n    dialect: ${c.dialect}\n    baseUrl: ${c.baseUrl}\n    apiKeyEnv: ${c.apiKeyEnv}${c.dialect === 'C' ? `\n    channelId: ${c.channelId}` : ''}\n    rateLimit: { requestsPerSecond: 200 }`).join('\n')}\n`,
      );
      env = {
        ...process.env,
        ...secrets,
        OPERATORS_FILE: file,
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: db.schema,
        BLOB_DIR: blobDir,
        TMPDIR: tmpDir,
        ALLOW_PRIVATE_HOSTS: '127.0.0.1',
      };
      temporal = await connectTestEnv();
    });
    afterAll(async () => {
      for (const app of apps) await app.close();
      await temporal?.teardown();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      run('npx', ['tsx', 'src/cli/main.ts', 'check', ...args], { env: { ...env, ...extra } }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );

    async function api(options: Partial<ApiOptions> = {}) {
      const app = await createApi({
        pool: db.pool,
        client: temporal.client,
        store: createLocalBlobStore(path.join(dir, 'api-blobs')),
        operators: configs,
        secret: (n) => secrets[n],
        temporalUiUrl: 'http://localhost:8233',
        credentials: { token: TOKEN },
        imageLimits: LOOPBACK,
        ...options,
      });
      apps.push(app);
      return app;
    }

    it('exits 0 only when the operator can be imported, with a code per failure class, and writes nothing', async () => {
      const before = await rowCounts();
      const [table, auth, listing, mapping, images, unknown] = await Promise.all([
        cli([id('C')]),
        cli([id('B'), '--json'], { [keyEnv(id('B'))]: 'not-the-key' }),
        cli([GONE, '--json']),
        cli([id('A', '-bad'), '--json', '--images', '0']),
        cli([id('B'), '--json', '--images', '1'], { ALLOW_PRIVATE_HOSTS: '' }),
        cli(['nope']),
      ]);
      expect(table.code, table.stderr).toBe(EXIT.ok);
      expect(table.stdout).toContain(`${id('C')} (dialect C, ${sim.url}/ops/${id('C')}): can be imported`);
      expect(table.stdout).toMatch(/^step +status +details$/m);
      expect(table.stdout).toMatch(/^mapping +ok +10 tours valid/m);

      expect(auth.code).toBe(EXIT.checkAuth);
      expect(JSON.parse(auth.stdout)).toMatchObject({
        failed: 'auth',
        steps: { auth: { status: 'failed' } },
      });
      expect(listing.code).toBe(EXIT.checkListing);
      expect(JSON.parse(listing.stdout)).toMatchObject({
        failed: 'listing',
        steps: { listing: { status: 'failed', message: expect.stringContaining('HTTP 404') } },
      });
      expect(mapping.code).toBe(EXIT.checkMapping);
      expect(JSON.parse(mapping.stdout).steps.mapping.invalidTours[0]).toMatchObject({
        field: 'price.amount',
      });
      expect(images.code).toBe(EXIT.checkImages);
      expect(JSON.parse(images.stdout).steps.images.sampled).toEqual([
        expect.objectContaining({ ok: false, refusedBy: 'UnsafeUrl' }),
      ]);
      expect(unknown.code).toBe(EXIT.usage);
      expect(unknown.stderr).toContain('unknown operator "nope" (configured: chk-a,');

      expect(await rowCounts()).toEqual(before);
      expect(readdirSync(dir)).not.toContain('blobs');
      expect(readdirSync(tmpDir).filter((f) => f.startsWith('tour-import-check-'))).toEqual([]);
    });

    it('GET /operators/:id/check answers the CLI’s JSON, behind the API’s credentials', async () => {
      const app = await api();
      await app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const get = (p: string, auth = true) =>
        fetch(`${base}${p}`, { headers: auth ? { authorization: `Bearer ${TOKEN}` } : {} });

      expect((await get(`/operators/${id('A')}/check`, false)).status).toBe(401);
      const unknown = await get('/operators/nope/check');
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: 'unknown operator "nope" (not in the operators file)' });
      const all = await get(`/operators/${id('A')}/check?all=true`);
      expect(all.status).toBe(400);
      expect(((await all.json()) as { error: string }).error).toContain('--all');
      expect((await get(`/operators/${id('A')}/check?images=many`)).status).toBe(400);

      const [fromApi, fromCli] = await Promise.all([
        get(`/operators/${id('A')}/check?images=2`),
        cli([id('A'), '--json', '--images', '2']),
      ]);
      expect(fromApi.status).toBe(200);
      expect(fromCli.code, fromCli.stderr).toBe(EXIT.ok);
      const apiReport = (await fromApi.json()) as CheckReport;
      expect(apiReport).toMatchObject({ operatorId: id('A'), importable: true });
      expect(stable(apiReport)).toEqual(stable(JSON.parse(fromCli.stdout)));
    });

    it('the API stops at its deadline and says what it saw', async () => {
      const app = await api({ checkDeadlineMs: 1000 });
      sim.operator(id('B')).addFaults('list', [{ type: 'hang' }]);
      try {
        const res = await app.inject({
          url: `/operators/${id('B')}/check`,
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({
          importable: false,
          failed: null,
          cutShort: true,
          steps: { listing: { status: 'skipped', message: expect.stringContaining('deadline (1000 ms)') } },
        });
      } finally {
        sim.operator(id('B')).clearFaults();
      }
    });
  });
});

/** A report without what differs between two runs: timings, the moment, the operator's running counters. */
function stable(r: CheckReport) {
  const copy = structuredClone(r);
  Object.assign(copy, { checkedAt: '', durationMs: 0 });
  const { listing, delta, images, rateLimit } = copy.steps;
  for (const p of [...listing.pages, ...delta.pages]) p.ms = 0;
  for (const s of images.sampled) s.ms = 0;
  Object.assign(delta, { since: '', message: '' });
  Object.assign(rateLimit, { message: '', headers: Object.keys(rateLimit.headers).sort() });
  return copy;
}
