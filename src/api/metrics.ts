import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { listOperators } from '../db/operators.js';
import type { Pool } from '../db/pool.js';
import { registerAlertMetrics } from './alert-metrics.js';
import { readCounts, type CountedMetric, type ReadCount } from '../db/read-counts.js';

/**
 * Prometheus metrics. Pipeline state is read from PostgreSQL at scrape time (not counted in this
 * process), so every API replica reports the same truth and a restart loses nothing. A scrape reads
 * counts kept up to date on write (src/db/read-counts.ts), never the tables counted. Each app gets its
 * own registry: two apps in one process (tests) never collide.
 */
/** The histogram's bucket bounds; migration 007's import_duration_le() buckets durations by the same. */
export const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600];

type Sample = { labels: Record<string, string>; value: number };

export function createMetrics(pool: Pool) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const gauge = (name: string, help: string, labelNames: string[], load: () => Promise<Sample[]>) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const samples = await load();
        this.reset();
        for (const s of samples) this.set(s.labels, s.value);
      },
    });
  const counted = (metric: CountedMetric) => async () =>
    (await readCounts(pool, metric)).map((c) => ({
      labels: { operator: c.operatorId, ...stringLabels(c.labels) },
      value: c.n,
    }));

  gauge(
    'tour_import_import_runs',
    'Import runs recorded in import_runs, by operator, mode and status',
    ['operator', 'mode', 'status'],
    counted('import_runs'),
  );
  gauge(
    'tour_import_tours',
    'Tours in the catalog, by operator and status (active, removed)',
    ['operator', 'status'],
    counted('tours'),
  );
  gauge(
    'tour_import_images',
    'Tour images (tour_assets), by operator and status (ready, failed)',
    ['operator', 'status'],
    counted('images'),
  );
  gauge(
    'tour_import_tour_failures',
    'Recorded tour failures (tour_failures), by operator and kind',
    ['operator', 'kind'],
    counted('tour_failures'),
  );
  gauge(
    'tour_import_operator_paused',
    'Whether the operator is paused (1) or not (0)',
    ['operator'],
    async () =>
      (await listOperators(pool)).map((op) => ({ labels: { operator: op.id }, value: op.paused ? 1 : 0 })),
  );
  registry.registerMetric(durationHistogram(pool));
  // The gauges deploy/prometheus/alerts.yml fires on (docs/operations.md: Traces, dashboard and alerts).
  registerAlertMetrics(gauge, pool);

  const webhooks = new Counter({
    name: 'tour_import_webhook_deliveries_total',
    help: 'Webhook deliveries received by this process, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return { registry, countWebhook: (outcome: string) => webhooks.inc({ outcome }) };
}

function stringLabels(labels: Record<string, string | number | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
}

/**
 * Durations of finished import runs, from counts per bucket kept on write (prom-client's Histogram can
 * only observe one value at a time, in one process). Like any Prometheus histogram it only grows.
 */
function durationHistogram(pool: Pool): Metric {
  const name = 'tour_import_import_duration_seconds';
  const help = 'Duration of finished import runs (finished_at - started_at), by mode and status';
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    collect() {},
    reset() {},
    async get() {
      const [buckets, sums] = await Promise.all([
        readCounts(pool, 'import_duration'),
        readCounts(pool, 'import_duration_sum'),
      ]);
      const values = durationSeries(buckets, sums).flatMap((s) => [
        ...DURATION_BUCKETS.map((le, i) => ({
          metricName: `${name}_bucket`,
          labels: { ...s.labels, le },
          value: s.le[i],
        })),
        { metricName: `${name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.n },
        { metricName: `${name}_sum`, labels: s.labels, value: s.sum },
        { metricName: `${name}_count`, labels: s.labels, value: s.n },
      ]);
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  // prom-client's registry needs only name/help/type/get(); its Metric type is a union of its classes.
  return metric as unknown as Metric;
}

interface DurationSeries {
  labels: Record<string, string>;
  /** Cumulative: runs at or under each of DURATION_BUCKETS. */
  le: number[];
  n: number;
  sum: number;
}

/** One series per mode and status, summed over operators. */
function durationSeries(buckets: ReadCount[], sums: ReadCount[]): DurationSeries[] {
  const series = new Map<string, DurationSeries>();
  const of = (labels: ReadCount['labels']) => {
    const key = `${labels.mode}/${labels.status}`;
    const s = series.get(key) ?? {
      labels: { mode: String(labels.mode), status: String(labels.status) },
      le: DURATION_BUCKETS.map(() => 0),
      n: 0,
      sum: 0,
    };
    series.set(key, s);
    return s;
  };
  for (const b of buckets) {
    const s = of(b.labels);
    s.n += b.n;
    DURATION_BUCKETS.forEach((le, i) => {
      if (b.labels.le !== null && Number(b.labels.le) <= le) s.le[i] += b.n;
    });
  }
  for (const t of sums) of(t.labels).sum += t.n;
  return [...series.values()];
}

export function registerMetrics(app: FastifyInstance, registry: Registry) {
  app.get('/metrics', async (_req, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
