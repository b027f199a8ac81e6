import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createDatabaseIfMissing, withDatabase } from '../src/db/database.js';
import { startPrivateCluster, stopPrivateCluster } from '../tooling/servers/private-postgres.js';
import { freePort } from '../tooling/servers/dev-server.js';
import { resolveVersitygw, startS3Server, type S3Server } from '../tooling/servers/s3-server.js';
import {
  freePorts,
  resolveTemporalServer,
  resolveTemporalSqlTool,
  startServerProcess,
  startTemporalServer,
  type TemporalServerOptions,
} from '../tooling/servers/temporal-server.js';
import { Supervised, type ExitReport, type Part } from './processes.js';

/** The servers the product runs on, each a part the fault schedule can take down and bring back. */

/** Temporal's services, four workers and the API each keep pools: well above the default 100. */
const MAX_CONNECTIONS = 300;

/** A private cluster in `dir`: brought down with a fast shutdown (every connection dropped), then started again. */
export async function startPostgres(dir: string): Promise<{ url: string; part: Part }> {
  mkdirSync(dir, { recursive: true });
  const quiet = () => undefined;
  let url = await startPrivateCluster(quiet, dir);
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  await admin.query(`ALTER SYSTEM SET max_connections = ${MAX_CONNECTIONS}`);
  await admin.end();
  await stopPrivateCluster(dir);
  url = await startPrivateCluster(quiet, dir);
  await createDatabaseIfMissing(url);
  let up = true;
  const part: Part = {
    name: 'postgres',
    up: () => up,
    start: async () => {
      await startPrivateCluster(quiet, dir);
      up = true;
    },
    down: async () => {
      up = false;
      await stopPrivateCluster(dir);
    },
    stop: async () => {
      if (up) await stopPrivateCluster(dir).catch(() => undefined);
      up = false;
    },
  };
  return { url, part };
}

/**
 * The Temporal cluster server on that PostgreSQL (schemas and namespace made once); brought back as the
 * same server on the same databases and ports.
 */
export async function startTemporal(
  postgresUrl: string,
  logFile: string,
  onExit: (e: ExitReport) => void,
): Promise<{ address: string; part: Supervised }> {
  const options: TemporalServerOptions = {
    server: await resolveTemporalServer({ build: false }),
    sqlTool: await resolveTemporalSqlTool({ build: false }),
    postgresUrl,
    ports: await freePorts(),
    namespace: 'default',
    logFile,
  };
  let first = true;
  const part = new Supervised(
    'temporal',
    async () => {
      const server = first ? await startTemporalServer(options) : await startServerProcess(options);
      first = false;
      return server.child;
    },
    onExit,
  );
  await part.start();
  return { address: `127.0.0.1:${options.ports.frontend}`, part };
}

/** versitygw over a folder in the run folder, on a fixed port (its keys derive from port and our pid). */
export async function startS3(
  dir: string,
  logFile: string,
  onExit: (e: ExitReport) => void,
): Promise<{ server: S3Server; part: Supervised }> {
  const options = {
    binary: await resolveVersitygw({ build: false }),
    dir,
    port: await freePort(),
    logFile,
    bucket: 'tour-import',
  };
  let server: S3Server | undefined;
  const part = new Supervised(
    's3',
    async () => {
      server = await startS3Server(options);
      return server.child;
    },
    onExit,
  );
  await part.start();
  return { server: server!, part };
}

export const serverLogs = (runDir: string) => ({
  temporal: path.join(runDir, 'logs', 'temporal.log'),
  s3: path.join(runDir, 'logs', 'versitygw.log'),
});
