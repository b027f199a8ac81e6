import { log } from '@temporalio/activity';
import * as blobGc from '../db/blob-gc.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { pruneBatch } from '../db/retention.js';
import {
  PERSISTED_STAGED_KEEP_MS,
  type HousekeepingPolicy,
  type PrunedTable,
} from '../domain/housekeeping.js';
import type { BlobStore } from '../storage/blob-store.js';
import { originalKey, sourceHashOfKey } from '../storage/keys.js';
import { withFailureMappingAll } from './failures.js';

export interface HousekeepingDeps {
  pool: Pool;
  store: BlobStore;
  policy: HousekeepingPolicy;
  /**
   * IMAGE_RECHECK_MINUTES in ms: an import takes an image checked this recently as it is, without
   * touching it, so a blob checked that long before its mark may still be about to be referenced.
   */
  recheckAfterMs?: number;
}

export interface PruneResult {
  deleted: number;
  /** Fewer than a batch were left: the table is done for this run. */
  done: boolean;
}

export interface MarkResult {
  listed: number;
  marked: number;
  /** The last key of this page, where the next page starts; undefined after the last page. */
  next?: string;
}

export interface SweepResult {
  /** Hashes whose blobs and asset rows were deleted. */
  swept: number;
  blobsDeleted: number;
  /** Candidates referenced again, or touched by an import since their mark: kept. */
  kept: number;
  done: boolean;
}

/**
 * The Housekeeping workflow's steps. Each call does one bounded batch (at most `batchSize` rows, keys or
 * candidates) and heartbeats while it runs; the workflow calls again until a batch says it is done.
 */
export function createHousekeepingActivities(deps: HousekeepingDeps) {
  const { pool, store, policy } = deps;
  const limit = policy.batchSize;
  const retention: Record<PrunedTable, number> = {
    import_runs: policy.retention.importRunsMs,
    tour_failures: policy.retention.tourFailuresMs,
    webhook_deliveries: policy.retention.webhookDeliveriesMs,
    staged_tours: policy.retention.stagedToursMs,
  };

  /** The original and every variant of the hash, whatever sizes earlier configurations made. */
  async function deleteBlobsOf(sha256: string): Promise<number> {
    const keys = [
      originalKey(sha256),
      ...(await store.list({ prefix: `variants/${sha256}/`, limit: 1_000 })),
    ];
    for (const key of keys) await store.delete(key);
    return keys.length;
  }

  return withFailureMappingAll({
    async pruneRows(a: { table: PrunedTable }): Promise<PruneResult> {
      const deleted = await pruneBatch(pool, a.table, {
        olderThanMs: retention[a.table],
        limit,
        persistedKeepMs: PERSISTED_STAGED_KEEP_MS,
      });
      if (deleted) log.info('housekeeping: rows past retention deleted', { table: a.table, deleted });
      return { deleted, done: deleted < limit };
    },

    /** Marks the unreferenced hashes among a page of the store's keys (and unmarks referenced ones). */
    async markBlobs(a: { startAfter?: string }): Promise<MarkResult> {
      if (!policy.blobGc.enabled) return { listed: 0, marked: 0 };
      const keys = await store.list({ startAfter: a.startAfter, limit });
      const hashes = new Set(keys.map(sourceHashOfKey).filter((h): h is string => h !== undefined));
      const marked = await blobGc.markUnreferenced(pool, [...hashes]);
      return { listed: keys.length, marked, next: keys.length < limit ? undefined : keys.at(-1) };
    },

    /**
     * Sweeps candidates marked more than the grace period ago, one transaction each: the asset rows go
     * in it and the blobs before it commits, so a failed delete leaves the candidate for the next run.
     */
    async sweepBlobs(): Promise<SweepResult> {
      const result: SweepResult = { swept: 0, blobsDeleted: 0, kept: 0, done: true };
      if (!policy.blobGc.enabled) return result;
      const o = { graceMs: policy.blobGc.graceMs, recheckMs: deps.recheckAfterMs ?? 0 };
      for (let i = 0; i < limit; i++) {
        const taken = await inTransaction(pool, async (tx) => {
          const c = await blobGc.takeDueCandidate(tx, o);
          if (c?.verdict === 'sweep') result.blobsDeleted += await deleteBlobsOf(c.sha256);
          return c;
        });
        if (!taken) break;
        if (taken.verdict === 'sweep') result.swept++;
        else result.kept++;
        if (i === limit - 1) result.done = false;
      }
      if (result.swept) log.info('housekeeping: unreferenced blobs deleted', { ...result });
      return result;
    },

    /** Temp files of downloads and uploads a worker never finished (it died, or the host did). */
    async sweepTempFiles(): Promise<{ removed: number }> {
      return { removed: await store.sweepTemp(policy.tempFileMaxAgeMs) };
    },
  });
}

export type HousekeepingActivities = ReturnType<typeof createHousekeepingActivities>;
