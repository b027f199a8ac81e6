import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { workflowsPath } from '../helpers/temporal.js';
import { importTourWorkflowId } from '../../src/constants.js';

/**
 * After a real import (with failing tours and images, so failure messages are in the histories too):
 * no operator secret appears in any workflow history, no payload is large, and the current workflow
 * code replays every history without a non-determinism error.
 */
const KEY_A = `sk_live_${'a1b2c3d4e5f6'.repeat(2)}`;
const SECRET_C = `hmac_${'9f8e7d6c5b4a'.repeat(2)}`;
const small = { tourCount: 10, imagesPerTour: { min: 1, max: 2 }, imageWidth: 200, imageHeight: 150 };

describe('workflow histories after an import', () => {
  let p: Pipeline;
  const ids: string[] = [];
  beforeAll(async () => {
    p = await startPipeline('histories', [
      {
        id: 'secret-a',
        dialect: 'A',
        seed: 71,
        credentials: { apiKey: KEY_A },
        ...small,
        // Failures carry messages into the history: a 4xx-like payload error and a broken image.
        faults: { detail: [{ type: 'malformed', times: 1 }], image: [{ type: 'html-as-image', times: 1 }] },
      },
      { id: 'secret-c', dialect: 'C', seed: 72, credentials: { apiKey: SECRET_C }, ...small },
    ]);
    for (const op of ['secret-a', 'secret-c']) {
      const handle = await p.startImport(op, 'full', {
        retry: { initialIntervalMs: 100, maximumAttempts: 2 },
      });
      const r = await handle.result();
      expect(r.status).toBe('completed');
      ids.push(handle.workflowId);
      for (const code of p.sim.operator(op).activeCodes()) ids.push(importTourWorkflowId(op, code));
    }
  });
  afterAll(async () => p?.close());

  const histories = () =>
    Promise.all(
      ids.map(async (id) => ({
        workflowId: id,
        history: await p.env.client.workflow.getHandle(id).fetchHistory(),
      })),
    );

  it('no API key or HMAC secret appears in any history, and no payload is over 64 KB', async () => {
    const all = await histories();
    expect(all.length).toBe(2 + 20);
    // Walk the decoded protobuf messages themselves (their toJSON would turn payload bytes into base64,
    // hiding a secret from a plain text search): every string, and every byte field decoded as UTF-8.
    const payloads: string[] = [];
    const strings: string[] = [];
    walk(all, payloads, strings);
    const text = strings.join('\n');
    // The search does see inside payloads: inputs and failure messages are there.
    expect(payloads.some((t) => t.includes('"operatorId":"secret-a"'))).toBe(true);
    expect(text + payloads.join('\n')).toMatch(/OperatorPayloadInvalid/);
    expect(text + payloads.join('\n')).toMatch(/CorruptImage/);
    for (const secret of [KEY_A, SECRET_C]) {
      expect(text).not.toContain(secret);
      expect(payloads.join('\n')).not.toContain(secret);
    }
    expect(payloads.length).toBeGreaterThan(100);
    expect(Math.max(...payloads.map((t) => Buffer.byteLength(t)))).toBeLessThan(64 * 1024);
  });

  it('the current workflow code replays every history without non-determinism', async () => {
    const all = await histories();
    const failures: string[] = [];
    let replayed = 0;
    for await (const r of Worker.runReplayHistories({ workflowsPath, replayName: 'faults-replay' }, all)) {
      replayed++;
      if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
    }
    expect(replayed).toBe(all.length);
    expect(failures).toEqual([]);
  });
});

function walk(v: unknown, bytes: string[], strings: string[], depth = 0): void {
  if (depth > 64 || v === null || v === undefined) return;
  if (typeof v === 'string') strings.push(v);
  else if (v instanceof Uint8Array) bytes.push(Buffer.from(v).toString('utf8'));
  else if (Array.isArray(v)) for (const x of v) walk(x, bytes, strings, depth + 1);
  else if (typeof v === 'object') for (const x of Object.values(v)) walk(x, bytes, strings, depth + 1);
}
