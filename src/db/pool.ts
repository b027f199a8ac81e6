import pg from 'pg';
import { tracePool } from '../telemetry/spans.js';

export type Pool = pg.Pool;
export type Queryable = pg.Pool | pg.PoolClient;

/**
 * A pool whose connections use `schema` (tests give each file its own). Idle-client errors (for example
 * PostgreSQL restarting) are logged instead of crashing the process; queries retry through Temporal.
 */
export function createPool(url: string, schema = 'public', max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (err) =>
    console.error(`PostgreSQL idle client error (the pool will reconnect): ${err.message}`),
  );
  // Queries inside a trace get spans (docs/operations.md: Traces); none otherwise.
  return tracePool(pool);
}

/**
 * Runs `fn` in one transaction on a pooled client. A checked-out client has no error listener of the
 * pool's, so a connection lost mid-transaction (PostgreSQL restarting) would be an uncaught 'error'
 * event: we listen for it, let the failed query reject, and destroy that client instead of reusing it.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (err: Error) => void (lost = err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (!lost) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // A lost client is destroyed; our listener stays on it to absorb any late error event.
    if (!lost) client.off('error', onError);
    client.release(lost);
  }
}

/** Whether PostgreSQL answers (the API's readiness check). */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
