import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/domain/webhook-signature.js';
import { importTourWorkflowId } from '../../src/constants.js';
import { createPipelineApi, startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { setPaused } from '../../src/db/operators.js';

/** The HTTP API on the real pipeline: signed push imports, probes and metrics. */
const OP = `hook${randomBytes(3).toString('hex')}`;
const SILENT = `mute${randomBytes(3).toString('hex')}`; // configured without a webhook secret
const KEY = randomBytes(24);
const SECRET = `whsec_${KEY.toString('base64')}`;
const TOKEN = randomBytes(16).toString('hex');
const USER = 'ops';
const PASSWORD = `pw:${randomBytes(8).toString('hex')}`; // a colon in a password is allowed
const BEARER = { authorization: `Bearer ${TOKEN}` };
const BASIC = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
const small = { tourCount: 10, imagesPerTour: { min: 1, max: 1 }, imageWidth: 400, imageHeight: 267 };

describe('HTTP API: push-import webhook, probes, metrics, authentication', () => {
  let p: Pipeline;
  let app: FastifyInstance;
  const statuses: number[] = [];

  beforeAll(async () => {
    p = await startPipeline('api', [
      { id: OP, dialect: 'A', seed: 5, ...small },
      { id: SILENT, dialect: 'B', seed: 6, ...small },
    ]);
    app = await createPipelineApi(p, {
      operators: p.configs.map((c) => (c.id === OP ? { ...c, webhookSecretEnv: 'OP_WEBHOOK_SECRET' } : c)),
      secret: (name) => (name === 'OP_WEBHOOK_SECRET' ? SECRET : undefined),
      credentials: { token: TOKEN, basic: { user: USER, password: PASSWORD } },
    });
  });
  afterAll(async () => {
    await app?.close();
    await p?.close();
  });

  const now = () => Math.floor(Date.now() / 1000);
  async function call(opts: InjectOptions): Promise<LightMyRequestResponse> {
    const res = await app.inject(opts);
    statuses.push(res.statusCode);
    return res;
  }
  function push(
    body: unknown,
    o: {
      id?: string;
      ts?: number | string;
      secret?: string;
      signature?: string;
      op?: string;
      raw?: string;
    } = {},
  ) {
    const raw = o.raw ?? JSON.stringify(body);
    const id = o.id ?? `msg_${randomBytes(8).toString('hex')}`;
    const ts = String(o.ts ?? now());
    return call({
      method: 'POST',
      url: `/webhooks/operators/${o.op ?? OP}/tours`,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': ts,
        'webhook-signature': o.signature ?? signWebhook(o.secret ?? SECRET, id, ts, raw),
      },
      payload: raw,
    });
  }
  const code = (i: number) => p.sim.operator(OP).activeCodes()[i];
  const detailRequests = () => p.sim.operator(OP).state().requests.detail;
  const tourRow = async (ext: string) =>
    (
      await p.db.pool.query(`SELECT title, status FROM tours WHERE operator_id = $1 AND external_id = $2`, [
        OP,
        ext,
      ])
    ).rows[0];
  async function exists(workflowId: string) {
    try {
      await p.env.client.workflow.getHandle(workflowId).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  it('answers /healthz and /readyz when Temporal and PostgreSQL are up', async () => {
    expect((await call({ url: '/healthz' })).statusCode).toBe(200);
    const ready = await call({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', temporal: 'ok', postgres: 'ok' });
  });

  it('a signed push imports the tour, and a replayed webhook-id imports nothing more', async () => {
    const ext = code(0);
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const res = await push({ externalId: ext }, { id });
    expect(res.statusCode).toBe(202);
    const [started] = res.json().imports;
    expect(started.workflowId).toBe(importTourWorkflowId(OP, ext));
    const result = await p.env.client.workflow.getHandle(started.workflowId).result();
    expect(result).toMatchObject({ outcome: 'imported', images: 1, failedImages: 0 });
    expect(await tourRow(ext)).toMatchObject({ status: 'active' });

    const fetches = detailRequests();
    const replay = await push({ externalId: ext }, { id });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ status: 'duplicate' });
    // A push starts its import before it is answered, and the tour's only run ended before the replay
    // came: a second import would be a new run of the workflow, here and now.
    const latest = await p.env.client.workflow.getHandle(started.workflowId).describe();
    expect(latest.runId).toBe(started.runId);
    expect(detailRequests()).toBe(fetches); // and no run is left that could fetch the tour again
    expect(latest.priority).toMatchObject({ fairnessKey: OP }); // fair dispatch between operators
  });

  it.each([
    ['missing signature', { signature: '' }],
    ['malformed signature', { signature: 'v1,not*base64!' }],
    ['no v1 entry', { signature: 'v2,abc' }],
    ['wrong-length signature', { signature: `v1,${randomBytes(16).toString('base64')}` }],
    ['signature by another secret', { secret: 'someone-else' }],
    ['stale timestamp', { ts: Math.floor(Date.now() / 1000) - 6 * 60 }],
    ['future timestamp', { ts: Math.floor(Date.now() / 1000) + 6 * 60 }],
    ['malformed timestamp', { ts: '17e8' }],
  ])('%s → 401 and no import', async (_name, o) => {
    const ext = code(1);
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const res = await push({ externalId: ext }, { id, ...o });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toMatch(/invalid webhook signature/);
    expect(await exists(importTourWorkflowId(OP, ext))).toBe(false);
    const rows = await p.db.pool.query(`SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1`, [id]);
    expect(rows.rowCount).toBe(0);
  });

  it('rejects a body changed after signing, missing headers, and pushes to other operators', async () => {
    const id = 'msg_tampered';
    const ts = String(now());
    const signature = signWebhook(SECRET, id, ts, JSON.stringify({ externalId: code(1) }));
    expect(
      (await push(null, { id, ts, signature, raw: JSON.stringify({ externalId: code(2) }) })).statusCode,
    ).toBe(401);
    const bare = await call({
      method: 'POST',
      url: `/webhooks/operators/${OP}/tours`,
      headers: { 'content-type': 'application/json' },
      payload: { externalId: code(1) },
    });
    expect(bare.statusCode).toBe(401);
    expect((await push({ externalId: 'x' }, { op: 'nobody' })).statusCode).toBe(404);
    expect((await push({ externalId: 'x' }, { op: SILENT })).statusCode).toBe(401);
  });

  it('a push to a paused operator is deferred with 409 and goes through once it is resumed', async () => {
    const ext = code(2);
    const id = `msg_${randomBytes(8).toString('hex')}`;
    await setPaused(p.db.pool, OP, true, 'maintenance');
    try {
      const res = await push({ externalId: ext }, { id });
      expect(res.statusCode).toBe(409);
      expect(res.json().error).toMatch(/is paused \(maintenance\)/);
      expect(await exists(importTourWorkflowId(OP, ext))).toBe(false);
    } finally {
      await setPaused(p.db.pool, OP, false, null);
    }
    // The sender retries the same delivery: it was not recorded, so it is not taken for a replay.
    const retried = await push({ externalId: ext }, { id });
    expect(retried.statusCode).toBe(202);
    await p.env.client.workflow.getHandle(importTourWorkflowId(OP, ext)).result();
    expect(await tourRow(ext)).toMatchObject({ status: 'active' });
  });

  it('refuses an oversized body with 413 and a bad body with 400', async () => {
    const big = await push({ externalId: 'x'.repeat(70 * 1024) });
    expect(big.statusCode).toBe(413);
    const notJson = await push(null, { raw: '{"externalId": ' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error).toMatch(/not valid JSON/);
    const wrongShape = await push({ tourId: 5 });
    expect(wrongShape.statusCode).toBe(400);
    expect(wrongShape.json().error).toMatch(/externalId/);
  });

  it('a burst for one tour coalesces into one run with at most one extra pass, ending on the latest data', async () => {
    const ext = code(3);
    const sim = p.sim.operator(OP);
    sim.addFaults('detail', [{ type: 'latency', ms: 700 }]);
    const fetches = detailRequests();
    const first = await push({ externalId: ext });
    sim.change(ext);
    const rest = await Promise.all([1, 2, 3, 4].map(() => push({ externalId: ext })));
    sim.clearFaults();
    const runIds = new Set([first, ...rest].map((r) => r.json().imports[0].runId));
    expect([first, ...rest].map((r) => r.statusCode)).toEqual([202, 202, 202, 202, 202]);
    expect(runIds.size).toBe(1);
    const result = await p.env.client.workflow.getHandle(importTourWorkflowId(OP, ext)).result();
    expect(result.passes).toBeLessThanOrEqual(2);
    expect(detailRequests() - fetches).toBeLessThanOrEqual(2);
    expect((await tourRow(ext)).title).toMatch(/\(rev 1\)$/);
  });

  it('exposes Prometheus metrics whose values match the tables', async () => {
    const run = await (await p.startImport(OP, 'full')).result();
    expect(run.status).toBe('completed');
    const res = await call({ url: '/metrics', headers: BEARER });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const metric = (name: string, labels: Record<string, string>) => {
      const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      const line = res.body
        .split('\n')
        .find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    const q = async (sql: string) => Number((await p.db.pool.query(sql, [OP])).rows[0].n);

    expect(metric('tour_import_tours', { operator: OP, status: 'active' })).toBe(
      await q(`SELECT count(*) AS n FROM tours WHERE operator_id = $1 AND status = 'active'`),
    );
    expect(metric('tour_import_images', { operator: OP, status: 'ready' })).toBe(
      await q(`SELECT count(*) AS n FROM tour_assets a JOIN tours t ON t.id = a.tour_id
                WHERE t.operator_id = $1 AND a.status = 'ready'`),
    );
    expect(metric('tour_import_import_runs', { operator: OP, mode: 'full', status: 'completed' })).toBe(1);
    expect(metric('tour_import_import_duration_seconds_count', { mode: 'full', status: 'completed' })).toBe(
      1,
    );
    expect(metric('tour_import_import_duration_seconds_bucket', { mode: 'full', le: '+Inf' })).toBe(1);
    expect(metric('tour_import_operator_paused', { operator: OP })).toBe(0);
    expect(metric('tour_import_webhook_deliveries_total', { outcome: 'accepted' })).toBeGreaterThanOrEqual(6);
    expect(metric('tour_import_webhook_deliveries_total', { outcome: 'duplicate' })).toBe(1);
    expect(res.body).toMatch(/^# TYPE tour_import_tour_failures gauge$/m);
    expect(res.body).toMatch(/^process_cpu_user_seconds_total \d/m);
  });

  it('needs credentials for the catalog, /metrics and every other route; bearer and basic both work', async () => {
    const { rows } = await p.db.pool.query(`SELECT id FROM tours WHERE operator_id = $1 LIMIT 1`, [OP]);
    expect(rows.length).toBe(1); // the metrics test imported the operator
    for (const url of ['/', '/tours', '/tours?q=a', `/tours/${rows[0].id}`, '/metrics']) {
      const anonymous = await call({ url });
      expect(anonymous.statusCode, url).toBe(401);
      expect(anonymous.headers['www-authenticate'], url).toBe('Basic realm="tour-import"');
      expect(anonymous.body, url).not.toMatch(/tour_import_|<html/i);
      for (const wrong of [
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: `Basic ${Buffer.from(`${USER}:${TOKEN}`).toString('base64')}` },
      ])
        expect((await call({ url, headers: wrong })).statusCode, url).toBe(401);
      expect((await call({ url, headers: BEARER })).statusCode, url).toBe(200);
      expect((await call({ url, headers: BASIC })).statusCode, url).toBe(200);
    }
    // An unknown path tells nobody whether it exists.
    expect((await call({ url: '/admin' })).statusCode).toBe(401);
    expect((await call({ url: '/admin', headers: BEARER })).statusCode).toBe(404);
  });

  it('keeps the probes, the blobs and the signed webhook open without credentials', async () => {
    const { rows } = await p.db.pool.query(
      `SELECT v.storage_key FROM tours t JOIN tour_assets a ON a.tour_id = t.id
         JOIN asset_variants v ON v.sha256 = a.sha256 WHERE t.operator_id = $1 LIMIT 1`,
      [OP],
    );
    for (const url of ['/healthz', '/readyz', `/blobs/${rows[0].storage_key}`])
      expect((await call({ url })).statusCode, url).toBe(200);
    // The webhook is guarded by its signature, not by the API's credentials.
    expect((await push({ externalId: code(2) })).statusCode).toBe(202);
    await p.env.client.workflow.getHandle(importTourWorkflowId(OP, code(2))).result();
    expect((await push({ externalId: code(2) }, { signature: 'v1,AAAA' })).statusCode).toBe(401);
  });

  it('answered no request with a 5xx', () => {
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  });
});
