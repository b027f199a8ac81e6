import type { TestProject } from 'vitest/node';
import {
  isTemporalUp,
  freePort,
  PRODUCT_DYNAMIC_CONFIG,
  startDevServer,
  type DevServer,
} from '../../src/infra/dev-server.js';
import { resolveTemporalCli } from '../../src/infra/temporal-cli.js';
import { ensurePostgres, createDatabaseIfMissing, withDatabase } from '../../src/infra/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
  }
}

/**
 * Gives the system tier one real Temporal server (TEMPORAL_ADDRESS, or a headless dev server started here
 * with a generous readiness wait) and a real PostgreSQL database; each test file makes its own schema.
 */
export default async function setup(project: TestProject) {
  let server: DevServer | undefined;
  let address = process.env['TEMPORAL_ADDRESS'];
  if (address) {
    if (!(await isTemporalUp(address))) {
      throw new Error(
        `TEMPORAL_ADDRESS=${address} does not answer. Start it with \`npm run temporal\` or unset it.`,
      );
    }
  } else {
    const cli = await resolveTemporalCli();
    server = await startDevServer({
      cli,
      port: await freePort(),
      readyTimeoutMs: 120_000,
      logFile: '/dev/null',
      dynamicConfig: PRODUCT_DYNAMIC_CONFIG,
    });
    address = server.address;
  }
  project.provide('temporalAddress', address);
  await provideTestDatabase(project);
  return async () => {
    await server?.stop();
  };
}

/** The catalog's test database (each test file makes its own schema in it). */
export async function provideTestDatabase(project: TestProject): Promise<void> {
  const databaseUrl = withDatabase(await ensurePostgres(), 'tour_import_test');
  await createDatabaseIfMissing(databaseUrl);
  project.provide('databaseUrl', databaseUrl);
}
