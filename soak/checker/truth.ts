import { tourContentHash } from '../../src/domain/hash.js';
import { createAdapter, type OperatorConfig } from '../../src/operators/registry.js';
import type { OperatorAdapter } from '../../src/operators/types.js';

/**
 * What an operator serves now, read the way the product reads it (its own adapters, a full listing,
 * the detail of every tour where the listing carries none) and hashed with its own canonical hash: the
 * checker holds the catalog against the operator, not against the simulator's internals.
 */
export interface OperatorTruth {
  operatorId: string;
  /** Tours listed as active → the canonical hash of their content. */
  active: Map<string, string>;
  /** Tours the operator reports removed (dialect A's tombstones). */
  tombstoned: Set<string>;
  /** Listed entries the product's schema refuses (none are expected from the simulator). */
  invalid: string[];
}

export async function readOperatorTruth(
  configs: OperatorConfig[],
  secret: (envName: string) => string | undefined,
): Promise<OperatorTruth[]> {
  const unlimited = { acquire: async () => {} };
  return Promise.all(configs.map((c) => truthOf(c.id, createAdapter(c, { secret, rateLimiter: unlimited }))));
}

async function truthOf(operatorId: string, adapter: OperatorAdapter): Promise<OperatorTruth> {
  const truth: OperatorTruth = { operatorId, active: new Map(), tombstoned: new Set(), invalid: [] };
  const toFetch: string[] = [];
  let position: string | undefined;
  do {
    const page = await adapter.listPage(position, { mode: 'full' });
    for (const e of page.entries) {
      // A feed lists a tour again after a change: its last entry is what the operator says now.
      truth.active.delete(e.externalId);
      truth.tombstoned.delete(e.externalId);
      if (e.kind === 'removed') truth.tombstoned.add(e.externalId);
      else if (e.kind === 'invalid') truth.invalid.push(`${e.externalId}: ${e.error}`);
      else if (e.tour) truth.active.set(e.externalId, tourContentHash(e.tour));
      else toFetch.push(e.externalId);
    }
    position = page.next;
  } while (position !== undefined);
  for (const externalId of toFetch) {
    const fetched = await adapter.fetchTour(externalId);
    if (fetched.kind === 'found') truth.active.set(externalId, tourContentHash(fetched.tour));
    else if (fetched.kind === 'tombstone') truth.tombstoned.add(externalId);
    else truth.invalid.push(`${externalId}: listed, but its detail answers 404`);
  }
  return truth;
}
