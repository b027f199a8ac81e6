import type { Client } from '@temporalio/client';
import type { Pool } from '../../src/db/pool.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import type { ReceivedNotification } from '../notifications.js';
import type { PersonAction, WrongHold } from '../person.js';
import type { ExitReport } from '../processes.js';
import type { DeliveryAttempt } from '../pushes.js';
import type { OperatorTruth } from './truth.js';

/** One invariant's verdict: passed when no row broke it; the rows say which and why. */
export interface InvariantResult {
  name: string;
  passed: boolean;
  /** What was looked at, e.g. "92 tours of 3 operators". */
  checked: string;
  rows: Record<string, unknown>[];
}

export function verdict(name: string, checked: string, rows: Record<string, unknown>[]): InvariantResult {
  return { name, passed: rows.length === 0, checked, rows };
}

/** The final state and what the soak knows it did: everything an invariant is held against. */
export interface CheckInput {
  pool: Pool;
  store: BlobStore;
  client: Client;
  /** The task queue the imports run on (scopes the Temporal queries). */
  taskQueue: string;
  /** Every ready asset has a variant per width × format (IMAGE_SIZES, IMAGE_FORMATS). */
  images: { widths: readonly number[]; formats: readonly string[] };
  truth: OperatorTruth[];
  deliveries: readonly DeliveryAttempt[];
  notifications: readonly ReceivedNotification[];
  wrongHolds: readonly WrongHold[];
  /** The pauses and resumes the soak made through the API. */
  personActions: readonly PersonAction[];
  /** Exits of processes the soak did not cause (those of Temporal and versitygw are not the product's). */
  unexpectedExits: readonly ExitReport[];
  /** The one full import of every operator after the faults stopped: operator → its result. */
  finalImports: readonly { operatorId: string; status: string; message: string }[];
}
