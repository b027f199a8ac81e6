import type { Queryable } from './pool.js';

/**
 * Counts kept up to date on write (migration 007: statement triggers on tours, tour_assets, tour_failures
 * and import_runs), so the metrics scrape and the operators page never count those tables themselves.
 * - tours, images: rows by `status`; tour_failures: by `kind`; import_runs: by `mode` and `status`.
 * - import_duration: finished runs by `mode`, `status` and `le`, the smallest bucket bound at or above
 *   their duration (null above the last); import_duration_sum: their seconds. These two only grow:
 *   retention deletes runs without taking them back out.
 */
export type CountedMetric =
  'tours' | 'images' | 'tour_failures' | 'import_runs' | 'import_duration' | 'import_duration_sum';

export interface ReadCount {
  operatorId: string;
  labels: Record<string, string | number | null>;
  n: number;
}

/** One row per operator and label set: bounded by operators, not by the rows counted. */
export async function readCounts(db: Queryable, metric: CountedMetric): Promise<ReadCount[]> {
  const { rows } = await db.query(`SELECT operator_id, labels, n FROM read_counts WHERE metric = $1`, [
    metric,
  ]);
  return rows.map((r) => ({ operatorId: r.operator_id, labels: r.labels, n: Number(r.n) }));
}
