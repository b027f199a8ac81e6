import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipelineApi, startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/** The catalog page in headless Chromium, against a real import. */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const UI = 'http://temporal-ui.test:8233';
const tag = randomBytes(3).toString('hex');
const [IDLE, PAUSED, BUSY] = [`cat${tag}a`, `cat${tag}b`, `cat${tag}c`];
const small = { imageWidth: 400, imageHeight: 267 };
const LOGIN = { username: 'editor', password: randomBytes(12).toString('base64url') };

describe('catalog page in headless Chromium', () => {
  let p: Pipeline;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;
  const background: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium is missing at ${CHROMIUM}: install it with \`apt-get install -y chromium\``);
    p = await startPipeline('catalog', [
      { id: IDLE, dialect: 'A', seed: 7, tourCount: 14, imagesPerTour: { min: 1, max: 2 }, ...small },
      { id: PAUSED, dialect: 'B', seed: 8, tourCount: 10, imagesPerTour: { min: 0, max: 1 }, ...small },
      { id: BUSY, dialect: 'A', seed: 9, tourCount: 10, imagesPerTour: { min: 0, max: 1 }, ...small },
    ]);
    expect((await (await p.startImport(IDLE, 'full')).result()).status).toBe('completed');
    // A broken listing trips the breaker: the import pauses itself with the reason.
    p.sim.operator(PAUSED).addFaults('list', [{ type: 'error', status: 500 }]);
    background.push((await p.startImport(PAUSED, 'full')).workflowId);
    await until(async () => (await operatorRow(PAUSED)).paused === true);

    app = await createPipelineApi(p, {
      temporalUiUrl: UI,
      credentials: { basic: { user: LOGIN.username, password: LOGIN.password } },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    // Chromium answers the API's Basic challenge with these, as a person would in the login prompt.
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, httpCredentials: LOGIN });
    mkdirSync('test-artifacts', { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    for (const id of background)
      await p.env.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    await p?.close();
  });

  const operatorRow = async (id: string) =>
    (await p.db.pool.query(`SELECT paused, running_workflow_id FROM operators WHERE id = $1`, [id])).rows[0];
  // A string expression: the test compiles without the DOM lib. Waits for every image to decode.
  const allImagesRendered = () =>
    page.evaluate<number[]>(
      `Promise.all([...document.images].map((i) => i.decode().catch(() => undefined)))
         .then(() => [...document.images].map((i) => i.naturalWidth))`,
    );

  it('asks a browser without credentials to log in and shows it nothing', async () => {
    for (const url of ['/', '/tours', '/tours/1']) {
      const res = await fetch(`${base}${url}`);
      expect(res.status, url).toBe(401);
      expect(res.headers.get('www-authenticate'), url).toBe('Basic realm="tour-import"');
    }
    // Chromium answers the challenge only with credentials: without them it gives up (headless, nobody to
    // ask); with wrong ones it shows the 401 and none of the catalog.
    const anonymous = await browser.newPage();
    const wrong = await browser.newPage({ httpCredentials: { ...LOGIN, password: 'guess' } });
    try {
      await expect(anonymous.goto(`${base}/`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
      expect((await wrong.goto(`${base}/`))?.status()).toBe(401);
      expect(await wrong.locator('tr[data-operator]').count()).toBe(0);
    } finally {
      await anonymous.close();
      await wrong.close();
    }
  });

  it('lists the operators with their states and links to their runs in the Temporal Web UI', async () => {
    // A slow listing keeps this import running while the page is looked at (short: workers drain it at the end).
    p.sim.operator(BUSY).addFaults('list', [{ type: 'latency', ms: 8_000 }]);
    background.push((await p.startImport(BUSY, 'full')).workflowId);
    await until(async () => (await operatorRow(BUSY)).running_workflow_id !== null);
    const res = await page.goto(`${base}/`);
    expect(res?.status()).toBe(200);
    const state = (id: string) => page.locator(`tr[data-operator="${id}"] td.state`).innerText();
    expect(await state(IDLE)).toMatch(/^idle/);
    expect(await state(PAUSED)).toMatch(/paused[\s\S]*listing failed/);
    expect(await state(BUSY)).toMatch(/importing/);
    expect(await page.locator(`tr[data-operator="${BUSY}"] progress`).count()).toBe(1);
    const runLink = page.locator(`tr[data-operator="${IDLE}"] a.run-link`).first();
    expect(await runLink.getAttribute('href')).toMatch(
      new RegExp(`^${UI}/namespaces/default/workflows/import-${IDLE}-[0-9a-f]+/[0-9a-f-]+/history$`),
    );
    expect(await page.locator(`tr[data-operator="${IDLE}"]`).innerText()).toMatch(/imported 14/);
    await page.screenshot({ path: 'test-artifacts/catalog.png', fullPage: true });
  });

  it('shows every tour with a rendered thumbnail and its title as imported (non-ASCII intact)', async () => {
    await page.goto(`${base}/tours`);
    const { rows } = await p.db.pool.query(
      `SELECT title FROM tours WHERE status = 'active' ORDER BY lower(title), id`,
    );
    const titles = await page.locator('.card .title').allInnerTexts();
    expect(titles).toEqual(rows.map((r) => r.title));
    const widths = await allImagesRendered();
    expect(widths.length).toBeGreaterThan(0);
    expect(widths.every((w) => w > 0)).toBe(true);
    await page.screenshot({ path: 'test-artifacts/catalog-tours.png', fullPage: true });
  });

  it('search narrows the list to matching titles', async () => {
    await page.goto(`${base}/tours`);
    const before = await page.locator('.card').count();
    const word = (await page.locator('.card .title').first().innerText()).split(/\s+/)[0];
    await page.fill('input[name=q]', word.toUpperCase());
    await Promise.all([page.waitForURL(/\/tours\?q=/), page.click('form.search button')]);
    const titles = await page.locator('.card .title').allInnerTexts();
    expect(titles.length).toBeGreaterThan(0);
    expect(titles.length).toBeLessThan(before);
    for (const t of titles) expect(t.toLowerCase()).toContain(word.toLowerCase());
    expect(await page.inputValue('input[name=q]')).toBe(word.toUpperCase());
  });

  it('a tour page shows every size of every image', async () => {
    const { rows } = await p.db.pool.query(
      `SELECT t.id, count(*) AS images FROM tours t JOIN tour_assets a ON a.tour_id = t.id
        WHERE a.status = 'ready' GROUP BY t.id ORDER BY count(*) DESC, t.id LIMIT 1`,
    );
    const res = await page.goto(`${base}/tours/${rows[0].id}`);
    expect(res?.status()).toBe(200);
    const widths = await allImagesRendered();
    expect(widths.length).toBe(Number(rows[0].images) * 6); // 3 widths x 2 formats
    expect(widths.every((w) => w > 0)).toBe(true);
    expect((await page.goto(`${base}/tours/999999999`))?.status()).toBe(404);
  });

  it('serves blobs with their content type and refuses keys outside the store', async () => {
    const { rows } = await p.db.pool.query(
      `SELECT storage_key FROM asset_variants WHERE format = 'webp' LIMIT 1`,
    );
    const ok = await fetch(`${base}/blobs/${rows[0].storage_key}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/webp');
    expect(ok.headers.get('cache-control')).toMatch(/immutable/);
    for (const bad of ['..%2F..%2Fetc%2Fpasswd', '.tmp/x', 'a//b', 'originals/%5C..%5Cx']) {
      const res = await app.inject({ url: `/blobs/${bad}` });
      expect(res.statusCode, bad).toBe(400);
    }
    // Dot segments are resolved by the URL parser before routing: what remains is an unknown path (outside
    // /blobs/, so it needs credentials before it can even be told apart).
    const outside = { url: '/blobs/variants/%2e%2e/%2e%2e/etc/passwd' };
    expect((await app.inject(outside)).statusCode).toBe(401);
    const login = `Basic ${Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString('base64')}`;
    expect((await app.inject({ ...outside, headers: { authorization: login } })).statusCode).toBe(404);
    expect((await fetch(`${base}/blobs/variants/nope.webp`)).status).toBe(404);
  });
});
