import type { Pool } from '../../src/db/pool.js';
import type { OperatorTruth } from './truth.js';
import { verdict, type InvariantResult } from './types.js';

/** The catalog held against what each operator serves now. */

interface StoredTour {
  operator_id: string;
  external_id: string;
  status: 'active' | 'removed';
  content_hash: string | null;
}

async function storedTours(pool: Pool, truth: OperatorTruth[]): Promise<Map<string, StoredTour>> {
  const { rows } = await pool.query<StoredTour>(
    `SELECT operator_id, external_id, status, content_hash FROM tours WHERE operator_id = ANY($1::text[])`,
    [truth.map((t) => t.operatorId)],
  );
  return new Map(rows.map((r) => [`${r.operator_id}/${r.external_id}`, r]));
}

const short = (hash: string | null) => (hash ? hash.slice(0, 12) : null);

/** Every tour an operator lists as active is active here with the operator's current content: none lost, none stale. */
export async function listedToursCurrent(pool: Pool, truth: OperatorTruth[]): Promise<InvariantResult> {
  const stored = await storedTours(pool, truth);
  const rows: Record<string, unknown>[] = [];
  let listed = 0;
  for (const t of truth) {
    for (const [externalId, hash] of t.active) {
      listed++;
      const s = stored.get(`${t.operatorId}/${externalId}`);
      const problem = !s
        ? 'missing from the catalog'
        : s.status !== 'active'
          ? 'removed in the catalog'
          : s.content_hash !== hash
            ? 'stale content'
            : undefined;
      if (problem)
        rows.push({
          operatorId: t.operatorId,
          externalId,
          problem,
          stored: short(s?.content_hash ?? null),
          served: short(hash),
        });
    }
  }
  return verdict('every listed tour is active with its current content', `${listed} listed tours`, rows);
}

/** Every tour marked removed here is gone or tombstoned at its operator: none removed wrongly. */
export async function removedToursGone(pool: Pool, truth: OperatorTruth[]): Promise<InvariantResult> {
  const byOperator = new Map(truth.map((t) => [t.operatorId, t]));
  const removed = [...(await storedTours(pool, truth)).values()].filter((s) => s.status === 'removed');
  const rows = removed
    .filter((s) => byOperator.get(s.operator_id)!.active.has(s.external_id))
    .map((s) => ({
      operatorId: s.operator_id,
      externalId: s.external_id,
      problem: 'removed, but the operator lists it as active',
    }));
  return verdict('no tour removed wrongly', `${removed.length} removed tours`, rows);
}

/**
 * Every tour active here that its operator no longer lists (or tombstoned) has been removed after the
 * final full import, unless the removal guard holds its removal for a person.
 */
export async function unlistedToursRemoved(pool: Pool, truth: OperatorTruth[]): Promise<InvariantResult> {
  const held = await pool.query<{ operator_id: string; external_id: string }>(
    `SELECT operator_id, external_id FROM removals WHERE status = 'held'`,
  );
  const isHeld = new Set(held.rows.map((r) => `${r.operator_id}/${r.external_id}`));
  const byOperator = new Map(truth.map((t) => [t.operatorId, t]));
  const active = [...(await storedTours(pool, truth)).values()].filter((s) => s.status === 'active');
  const rows = active
    .filter((s) => !byOperator.get(s.operator_id)!.active.has(s.external_id))
    .filter((s) => !isHeld.has(`${s.operator_id}/${s.external_id}`))
    .map((s) => ({
      operatorId: s.operator_id,
      externalId: s.external_id,
      problem: byOperator.get(s.operator_id)!.tombstoned.has(s.external_id)
        ? 'active, but tombstoned at the operator'
        : 'active, but no longer listed by the operator',
    }));
  return verdict(
    'no tour kept after its removal (unless held for a person)',
    `${active.length} active tours`,
    rows,
  );
}
