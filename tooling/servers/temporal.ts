import path from 'node:path';
import { config } from '../../src/config.js';
import { assertTemporalReachable, isTemporalUp } from '../../src/infra/temporal-reachable.js';
import { PRODUCT_DYNAMIC_CONFIG, startDevServer, type DevServer } from './dev-server.js';
import { resolveTemporalCli } from './temporal-cli.js';

export interface TemporalEndpoint {
  address: string;
  uiUrl?: string;
  /** Present when this process started the server; stop it on exit. */
  server?: DevServer;
}

/**
 * The Temporal server to use: TEMPORAL_ADDRESS if set (must answer; always so in production, see
 * src/config.ts); else one already running on the configured local port (e.g. from `npm run temporal`);
 * else a dev server started here, kept in a SQLite file under the data folder so workflows survive restarts.
 */
export async function ensureTemporal(log: (line: string) => void = console.error): Promise<TemporalEndpoint> {
  const { address, port, uiPort } = config().temporal;
  if (address) return { address: (await assertTemporalReachable()).address };
  const local = `127.0.0.1:${port}`;
  if (await isTemporalUp(local)) return { address: local, uiUrl: `http://localhost:${uiPort}` };
  const cli = await resolveTemporalCli(log);
  log(`Starting Temporal dev server on ${local} (Web UI http://localhost:${uiPort})…`);
  const dataDir = config().dataDir;
  const server = await startDevServer({
    cli,
    port,
    uiPort,
    dbFile: path.join(dataDir, 'temporal.sqlite'),
    logFile: path.join(dataDir, 'temporal.log'),
    dynamicConfig: PRODUCT_DYNAMIC_CONFIG,
  });
  return { address: server.address, uiUrl: server.uiUrl, server };
}
