import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/api/metrics.js';
import { upsertOperator } from '../../src/db/operators.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

/**
 * The gauges deploy/prometheus/alerts.yml fires on, read from a real PostgreSQL: the same facts and
 * thresholds as the notifications (docs/operations.md: Notifications), per operator.
 */
describe('alert gauges on /metrics', () => {
  let db: TestDb;
  beforeAll(async () => void (db = await createTestDb('alert-metrics')));
  afterAll(async () => db?.drop());

  const run = (operator: string, status: string, failedTours: number, minutesAgo: number, mode = 'delta') =>
    db.pool.query(
      `INSERT INTO import_runs (operator_id, mode, status, workflow_id, run_id, counts, started_at, finished_at)
       VALUES ($1, $2, $3, $4, gen_random_uuid()::text, $5, now() - make_interval(mins => $6), now())`,
      [operator, mode, status, `wf-${operator}`, JSON.stringify({ failed: failedTours }), minutesAgo],
    );

  it('reports last import status, delta mark age and failing streaks with each operator’s thresholds', async () => {
    const base = { name: 'x', dialect: 'A', baseUrl: 'http://127.0.0.1:1/' };
    const hour = 3_600_000;
    await upsertOperator(db.pool, { ...base, id: 'steady', settings: { schedule: { everyMs: hour } } });
    await upsertOperator(db.pool, {
      ...base,
      id: 'flaky',
      settings: { schedule: { everyMs: hour }, alerts: { failingRuns: 2, deltaMarkMaxAge: 60_000 } },
    });
    await upsertOperator(db.pool, { ...base, id: 'fresh', settings: { delta: false } });
    await db.pool.query(`UPDATE operators SET delta_mark = 'm', delta_mark_at = now() - interval '2 hours'`);
    // steady: failed long ago, fine since; flaky: a single-tour run and a skipped one do not break its streak.
    await run('steady', 'failed', 0, 50);
    await run('steady', 'completed', 0, 40);
    await run('flaky', 'completed', 0, 50);
    await run('flaky', 'completed', 3, 40);
    await run('flaky', 'completed', 0, 35, 'tour');
    await run('flaky', 'skipped', 0, 32);
    await run('flaky', 'failed', 0, 30);

    const text = await createMetrics(db.pool).registry.metrics();
    const values = (name: string) =>
      Object.fromEntries(
        [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))].map((m) => [
          m[1],
          Number(m[2]),
        ]),
      );
    expect(values('tour_import_last_import')).toEqual({
      'operator="steady",status="completed"': 1,
      'operator="flaky",status="failed"': 1,
    });
    expect(values('tour_import_failing_runs_in_a_row')).toEqual({
      'operator="flaky"': 2,
      'operator="fresh"': 0,
      'operator="steady"': 0,
    });
    expect(values('tour_import_failing_runs_threshold')).toEqual({
      'operator="flaky"': 2,
      'operator="fresh"': 3,
      'operator="steady"': 3,
    });
    const age = values('tour_import_delta_mark_age_seconds');
    expect(Object.keys(age).sort()).toEqual(['operator="flaky"', 'operator="fresh"', 'operator="steady"']);
    expect(age['operator="steady"']).toBeGreaterThan(7190);
    // No delta imports, no stale mark: `fresh` has no threshold, so its alert cannot fire.
    expect(values('tour_import_delta_mark_max_age_seconds')).toEqual({
      'operator="flaky"': 60,
      'operator="steady"': 3 * 3600,
    });
  });
});
