import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import type { TestProject } from 'vitest/node';
import { dropDatabases } from '../../src/db/database.js';
import { ensurePostgres } from '../../src/infra/postgres.js';
import {
  freePorts,
  resolveTemporalServer,
  resolveTemporalSqlTool,
  startTemporalServer,
} from '../../tooling/servers/temporal-server.js';
import { provideTestDatabase } from './global-setup.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** How the server tier's Temporal was started, so a test can start one more of its own. */
    temporalServer: { server: string; sqlTool: string; postgresUrl: string; logDir: string };
  }
}

/**
 * The server tier: the real Temporal server (the production shape) on PostgreSQL, started from empty
 * databases, instead of the dev server; the catalog database as in the system tier.
 */
export default async function setup(project: TestProject) {
  const postgresUrl = await ensurePostgres();
  const [server, sqlTool] = [await resolveTemporalServer(), await resolveTemporalSqlTool()];
  const databases = { main: 'tour_import_temporal_test', visibility: 'tour_import_temporal_test_visibility' };
  await dropDatabases(postgresUrl, [databases.main, databases.visibility]);
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'temporal-server-tier-'));
  const temporal = await startTemporalServer({
    server,
    sqlTool,
    postgresUrl,
    databases,
    ports: await freePorts(),
    namespace: 'default',
    logFile: path.join(logDir, 'temporal.log'),
  });
  project.provide('temporalAddress', temporal.address);
  project.provide('temporalServer', { server, sqlTool, postgresUrl, logDir });
  project.provide('serverLogs', [path.join(logDir, 'temporal.log')]);
  await provideTestDatabase(project);
  return async () => {
    await temporal.stop();
  };
}
