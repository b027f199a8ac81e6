import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import {
  startTracing,
  stopTracing,
  tracingClientInterceptors,
  tracingEnabled,
  tracingWorkerOptions,
} from '../../../src/telemetry/tracing.js';
import { withSpan } from '../../../src/telemetry/spans.js';

/** docs/operations.md: Traces. Off without an endpoint; with one, spans reach the collector over OTLP/HTTP. */
describe('tracing setup', () => {
  const received: { url?: string; body: string }[] = [];
  const collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ url: req.url, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  afterAll(async () => {
    await stopTracing();
    await new Promise((r) => collector.close(r));
  });

  // One file, one order: the global tracer provider can be registered once per process.
  it('is off without an endpoint: no provider, no interceptors, no-op spans', async () => {
    expect(startTracing({ serviceName: 'test' })).toBe(false);
    expect(tracingEnabled()).toBe(false);
    expect(tracingClientInterceptors()).toBeUndefined();
    const worker = tracingWorkerOptions(true);
    expect(worker.interceptors).toEqual({});
    expect(Object.keys(worker.sinks)).toEqual(['exporter']);
    await withSpan('nothing', {}, async (span) => expect(span.isRecording()).toBe(false));
  });

  it('exports over OTLP/HTTP to <endpoint>/v1/traces once an endpoint is set', async () => {
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/`;
    expect(startTracing({ serviceName: 'tour-import-test', endpoint })).toBe(true);
    expect(tracingClientInterceptors()?.workflow).toHaveLength(1);
    expect(tracingWorkerOptions(true).interceptors.workflowModules).toHaveLength(1);
    expect(tracingWorkerOptions(false).interceptors.workflowModules).toEqual([]);

    await withSpan('outer', {}, async () => {
      await withSpan('inner', { attributes: { answer: 42 } }, async (span) => {
        expect(span.isRecording()).toBe(true);
        expect(trace.getActiveSpan()).toBe(span);
      });
    });
    await expect(
      withSpan('failing', {}, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await stopTracing(); // flushes the batch
    expect(received.map((r) => r.url)).toContain('/v1/traces');
    const body = received.map((r) => r.body).join('\n');
    for (const text of ['tour-import-test', 'outer', 'inner', 'failing', 'boom'])
      expect(body).toContain(text);
  });
});
