import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { Pool } from '../db/pool.js';

/**
 * Prometheus metrics. Pipeline state is read from PostgreSQL at scrape time (not counted in this
 * process), so every API replica reports the same truth and a restart loses nothing. Each app gets its
 * own registry: two apps in one process (tests) never collide.
 */
export const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600];

export function createMetrics(pool: Pool) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const gauge = (name: string, help: string, labelNames: string[], sql: string, value = 'n') =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const { rows } = await pool.query(sql);
        this.reset();
        for (const r of rows) {
          this.set(Object.fromEntries(labelNames.map((l) => [l, String(r[l])])), Number(r[value]));
        }
      },
    });

  gauge(
    'tour_import_import_runs',
    'Import runs recorded in import_runs, by operator, mode and status',
    ['operator', 'mode', 'status'],
    `SELECT operator_id AS operator, mode, status, count(*) AS n FROM import_runs GROUP BY 1, 2, 3`,
  );
  gauge(
    'tour_import_tours',
    'Tours in the catalog, by operator and status (active, removed)',
    ['operator', 'status'],
    `SELECT operator_id AS operator, status, count(*) AS n FROM tours GROUP BY 1, 2`,
  );
  gauge(
    'tour_import_images',
    'Tour images (tour_assets), by operator and status (ready, failed)',
    ['operator', 'status'],
    `SELECT t.operator_id AS operator, a.status, count(*) AS n
       FROM tour_assets a JOIN tours t ON t.id = a.tour_id GROUP BY 1, 2`,
  );
  gauge(
    'tour_import_tour_failures',
    'Recorded tour failures (tour_failures), by operator and kind',
    ['operator', 'kind'],
    `SELECT operator_id AS operator, kind, count(*) AS n FROM tour_failures GROUP BY 1, 2`,
  );
  gauge(
    'tour_import_operator_paused',
    'Whether the operator is paused (1) or not (0)',
    ['operator'],
    `SELECT id AS operator, CASE WHEN paused THEN 1 ELSE 0 END AS n FROM operators`,
  );
  registry.registerMetric(durationHistogram(pool));

  const webhooks = new Counter({
    name: 'tour_import_webhook_deliveries_total',
    help: 'Webhook deliveries received by this process, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return { registry, countWebhook: (outcome: string) => webhooks.inc({ outcome }) };
}

/**
 * Durations of finished import runs, aggregated in SQL: prom-client's Histogram can only observe one
 * value at a time, and replaying every run on each scrape would grow without bound.
 */
function durationHistogram(pool: Pool): Metric {
  const name = 'tour_import_import_duration_seconds';
  const help = 'Duration of finished import runs (finished_at - started_at), by mode and status';
  const buckets = DURATION_BUCKETS.map((b, i) => `count(*) FILTER (WHERE s <= ${b}) AS b${i}`).join(', ');
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    collect() {},
    reset() {},
    async get() {
      const { rows } = await pool.query(
        `SELECT mode, status, count(*) AS n, COALESCE(sum(s), 0) AS total, ${buckets}
           FROM (SELECT mode, status, EXTRACT(EPOCH FROM finished_at - started_at)::float8 AS s
                   FROM import_runs WHERE finished_at IS NOT NULL) d
          GROUP BY 1, 2`,
      );
      const values = rows.flatMap((r) => {
        const labels = { mode: r.mode, status: r.status };
        return [
          ...DURATION_BUCKETS.map((le, i) => ({
            metricName: `${name}_bucket`,
            labels: { ...labels, le },
            value: Number(r[`b${i}`]),
          })),
          { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: Number(r.n) },
          { metricName: `${name}_sum`, labels, value: Number(r.total) },
          { metricName: `${name}_count`, labels, value: Number(r.n) },
        ];
      });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  // prom-client's registry needs only name/help/type/get(); its Metric type is a union of its classes.
  return metric as unknown as Metric;
}

export function registerMetrics(app: FastifyInstance, registry: Registry) {
  app.get('/metrics', async (_req, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
