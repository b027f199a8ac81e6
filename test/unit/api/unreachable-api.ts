import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../../../src/api/app.js';
import type { ApiCredentials } from '../../../src/api/auth.js';
import { createPool } from '../../../src/db/pool.js';
import { freePort } from '../../../tooling/servers/dev-server.js';
import { createLocalBlobStore } from '../../../src/storage/index.js';

export interface RunningApi {
  app: FastifyInstance;
  /** Where its PostgreSQL and Temporal would be: closed ports on this host. */
  postgresAddress: string;
  temporalAddress: string;
  close(): Promise<void>;
}

/**
 * The real API (createApi) whose PostgreSQL and Temporal are closed ports on 127.0.0.1: every readiness
 * check fails, with errors that name those addresses. The caller listens where it wants.
 */
export async function apiWithNothingBehindIt(credentials?: ApiCredentials): Promise<RunningApi> {
  const postgresAddress = `127.0.0.1:${await freePort()}`;
  const temporalAddress = `127.0.0.1:${await freePort()}`;
  const pool = createPool(`postgres://tour_import:not-the-password@${postgresAddress}/tour_import`);
  const connection = Connection.lazy({ address: temporalAddress });
  const blobDir = mkdtempSync(path.join(os.tmpdir(), 'api-unit-'));
  const app = await createApi({
    pool,
    client: new Client({ connection }),
    store: createLocalBlobStore(blobDir),
    operators: [],
    secret: () => undefined,
    temporalUiUrl: 'http://localhost:8233',
    credentials,
  });
  return {
    app,
    postgresAddress,
    temporalAddress,
    async close() {
      await app.close();
      await Promise.allSettled([pool.end(), connection.close()]);
      rmSync(blobDir, { recursive: true, force: true });
    },
  };
}

/** The base URL of a listening Fastify app, on the address it listens on. */
export function baseUrl(app: FastifyInstance): string {
  const { address, port } = app.server.address() as AddressInfo;
  return `http://${address}:${port}`;
}
