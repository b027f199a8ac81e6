import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDialectAAdapter } from '../../src/operators/dialect-a.js';
import { createOperatorHttp } from '../../src/operators/http.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';

/** Operators whose connections misbehave: the import retries within its bounds and completes. */
describe('fault: hanging connections and slow-drip bodies', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline(
      'transport',
      [
        {
          id: 'stalling',
          // C fetches every tour (A and B import from their listing): hangs and drips on both routes.
          dialect: 'C',
          seed: 8,
          tourCount: 10,
          imagesPerTour: { min: 0, max: 1 },
          imageWidth: 400,
          imageHeight: 267,
        },
      ],
      {
        operatorYaml: { stalling: 'timeoutMs: 1500' },
      },
    );
  });
  afterAll(async () => p?.close());

  it('a hung request and a trickling body time out, are retried, and every tour is imported', async () => {
    const op = p.sim.operator('stalling');
    op.addFaults('detail', [{ type: 'hang', times: 1 }]);
    op.addFaults('detail', [{ type: 'slow-drip', bytesPerInterval: 8, intervalMs: 300, after: 3, times: 1 }]);
    op.addFaults('list', [{ type: 'hang', times: 1 }]);
    const result = await (await p.startImport('stalling', 'full')).result();
    expect(result.status).toBe('completed');
    expect(result.progress).toMatchObject({ done: 10, failed: 0 });
    const { rows } = await p.db.pool.query(
      `SELECT count(*)::int AS n FROM tours WHERE operator_id = 'stalling'`,
    );
    expect(rows[0].n).toBe(10);
    // The faulty requests were answered by retries: more requests than tours, within the bounds.
    expect(op.state().requests.detail).toBeGreaterThan(10);
    expect(op.state().requests.detail).toBeLessThanOrEqual(12);
  });
});

describe('fault: a 10 MB deeply nested body', () => {
  let server: http.Server;
  let baseUrl: string;
  beforeAll(async () => {
    const nested = '['.repeat(5_000_000) + ']'.repeat(5_000_000);
    server = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(nested),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ops/evil`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('is refused as an invalid payload before it is parsed, without crashing the process', async () => {
    const adapter = createDialectAAdapter({
      operatorId: 'evil',
      apiKey: 'k',
      http: createOperatorHttp({ baseUrl }),
    });
    const err = await adapter.listPage(undefined, { mode: 'full' }).catch((e) => e);
    expect(err).toMatchObject({ type: 'OperatorPayloadInvalid', retryable: false });
    expect(String(err.message)).toMatch(/body larger than \d+ bytes/);
    expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024);
  });
});
