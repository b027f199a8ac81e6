import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';

/** IMAGE_RECHECK_MINUTES: an image checked recently is not asked for again, unless the import forces it. */
describe('images checked recently', () => {
  let p: Pipeline;
  beforeAll(
    async () =>
      void (p = await startPipeline(
        'recheck',
        [
          {
            id: 'recheck',
            dialect: 'A',
            seed: 44,
            tourCount: 12,
            imagesPerTour: { min: 2, max: 3 },
            imageWidth: 400,
            imageHeight: 267,
          },
        ],
        { imageRecheckMs: 60 * 60_000 },
      )),
  );
  afterAll(async () => p?.close());

  const op = () => p.sim.operator('recheck');
  const imageRequests = () => op().state().requests.image;
  const distinctUrls = () =>
    new Set(
      op()
        .activeCodes()
        .flatMap((c) =>
          op()
            .tour(c)!
            .images.map((i) => i.id),
        ),
    ).size;
  const notReady = async () =>
    Number(
      (
        await p.db.pool.query(
          `SELECT count(*) AS n FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id
            WHERE t.operator_id = 'recheck' AND ta.status <> 'ready'`,
        )
      ).rows[0].n,
    );

  it('changed tours whose photos were just imported are stored without asking for the photos again', async () => {
    const first = await (await p.startImport('recheck', 'full')).result();
    expect(first.progress.done).toBe(12);
    // Shared photos: at most one request per distinct image plus the odd race between two tours.
    expect(imageRequests()).toBeGreaterThanOrEqual(distinctUrls());

    const codes = op().activeCodes().slice(0, 3);
    for (const code of codes) op().change(code);
    const before = imageRequests();
    const second = await (await p.startImport('recheck', 'full')).result();
    expect(second.progress).toMatchObject({ done: 3, unchanged: 9, failed: 0 });
    expect(imageRequests() - before).toBe(0);
    expect(await notReady()).toBe(0);
    const { rows } = await p.db.pool.query(
      `SELECT t.external_id, count(ta.*)::int AS images FROM tours t JOIN tour_assets ta ON ta.tour_id = t.id
        WHERE t.operator_id = 'recheck' AND t.external_id = ANY($1::text[]) GROUP BY 1 ORDER BY 1`,
      [codes.map(String)],
    );
    expect(rows).toEqual(
      [...codes]
        .map(String)
        .sort()
        .map((c) => ({ external_id: c, images: op().tour(c)!.images.length })),
    );
  });

  it('a forced import asks for every image again (conditional GETs)', async () => {
    const before = imageRequests();
    const forced = await (await p.startImport('recheck', 'full', { force: true })).result();
    expect(forced.progress.done).toBe(12);
    expect(imageRequests() - before).toBeGreaterThanOrEqual(distinctUrls());
    expect(await notReady()).toBe(0);
  });
});
