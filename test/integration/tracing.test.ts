import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, stopTracing, tracingClientInterceptors } from '../../src/telemetry/tracing.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/**
 * docs/operations.md: Traces. One import, started by a traced client as the CLI's is, with the workers' tracing on
 * (an in-memory exporter instead of OTLP): every span lands in one trace, linked parent to child from
 * the client's start of ImportOperator down to the SQL an ImportTour's image activity runs.
 */
const OPERATOR = {
  id: 'traced',
  dialect: 'A' as const,
  seed: 7,
  tourCount: 10,
  imagesPerTour: { min: 1, max: 1 },
  imageWidth: 400,
  imageHeight: 300,
};

describe('traces of an import', () => {
  const exporter = new InMemorySpanExporter();
  let p: Pipeline;
  beforeAll(async () => {
    // Before the workers exist: they take their tracing interceptors and sink when created.
    expect(startTracing({ serviceName: 'tracing-test', exporter })).toBe(true);
    p = await startPipeline('tracing', [OPERATOR], { clientInterceptors: tracingClientInterceptors() });
  });
  afterAll(async () => {
    await p?.close();
    await stopTracing();
  });

  it('is one trace from the start of ImportOperator through ImportTour and importTourImages to PostgreSQL', async () => {
    const result = await (await p.startImport(OPERATOR.id, 'full')).result();
    expect(result.status).toBe('completed');

    // Workflow spans arrive through the worker's sink after the workflow task that ends them.
    const named = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
    await until(async () => named('RunWorkflow:ImportOperator').length === 1, 'the workflow spans', 20_000);
    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const parentOf = (s: ReadableSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const ancestors = (s: ReadableSpan) => {
      const chain: string[] = [];
      for (let a = parentOf(s); a; a = parentOf(a)) chain.push(a.name);
      return chain;
    };

    // One trace, and its root is the client's start.
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots.map((s) => s.name)).toEqual(['StartWorkflow:ImportOperator']);
    // Every span's parent was exported too: no link points outside the trace.
    expect(spans.filter((s) => s.parentSpanId && !byId.has(s.parentSpanId)).map((s) => s.name)).toEqual([]);

    const [operatorRun] = named('RunWorkflow:ImportOperator');
    expect(parentOf(operatorRun)?.name).toBe('StartWorkflow:ImportOperator');

    const tourRuns = named('RunWorkflow:ImportTour');
    expect(tourRuns).toHaveLength(OPERATOR.tourCount);
    for (const run of tourRuns)
      expect(ancestors(run).slice(0, 3)).toEqual([
        'StartChildWorkflow:ImportTour',
        'RunWorkflow:ImportOperator',
        'StartWorkflow:ImportOperator',
      ]);

    const imageRuns = named('RunActivity:importTourImages');
    expect(imageRuns.length).toBeGreaterThan(0);
    for (const run of imageRuns)
      expect(ancestors(run).slice(0, 2)).toEqual([
        'StartActivity:importTourImages',
        'RunWorkflow:ImportTour',
      ]);

    // Inside the image activity: the download, the resize, and the rows they write.
    const underImages = (name: RegExp) =>
      spans.filter((s) => name.test(s.name) && ancestors(s).includes('RunActivity:importTourImages'));
    expect(underImages(/^image\.download$/).length).toBeGreaterThan(0);
    expect(underImages(/^image\.resize$/).length).toBeGreaterThan(0);
    const writes = underImages(/^pg\.query:(INSERT|UPDATE|WITH)$/);
    expect(writes.length).toBeGreaterThan(0);
    expect(writes[0].attributes['db.system']).toBe('postgresql');
    expect(String(writes[0].attributes['db.statement'])).toMatch(/INSERT|UPDATE/i);

    // The operator's API calls are spans of the same trace, under the activities that made them.
    const http = spans.filter((s) => s.name === 'operator.http GET');
    expect(http.length).toBeGreaterThan(0);
    for (const s of http) expect(ancestors(s).some((a) => a.startsWith('RunActivity:'))).toBe(true);
  });
});
