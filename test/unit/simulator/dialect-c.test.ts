import { afterAll, describe, expect, it } from 'vitest';
import { tourCmsSignature } from '../../../tooling/simulator/dialect-c-auth.js';
import { simulator } from './helpers.js';

const CREDS = { apiKey: 'c-secret', channelId: '42', marketplaceId: '7' };

describe('dialect C (signed XML)', () => {
  const started = simulator([
    {
      id: 'cms',
      dialect: 'C',
      seed: 3,
      tourCount: 12,
      imagesPerTour: { min: 2, max: 2 },
      credentials: CREDS,
    },
  ]);
  afterAll(async () => (await started).close());

  async function get(
    path: string,
    opts: { key?: string; dateOffsetMs?: number } = {},
  ): Promise<{ status: number; text: string; headers: Headers }> {
    const op = (await started).operator('cms');
    const date = new Date(Date.now() + (opts.dateOffsetMs ?? 0));
    const unix = Math.floor(date.getTime() / 1000);
    const sig = tourCmsSignature(
      opts.key ?? CREDS.apiKey,
      CREDS.channelId,
      CREDS.marketplaceId,
      'GET',
      unix,
      path,
    );
    const res = await fetch(`${op.baseUrl}${path}`, {
      headers: { authorization: `TourCMS 42:7:${sig}`, date: date.toUTCString() },
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  it('lists every tour in one XML document', async () => {
    const res = await get('/c/tours/list.xml');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/xml/);
    expect(res.headers.get('x-ratelimit-limit')).toBeTruthy();
    expect(res.text).toContain('<error>OK</error>');
    expect(res.text.match(/<tour>/g)).toHaveLength(12);
  });

  it('shows one tour with escaped text, CDATA description and images', async () => {
    const id = (await started).operator('cms').activeCodes()[0];
    const res = await get(`/c/tour/show.xml?id=${id}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<tour_id>${id}</tour_id>`);
    expect(res.text).toMatch(/<longdesc><!\[CDATA\[<p>.*<\/p>\]\]><\/longdesc>/);
    expect(res.text).toContain('&amp;');
    expect(res.text.match(/<image><url>/g)).toHaveLength(2);
    expect(res.text).toMatch(/<url_large>http:\/\/[^<]+\.jpg<\/url_large>/);
    const missing = await get('/c/tour/show.xml?id=1');
    expect(missing.status).toBe(200);
    expect(missing.text).toContain('<error>NOTFOUND</error>');
  });

  it('enforces the signature and the date', async () => {
    const badKey = await get('/c/tours/list.xml', { key: 'wrong' });
    expect(badKey.status).toBe(200);
    expect(badKey.text).toContain('<error>FAIL_AUTH</error>');
    expect(badKey.text).not.toContain('<tour>');
    const skewed = await get('/c/tours/list.xml', { dateOffsetMs: -6 * 60_000 });
    expect(skewed.text).toContain('<error>FAIL_DATE</error>');
    const op = (await started).operator('cms');
    const unsigned = await fetch(`${op.baseUrl}/c/tours/list.xml`);
    expect(await unsigned.text()).toMatch(/<error>FAIL_(AUTH|DATE)<\/error>/);
  });

  it('drops a removed tour from list.xml', async () => {
    const op = (await started).operator('cms');
    const id = op.activeCodes()[2];
    op.remove(id);
    const list = await get('/c/tours/list.xml');
    expect(list.text).not.toContain(`<tour_id>${id}</tour_id>`);
    expect(list.text.match(/<tour>/g)).toHaveLength(11);
    expect((await get(`/c/tour/show.xml?id=${id}`)).text).toContain('<error>NOTFOUND</error>');
  });
});
