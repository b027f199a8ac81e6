import { afterAll, describe, expect, it } from 'vitest';
import { A_HEADERS, json, simulator } from './helpers.js';

describe('faults', () => {
  const started = simulator([
    { id: 'fa', dialect: 'A', seed: 1, tourCount: 10, credentials: { apiKey: 'k' } },
    { id: 'fb', dialect: 'B', seed: 2, tourCount: 10, credentials: { apiKey: 'k' } },
    {
      id: 'fi',
      dialect: 'A',
      seed: 3,
      tourCount: 10,
      imagesPerTour: { min: 1, max: 1 },
      imageWidth: 200,
      imageHeight: 120,
    },
  ]);
  afterAll(async () => (await started).close());

  const opOf = async (id: string) => (await started).operator(id);
  const listA = async () =>
    fetch(`${(await opOf('fa')).baseUrl}/partner/products/modified-since?count=5`, {
      headers: A_HEADERS('k'),
    });
  const listB = async () => fetch(`${(await opOf('fb')).baseUrl}/v1/products?limit=5&apiKey=k`);
  const image = async () => {
    const op = await opOf('fi');
    return fetch(op.imageUrl(op.tour(op.activeCodes()[0])!.images[0].id), { redirect: 'manual' });
  };

  it('fails every Nth request with the configured status', async () => {
    const op = await opOf('fa');
    op.setFaults({ list: [{ type: 'error', status: 503, everyNth: 3, retryAfterSeconds: 2 }] });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await listA()).status);
    expect(statuses).toEqual([200, 200, 503, 200, 200, 503]);
    op.clearFaults();
  });

  it('fails everything from now on, until cleared', async () => {
    const op = await opOf('fa');
    expect((await listA()).status).toBe(200);
    op.setFaults({ list: [{ type: 'error' }] });
    expect((await listA()).status).toBe(500);
    expect((await listA()).status).toBe(500);
    op.clearFaults('list');
    expect((await listA()).status).toBe(200);
  });

  it('throttles A with RateLimit headers, Retry-After and a JSON body', async () => {
    const op = await opOf('fa');
    op.setFaults({ list: [{ type: 'rate-limit', retryAfterSeconds: 7, times: 1 }] });
    const res = await listA();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('ratelimit-limit')).toBeTruthy();
    expect(res.headers.get('ratelimit-remaining')).toBe('0');
    expect(res.headers.get('ratelimit-reset')).toBeTruthy();
    expect(await json(res)).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      message: expect.any(String),
      timestamp: expect.any(String),
      trackingId: expect.any(String),
    });
    expect((await listA()).status).toBe(200);
    op.clearFaults();
  });

  it('throttles B with a plain 429 without Retry-After', async () => {
    const op = await opOf('fb');
    op.setFaults({ list: [{ type: 'rate-limit', retryAfterSeconds: 5 }] });
    const res = await listB();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeNull();
    op.clearFaults();
  });

  it('enforces a real quota when configured', async () => {
    const sim = await simulator([
      { id: 'q', dialect: 'A', tourCount: 10, rateLimit: { limit: 2, windowMs: 60_000 } },
    ]);
    try {
      const op = sim.operator('q');
      const call = () =>
        fetch(`${op.baseUrl}/partner/products/modified-since?count=1`, { headers: A_HEADERS('q-key') });
      expect([(await call()).status, (await call()).status]).toEqual([200, 200]);
      const third = await call();
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await sim.close();
    }
  });

  it('applies the operator latency settings to API calls and images', async () => {
    const sim = await simulator([
      {
        id: 'slow',
        dialect: 'B',
        tourCount: 10,
        imagesPerTour: { min: 1, max: 1 },
        latency: { apiMs: 100, imageMs: 150 },
      },
    ]);
    try {
      const op = sim.operator('slow');
      let t0 = performance.now();
      expect((await fetch(`${op.baseUrl}/v1/products?apiKey=slow-key`)).status).toBe(200);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
      t0 = performance.now();
      expect((await fetch(op.imageUrl(op.tour(op.activeCodes()[0])!.images[0].id))).status).toBe(200);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
    } finally {
      await sim.close();
    }
  });

  it('sends malformed JSON with a 200 and the right content type', async () => {
    const op = await opOf('fa');
    op.setFaults({ list: [{ type: 'malformed' }] });
    const res = await listA();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/json/);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();
    op.clearFaults();
  });

  it('adds latency of at least the configured amount', async () => {
    const op = await opOf('fb');
    op.setFaults({ list: [{ type: 'latency', ms: 150 }] });
    const t0 = performance.now();
    expect((await listB()).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
    op.clearFaults();
  });

  it('hangs until the client gives up', async () => {
    const op = await opOf('fb');
    op.setFaults({ list: [{ type: 'hang' }] });
    await expect(
      fetch(`${op.baseUrl}/v1/products?apiKey=k`, { signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    op.clearFaults();
  });

  it('truncates bodies and drips them slowly', async () => {
    const op = await opOf('fb');
    op.setFaults({ list: [{ type: 'truncate' }] });
    await expect(listB().then((r) => r.text())).rejects.toThrow();
    op.setFaults({ list: [{ type: 'slow-drip', bytesPerInterval: 400, intervalMs: 20 }] });
    const t0 = performance.now();
    const body = await json<{ requestStatus: { success: boolean } }>(await listB());
    expect(body.requestStatus.success).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
    op.clearFaults();
  });

  it('spoils images: wrong type, HTML as JPEG, pixel bomb, oversized, redirect', async () => {
    const op = await opOf('fi');
    op.setFaults({ image: [{ type: 'content-type', contentType: 'text/html' }] });
    expect((await image()).headers.get('content-type')).toBe('text/html');
    op.setFaults({ image: [{ type: 'html-as-image' }] });
    const html = await image();
    expect(html.headers.get('content-type')).toBe('image/jpeg');
    expect(await html.text()).toMatch(/^<!doctype html>/);
    op.setFaults({ image: [{ type: 'pixel-bomb' }] });
    const bomb = Buffer.from(await (await image()).arrayBuffer());
    expect(bomb.length).toBeLessThan(10_000);
    expect(bomb.readUInt32BE(16)).toBe(30000);
    expect(bomb.readUInt32BE(20)).toBe(30000);
    op.setFaults({ image: [{ type: 'oversized', bytes: 2_000_000 }] });
    expect(Number((await image()).headers.get('content-length'))).toBe(2_000_000);
    op.setFaults({ image: [{ type: 'redirect', location: 'http://169.254.169.254/latest/meta-data' }] });
    const redirect = await image();
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('http://169.254.169.254/latest/meta-data');
    op.clearFaults();
    expect((await image()).status).toBe(200);
  });

  it('sets faults, mutates and reports state through the HTTP admin API', async () => {
    const sim = await started;
    const admin = `${sim.url}/admin/operators/fa`;
    const put = await fetch(`${admin}/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ detail: [{ type: 'error', status: 502, probability: 1, seed: 4 }] }),
    });
    expect(put.status).toBe(200);
    const code = (await json<{ codes: string[] }>(await fetch(`${admin}/tours`))).codes[0];
    expect(
      (await fetch(`${(await opOf('fa')).baseUrl}/partner/products/${code}`, { headers: A_HEADERS('k') }))
        .status,
    ).toBe(502);
    await fetch(`${admin}/faults`, { method: 'DELETE' });

    const post = (path: string, body: unknown = {}) =>
      fetch(`${admin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(await json(await post(`/tours/${code}/change`))).toMatchObject({ tour: { code, rev: 1 } });
    expect(await json(await post(`/tours/${code}/remove`))).toMatchObject({ tour: { code, removed: true } });
    expect((await post(`/tours/${code}/remove`)).status).toBe(404);
    expect((await json<{ tours: unknown[] }>(await post('/tours', { count: 3 }))).tours).toHaveLength(3);
    expect(await json(await fetch(admin))).toMatchObject({
      catalog: { tourCount: 13, active: 12, removed: 1, added: 3 },
    });
    expect((await post('/faults/nope', [])).status).toBe(400);
    expect(await json(await post('/reset'))).toMatchObject({
      catalog: { tourCount: 10, active: 10, removed: 0 },
    });
  });
});
