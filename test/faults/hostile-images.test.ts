import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { animatedGif, svgWithScript, truncatedJpeg } from '../helpers/images.js';
import type { OperatorSpecInput } from '../../tooling/simulator/types.js';
import { startHostileServer, type HostileKind, type HostileServer } from './helpers/hostile-server.js';

/**
 * Fault: operators serve hostile images. Expectation: each bad image is stored as `failed` with a
 * reason naming the problem, its tour is stored, the tour's other images are ready, and the worker
 * (in-process here) keeps bounded memory.
 */
const small = { tourCount: 10, imagesPerTour: { min: 2, max: 2 }, imageWidth: 320, imageHeight: 240 };

/** Simulator image faults, each on its own operator, firing on that operator's first image request. */
const SIM_FAULTS: { id: string; fault: NonNullable<OperatorSpecInput['faults']>['image']; reason: RegExp }[] =
  [
    {
      id: 'sim-html',
      fault: [{ type: 'html-as-image', times: 1 }],
      reason: /^CorruptImage: Corrupt image: not an image \(starts with "<!doctype html>/,
    },
    {
      id: 'sim-bomb',
      fault: [{ type: 'pixel-bomb', times: 1 }],
      reason: /^ImageTooLarge: Image too large: .*(pixel limit|30000×30000)/,
    },
    {
      id: 'sim-redirect',
      fault: [{ type: 'redirect', location: 'http://169.254.169.254/latest/meta-data/', times: 1 }],
      reason: /^UnsafeUrl: Refused URL http:\/\/169\.254\.169\.254\/latest\/meta-data\/ \(private-address/,
    },
    {
      id: 'sim-oversized',
      fault: [{ type: 'oversized', bytes: 21 * 1024 * 1024, times: 1 }],
      reason: /^ImageTooLarge: Image larger than 20971520 bytes/,
    },
  ];

/** Hostile hosts the simulator cannot imitate, keyed by the URL a tour image is pointed at. */
const HOSTILE: { kind: HostileKind | 'metadata-ip' | 'private-ip'; reason: RegExp }[] = [
  { kind: 'svg', reason: /^UnsupportedImage: Unsupported content: SVG is not accepted/ },
  { kind: 'svg-as-jpeg', reason: /^UnsupportedImage: Unsupported image format: svg/ },
  { kind: 'gzip-bomb', reason: /^UnsupportedImage: Unsupported content: content-encoding gzip/ },
  { kind: 'animated-gif', reason: /^ImageTooLarge: Image too large: 2000 frames/ },
  { kind: 'oversized-chunked', reason: /^ImageTooLarge: Image larger than 20971520 bytes/ },
  { kind: 'cut-connection', reason: /^DownloadFailed: Download (interrupted|failed)/ },
  { kind: 'truncated-jpeg', reason: /^CorruptImage: Corrupt image: / },
  { kind: 'redirect-private', reason: /^UnsafeUrl: Refused URL http:\/\/10\.0\.0\.1\/.*private-address/ },
  { kind: 'metadata-ip', reason: /^UnsafeUrl: Refused URL http:\/\/169\.254\.169\.254\/.*private-address/ },
  { kind: 'private-ip', reason: /^UnsafeUrl: Refused URL http:\/\/192\.168\.1\.1\/.*private-address/ },
];

describe('hostile images', () => {
  let p: Pipeline;
  let hostile: HostileServer;
  const urlOf = new Map<string, string>(); // kind -> URL the tour image points at

  beforeAll(async () => {
    hostile = await startHostileServer({
      svg: svgWithScript(),
      gif: await animatedGif(2000, 8, 8),
      truncatedJpeg: await truncatedJpeg(320, 240, 0.5),
      oversizedBytes: 21 * 1024 * 1024,
    });
    p = await startPipeline('hostile', [
      ...SIM_FAULTS.map((s) => ({
        id: s.id,
        dialect: 'A' as const,
        seed: 5,
        ...small,
        faults: { image: s.fault },
      })),
      { id: 'hostile-host', dialect: 'A' as const, seed: 9, ...small, imagesPerTour: { min: 3, max: 3 } },
    ]);
    // Point the first distinct images of the catalog at the hostile host (the simulator builds every
    // image URL through imageUrl, so the listing and detail payloads carry these URLs).
    const op = p.sim.operator('hostile-host');
    const ids = [...new Set(op.activeCodes().flatMap((c) => op.tour(c)!.images.map((i) => i.id)))];
    expect(ids.length).toBeGreaterThanOrEqual(HOSTILE.length + 2);
    const byId = new Map<string, string>();
    HOSTILE.forEach(({ kind }, i) => {
      const url =
        kind === 'metadata-ip'
          ? 'http://169.254.169.254/latest/meta-data/iam/photo.jpg'
          : kind === 'private-ip'
            ? 'http://192.168.1.1/photo.jpg'
            : hostile.url(kind);
      byId.set(ids[i], url);
      urlOf.set(kind, url);
    });
    const original = op.imageUrl.bind(op);
    op.imageUrl = (id, format) => byId.get(id) ?? original(id, format);
  });
  afterAll(async () => {
    await p?.close();
    await hostile?.close();
  });

  const assetsOf = async (op: string) =>
    (
      await p.db.pool.query(
        `SELECT t.external_id, t.status AS tour_status, ta.position, ta.source_url, ta.status, ta.failure_reason
           FROM tours t JOIN tour_assets ta ON ta.tour_id = t.id WHERE t.operator_id = $1
          ORDER BY t.external_id, ta.position`,
        [op],
      )
    ).rows;

  it('simulator faults: html-as-image, pixel bomb, redirect to metadata IP, oversized body → that image failed, tour stored', async () => {
    const results = await Promise.all(
      SIM_FAULTS.map(async (s) => (await p.startImport(s.id, 'full', { window: 1 })).result()),
    );
    for (const [i, s] of SIM_FAULTS.entries()) {
      expect(results[i], s.id).toMatchObject({ status: 'completed', progress: { done: 10, failed: 0 } });
      const rows = await assetsOf(s.id);
      expect(new Set(rows.map((r) => r.external_id)).size, s.id).toBe(10);
      expect(rows.every((r) => r.tour_status === 'active')).toBe(true);
      const failed = rows.filter((r) => r.status === 'failed');
      expect(failed, s.id).toHaveLength(1);
      expect(failed[0].failure_reason, s.id).toMatch(s.reason);
      // The tour's other image is fine.
      const sibling = rows.filter((r) => r.external_id === failed[0].external_id && r !== failed[0]);
      expect(
        sibling.map((r) => r.status),
        s.id,
      ).toEqual(['ready']);
      expect(rows.filter((r) => r.status === 'ready')).toHaveLength(rows.length - 1);
    }
  });

  it('hostile hosts: SVG, gzip bomb, 2000-frame GIF, no-Content-Length oversize, cut connection, truncated JPEG, private addresses → failed with reason', async () => {
    const result = await (await p.startImport('hostile-host', 'full')).result();
    expect(result).toMatchObject({ status: 'completed', progress: { done: 10, failed: 0 } });
    const rows = await assetsOf('hostile-host');
    expect(new Set(rows.map((r) => r.external_id)).size).toBe(10);
    expect(rows.every((r) => r.tour_status === 'active')).toBe(true);
    const hostileUrls = new Set(urlOf.values());
    for (const { kind, reason } of HOSTILE) {
      const hit = rows.filter((r) => r.source_url === urlOf.get(kind));
      expect(hit.length, kind).toBeGreaterThan(0);
      for (const r of hit) {
        expect(r.status, kind).toBe('failed');
        expect(r.failure_reason, kind).toMatch(reason);
      }
    }
    // Every image that is not hostile is ready, including the siblings of hostile ones.
    const good = rows.filter((r) => !hostileUrls.has(r.source_url));
    expect(good.length).toBeGreaterThan(0);
    expect(good.filter((r) => r.status !== 'ready')).toEqual([]);
    // A refused redirect is permanent: at most one request per tour using that image (tours in flight
    // together share one), no retries (10.0.0.1 is unroutable here, so a followed redirect would have
    // hung until the timeout instead).
    const uses = (kind: HostileKind) => rows.filter((r) => r.source_url === urlOf.get(kind)).length;
    for (const kind of ['redirect-private', 'svg'] as const) {
      expect(hostile.hits[kind], kind).toBeGreaterThanOrEqual(1);
      expect(hostile.hits[kind], kind).toBeLessThanOrEqual(uses(kind));
    }
    // A cut connection is transient, so it was retried (3 attempts in this pipeline: the first in the
    // tour's batch, two alone), then given up.
    expect(hostile.hits['cut-connection']).toBeGreaterThanOrEqual(3);
    expect(hostile.hits['cut-connection']).toBeLessThanOrEqual(3 * uses('cut-connection'));
    // Nothing partial or hostile became a stored original.
    const stored = await p.db.pool.query(
      `SELECT a.content_type FROM assets a JOIN asset_sources s USING (sha256) WHERE s.source_url = ANY($1::text[])`,
      [[...hostileUrls].filter((u) => !/svg-as-jpeg|truncated-jpeg|animated-gif/.test(u))],
    );
    expect(stored.rows).toEqual([]);
  });

  it('the worker memory stays bounded after the bombs', () => {
    // Workers run in this process here: 64 MB gzip bomb, 900-Mpx PNG and 21 MB bodies were all refused
    // without being inflated or decoded.
    expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024);
  });
});
