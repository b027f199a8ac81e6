import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { isTemporalUp } from '../../src/infra/temporal-reachable.js';
import {
  freePort,
  PRODUCT_DYNAMIC_CONFIG,
  startDevServer,
  type DevServer,
} from '../../tooling/servers/dev-server.js';
import { resolveTemporalCli } from '../../tooling/servers/temporal-cli.js';
import { createDatabaseIfMissing, withDatabase } from '../../src/db/database.js';
import { ensurePostgres } from '../../src/infra/postgres.js';
import { TEST_DATA_ROOT } from './data-dir.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    /** Logs of the servers the whole run shares: a failure shows what they got while its test ran. */
    serverLogs: string[];
  }
}

/**
 * Gives the system tier one real Temporal server (TEMPORAL_ADDRESS, or a headless dev server started here
 * with a generous readiness wait) and a real PostgreSQL database; each test file makes its own schema.
 */
export default async function setup(project: TestProject) {
  let server: DevServer | undefined;
  let logFile: string | undefined;
  let address = process.env['TEMPORAL_ADDRESS'];
  if (address) {
    if (!(await isTemporalUp(address))) {
      throw new Error(
        `TEMPORAL_ADDRESS=${address} does not answer. Start it with \`npm run temporal\` or unset it.`,
      );
    }
  } else {
    const cli = await resolveTemporalCli();
    logFile = sharedLogFile('temporal-dev-server');
    server = await startDevServer({
      cli,
      port: await freePort(),
      readyTimeoutMs: 120_000,
      logFile,
      dynamicConfig: PRODUCT_DYNAMIC_CONFIG,
    });
    address = server.address;
  }
  project.provide('temporalAddress', address);
  project.provide('serverLogs', logFile ? [logFile] : []);
  await provideTestDatabase(project);
  return async () => {
    await server?.stop();
    // What it logged while a test ran is in that test's failure; KEEP_TEST_LOGS keeps all of it.
    if (logFile && !process.env['KEEP_TEST_LOGS'])
      rmSync(path.dirname(logFile), { recursive: true, force: true });
  };
}

/** A log file of a server the whole run shares, in a folder of its own under the tests' data root. */
export function sharedLogFile(name: string): string {
  mkdirSync(TEST_DATA_ROOT, { recursive: true });
  return path.join(mkdtempSync(path.join(TEST_DATA_ROOT, `${name}-`)), `${name}.log`);
}

/** The catalog's test database (each test file makes its own schema in it). */
export async function provideTestDatabase(project: TestProject): Promise<void> {
  const databaseUrl = withDatabase(await ensurePostgres(), 'tour_import_test');
  await createDatabaseIfMissing(databaseUrl);
  project.provide('databaseUrl', databaseUrl);
}
