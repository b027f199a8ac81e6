import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importTourWorkflowId } from '../../src/constants.js';
import { ImportTour } from '../../src/workflows/import-tour.js';
import { startSpecOctoServer, SPEC_KEY, type SpecOctoServer } from '../helpers/octo-spec-server.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Dialect D (OCTO) end to end, on real Temporal, PostgreSQL, sharp and HTTP: the simulator's OCTO
 * operators with their faults, and a supplier written from the specification alone. The listing is one
 * answer, staged in PostgreSQL as it is parsed and paged from there; no change mark, so every import
 * lists in full, skips unchanged tours by hash and removes only by absence from a complete answer.
 */
const small = { imageWidth: 320, imageHeight: 213 };
const plain = { imagesPerTour: { min: 0, max: 0 } };
const OPERATORS = [
  {
    id: 'octo-main',
    dialect: 'D' as const,
    seed: 61,
    tourCount: 20,
    imagesPerTour: { min: 1, max: 4 },
    ...small,
  },
  { id: 'octo-cut', dialect: 'D' as const, seed: 62, tourCount: 12, ...plain },
  { id: 'octo-big', dialect: 'D' as const, seed: 63, tourCount: 12, ...plain },
  {
    id: 'octo-bare',
    dialect: 'D' as const,
    seed: 64,
    tourCount: 10,
    ...plain,
    octo: { grantContent: false },
  },
  { id: 'octo-403', dialect: 'D' as const, seed: 65, tourCount: 10, ...plain },
  {
    id: 'octo-400',
    dialect: 'D' as const,
    seed: 66,
    tourCount: 10,
    ...plain,
    octo: { authErrorsAs400: true },
  },
];

describe('dialect D (OCTO)', () => {
  let p: Pipeline;
  let spec: SpecOctoServer;
  beforeAll(async () => {
    spec = await startSpecOctoServer();
    const specOperator = (id: string, env: string, extra = '') =>
      `  - id: ${id}\n    name: ${id}\n    dialect: D\n    baseUrl: ${spec.baseUrl}\n    apiKeyEnv: ${env}\n` +
      `    rateLimit: { requestsPerSecond: 200 }\n    window: 8${extra}`;
    p = await startPipeline('octo', OPERATORS, {
      operatorYaml: { 'octo-big': 'maxListingBytes: 1048576' },
      extraOperators: [
        {
          yaml: specOperator('spec-octo', 'SPEC_OCTO_KEY', '\n    acceptLanguage: de'),
          secrets: { SPEC_OCTO_KEY: SPEC_KEY },
        },
        {
          yaml: specOperator('spec-octo-stale-key', 'SPEC_OCTO_STALE'),
          secrets: { SPEC_OCTO_STALE: 'revoked' },
        },
      ],
    });
  });
  afterAll(async () => {
    await p?.close();
    await spec?.close();
  });

  const sim = (op: string) => p.sim.operator(op);
  const query = async (sql: string, params: unknown[]) => (await p.db.pool.query(sql, params)).rows;
  const activeTours = async (op: string) =>
    (
      await query(`SELECT external_id FROM tours WHERE operator_id = $1 AND status = 'active' ORDER BY 1`, [
        op,
      ])
    ).map((r) => r.external_id as string);
  const liveCodes = (op: string) => [...sim(op).activeCodes()].sort();
  const tour = async (op: string, id: string) =>
    (
      await query(
        `SELECT status, title, description, duration_minutes, price_amount, price_currency,
                location->>'name' AS location_name
           FROM tours WHERE operator_id = $1 AND external_id = $2`,
        [op, id],
      )
    )[0];
  const runImport = async (op: string, settings = {}) => (await p.startImport(op, 'full', settings)).result();
  const push = (op: string, externalId: string) =>
    p.env.client.workflow.execute(ImportTour, {
      taskQueue: p.taskQueue,
      workflowId: importTourWorkflowId(op, externalId),
      args: [{ operatorId: op, externalId, imageTaskQueue: p.imageTaskQueue }],
    });
  const requests = (op: string) => ({ ...sim(op).state().requests });
  /** An import whose listing fails pauses its operator: the reason it gives, once it is paused. */
  const listingFailure = async (handle: WorkflowHandle, op: string) => {
    const row = await waitFor(
      async () =>
        (await query(`SELECT paused, pause_reason FROM operators WHERE id = $1`, [op])).find((r) => r.paused),
      120_000,
      `${op} paused by its failed listing`,
    );
    await handle.terminate('test: the listing failed as expected');
    return row.pause_reason as string;
  };
  const stagedRows = async (op: string) =>
    (
      await query(
        `SELECT count(*)::int AS n FROM staged_listings s JOIN import_runs r ON r.id = s.import_run_id
          WHERE r.operator_id = $1`,
        [op],
      )
    )[0].n as number;

  describe('a simulated OCTO operator', () => {
    it('a full import: every product, whole from the staged listing, images merged, no per-product call', async () => {
      const before = requests('octo-main');
      // Small pages and runs: the staged listing is paged, and its position survives continue-as-new.
      const result = await runImport('octo-main', { pageSize: 6, toursPerRun: 8 });
      expect(result.status).toBe('completed');
      expect(result.progress).toMatchObject({ listed: 20, done: 20, failed: 0, removed: 0 });
      expect(await activeTours('octo-main')).toEqual(liveCodes('octo-main'));
      const after = requests('octo-main');
      expect([after.list - before.list, after.detail - before.detail]).toEqual([1, 0]);
      const code = sim('octo-main').activeCodes()[0];
      const t = sim('octo-main').tour(code)!;
      expect(await tour('octo-main', code)).toMatchObject({
        status: 'active',
        title: t.title,
        duration_minutes: t.durationMinutes,
        price_currency: t.currency,
        location_name: t.city,
      });
      expect(Number((await tour('octo-main', code)).price_amount)).toBe(t.price);
      // Every tour's photos as the simulator has them, in order: no logo, no video, the shared one once.
      for (const c of sim('octo-main').activeCodes()) {
        const images = await query(
          `SELECT ta.source_url, ta.status FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id
            WHERE t.operator_id = 'octo-main' AND t.external_id = $1 ORDER BY ta.position`,
          [c],
        );
        // (A tour may show one of the operator's photos twice: OCTO's merged media has it once.)
        const urls = sim('octo-main')
          .tour(c)!
          .images.map((img) => sim('octo-main').imageUrl(img.id));
        expect(images.map((r) => r.source_url)).toEqual([...new Set(urls)]);
        expect(images.every((r) => r.status === 'ready')).toBe(true);
      }
    });

    it('lists in full again: unchanged tours skipped by hash, a changed one imported, an invalid one recorded', async () => {
      const [changed, broken] = sim('octo-main').activeCodes().slice(2, 4);
      sim('octo-main').change(changed);
      sim('octo-main').change(broken, { currency: 'EURO' });
      const result = await runImport('octo-main');
      expect(result.progress).toMatchObject({ listed: 20, done: 1, unchanged: 18, invalid: 1, removed: 0 });
      expect((await tour('octo-main', changed)).title).toMatch(/\(rev 1\)$/);
      const failures = await query(
        `SELECT kind, message FROM tour_failures WHERE operator_id = 'octo-main' AND external_id = $1`,
        [broken],
      );
      expect(failures).toEqual([
        { kind: 'TourValidationFailed', message: expect.stringContaining('field "price.currency"') },
      ]);
      // An invalid product is listed: never removed for it.
      expect((await tour('octo-main', broken)).status).toBe('active');
    });

    it('a product gone from a complete answer is removed through the guard; many gone are held for a person', async () => {
      const gone = sim('octo-main').activeCodes()[5];
      sim('octo-main').remove(gone);
      expect((await runImport('octo-main')).progress).toMatchObject({ removed: 1 });
      expect((await tour('octo-main', gone)).status).toBe('removed');
      // Six of nineteen at once is more than the guard lets an import remove alone.
      const many = sim('octo-main').activeCodes().slice(6, 12);
      for (const code of many) sim('octo-main').remove(code);
      const held = await runImport('octo-main');
      expect(held.progress).toMatchObject({ removed: 0, heldRemovals: 6 });
      expect(await activeTours('octo-main')).toHaveLength(19);
    });

    it('a push imports one product through GET /products/{id}; INVALID_PRODUCT_ID is TourNotFound, never a removal', async () => {
      const code = sim('octo-cut').activeCodes()[0];
      expect((await runImport('octo-cut')).status).toBe('completed');
      sim('octo-cut').change(code);
      const before = requests('octo-cut');
      expect(await push('octo-cut', code)).toMatchObject({ outcome: 'imported' });
      expect((await tour('octo-cut', code)).title).toMatch(/\(rev 1\)$/);
      const after = requests('octo-cut');
      expect([after.list - before.list, after.detail - before.detail]).toEqual([0, 1]);
      // Removed at the operator: its detail answers INVALID_PRODUCT_ID, which is not evidence of removal.
      const removed = sim('octo-cut').activeCodes()[1];
      sim('octo-cut').remove(removed);
      for (const id of [removed, 'no-such-product']) {
        const failure = await push('octo-cut', id).catch((e: unknown) => e);
        expect(failureType(failure)).toBe('TourNotFound');
      }
      // The spec promises GET /products/{id}: its answer is not looked for in the whole listing again.
      expect(requests('octo-cut').list - before.list).toBe(0);
      expect((await tour('octo-cut', removed)).status).toBe('active');
      sim('octo-cut').restore(removed);
    });

    it('a listing cut off midway fails after its retries and removes nothing; no staged rows are left', async () => {
      expect(await activeTours('octo-cut')).toHaveLength(12);
      sim('octo-cut').setFaults({ list: [{ type: 'truncate' }] });
      const before = requests('octo-cut').list;
      const reason = await listingFailure(await p.startImport('octo-cut', 'full'), 'octo-cut');
      sim('octo-cut').clearFaults();
      expect(reason).toMatch(/^listing failed: OperatorHttpError: /);
      expect(requests('octo-cut').list - before).toBe(3); // the pipeline's maximumAttempts
      expect(await activeTours('octo-cut')).toEqual(liveCodes('octo-cut'));
      expect(await stagedRows('octo-cut')).toBe(0);
    });

    it('a listing over its maxListingBytes fails at once and removes nothing', async () => {
      expect((await runImport('octo-big')).progress).toMatchObject({ done: 12 });
      sim('octo-big').setFaults({ list: [{ type: 'oversized', bytes: 2 * 1024 * 1024 }] });
      const before = requests('octo-big').list;
      const reason = await listingFailure(await p.startImport('octo-big', 'full'), 'octo-big');
      expect(reason).toMatch(/^listing failed: OperatorPayloadInvalid: .*body larger than 1048576 bytes/);
      expect(requests('octo-big').list - before).toBe(1);
      expect(await activeTours('octo-big')).toHaveLength(12);
    });

    it('an answer without octo/content fails at once, naming the capability; nothing is imported', async () => {
      const reason = await listingFailure(await p.startImport('octo-bare', 'full'), 'octo-bare');
      expect(reason).toMatch(
        /^listing failed: OperatorCapabilityMissing: operator "octo-bare" did not initialise/,
      );
      expect(reason).toContain('octo/content');
      expect(requests('octo-bare').list).toBe(1);
      expect(await activeTours('octo-bare')).toEqual([]);
    });

    it.each([
      ['octo-403', 'FORBIDDEN, HTTP 403'],
      ['octo-400', 'FORBIDDEN, HTTP 400'],
    ])('%s: a revoked key fails at once, naming the operator (%s)', async (op, said) => {
      sim(op).credentials.apiKey = 'rotated-by-the-operator';
      const reason = await listingFailure(await p.startImport(op, 'full'), op);
      expect(reason).toContain(
        `OperatorCredentialsRefused: operator "${op}" refused the credentials (${said})`,
      );
      expect(requests(op).list).toBe(1);
    });
  });

  describe('a supplier written from the specification alone', () => {
    it('imports every product fully, in the language asked for, and asks for content and pricing', async () => {
      const result = await runImport('spec-octo');
      expect(result.progress).toMatchObject({ listed: 3, done: 3, failed: 0 });
      expect(await activeTours('spec-octo')).toEqual(spec.ids().sort());
      expect(await tour('spec-octo', 'harbour-bike')).toMatchObject({
        title: 'Hafen mit dem Rad',
        description: 'Drei Stunden am Wasser.',
        duration_minutes: 180,
        price_amount: '24.00',
        price_currency: 'EUR',
        location_name: 'Harbour gate',
      });
      expect(await tour('spec-octo', 'boat-charter')).toMatchObject({
        duration_minutes: 240,
        price_amount: '450.00',
      });
      // Content without a title of its own: its internalName.
      expect(await tour('spec-octo', 'museum-pass')).toMatchObject({
        title: 'Museum pass (24 h)',
        price_amount: null,
      });
      const images = await query(
        `SELECT t.external_id, ta.source_url, ta.status FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id
          WHERE t.operator_id = 'spec-octo' ORDER BY t.external_id, ta.position`,
        [],
      );
      expect(images.map((r) => [r.external_id, r.source_url.split('/').pop(), r.status])).toEqual([
        ['boat-charter', 'boat.png', 'ready'],
        ['harbour-bike', 'harbour.jpg', 'ready'],
        ['harbour-bike', 'quay.jpg', 'ready'],
      ]);
      expect(spec.requests.filter((r) => r.path.startsWith('/products'))).toEqual([
        { path: '/products', capabilities: 'octo/content, octo/pricing', language: 'de' },
      ]);
    });

    it('a withdrawn product is removed by the next full listing; a push of it is TourNotFound', async () => {
      spec.withdraw('boat-charter');
      expect(failureType(await push('spec-octo', 'boat-charter').catch((e: unknown) => e))).toBe(
        'TourNotFound',
      );
      expect((await tour('spec-octo', 'boat-charter')).status).toBe('active');
      expect((await runImport('spec-octo')).progress).toMatchObject({ unchanged: 2, removed: 1 });
      expect((await tour('spec-octo', 'boat-charter')).status).toBe('removed');
    });

    it('UNAUTHORIZED under 400, as the spec documents it, fails at once naming the operator', async () => {
      const op = 'spec-octo-stale-key';
      const reason = await listingFailure(await p.startImport(op, 'full'), op);
      expect(reason).toContain(
        `OperatorCredentialsRefused: operator "${op}" refused the credentials (UNAUTHORIZED, HTTP 400)`,
      );
    });
  });
});

function failureType(err: unknown): string | undefined {
  expect(err).toBeInstanceOf(WorkflowFailedError);
  let current: unknown = err;
  let type: string | undefined;
  while (current instanceof Error) {
    if (current instanceof ApplicationFailure) type = current.type ?? undefined;
    current =
      current instanceof TemporalFailure || current instanceof WorkflowFailedError
        ? current.cause
        : undefined;
  }
  return type;
}
