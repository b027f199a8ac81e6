import { afterAll, describe, expect, it } from 'vitest';
import { simulator } from './helpers.js';

describe('images', () => {
  const started = simulator([
    {
      id: 'pics',
      dialect: 'A',
      seed: 9,
      tourCount: 10,
      imagesPerTour: { min: 2, max: 2 },
      imageWidth: 320,
      imageHeight: 200,
    },
  ]);
  afterAll(async () => (await started).close());

  async function firstImage() {
    const op = (await started).operator('pics');
    const code = op.activeCodes()[0];
    return { op, code, url: op.tour(code)!.images.map((i) => op.imageUrl(i.id))[0] };
  }

  it('serves a JPEG with a strong ETag and Last-Modified, and 304 for If-None-Match', async () => {
    const { url } = await firstImage();
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(res.headers.get('last-modified')).toBeTruthy();

    const again = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    const same = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(same.equals(bytes)).toBe(true);
  });

  it('serves smaller variants and 404 for unknown images', async () => {
    const { op, url } = await firstImage();
    const thumb = await fetch(`${url}?w=100`);
    expect(thumb.status).toBe(200);
    expect(Number(thumb.headers.get('content-length'))).toBeLessThan(
      Number((await fetch(url)).headers.get('content-length')),
    );
    expect((await fetch(`${op.baseUrl}/img/p999999.jpg`)).status).toBe(404);
  });

  it('gives a replaced image new bytes and a new ETag under the same URL', async () => {
    const { op, code, url } = await firstImage();
    const before = await fetch(url);
    const etag = before.headers.get('etag')!;
    op.replaceImage(code, 0);
    const after = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(Date.parse(after.headers.get('last-modified')!)).toBeGreaterThan(
      Date.parse(before.headers.get('last-modified')!),
    );
  });

  it('can replace an image under a new URL for one tour only', async () => {
    const { op, code, url } = await firstImage();
    const tour = op.replaceImage(code, 1, { newUrl: true });
    const newUrl = op.imageUrl(tour.images[1].id);
    expect(newUrl).not.toBe(url);
    const res = await fetch(newUrl);
    expect(res.status).toBe(200);
  });
});
