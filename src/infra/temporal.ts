import path from 'node:path';
import { config } from '../config.js';
import { isTemporalUp, PRODUCT_DYNAMIC_CONFIG, startDevServer, type DevServer } from './dev-server.js';
import { resolveTemporalCli } from './temporal-cli.js';

export interface TemporalEndpoint {
  address: string;
  uiUrl?: string;
  /** Present when this process started the server; stop it on exit. */
  server?: DevServer;
}

/**
 * The Temporal server to use: TEMPORAL_ADDRESS if set (must answer); else one already running on the
 * configured local port (e.g. from `npm run temporal`); else a dev server started here, kept in a
 * SQLite file under the data folder so workflows survive restarts.
 */
export async function ensureTemporal(log: (line: string) => void = console.error): Promise<TemporalEndpoint> {
  const { address, port, uiPort } = config().temporal;
  if (address) {
    if (await isTemporalUp(address)) return { address };
    throw new Error(
      `Temporal is not reachable at ${address} (TEMPORAL_ADDRESS). Start it (\`npm run temporal\` or ` +
        '`docker compose up temporal`), or unset TEMPORAL_ADDRESS to let the project start a dev server.',
    );
  }
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

/** Where clients and workers connect: TEMPORAL_ADDRESS, else the local dev server's port. */
export function temporalAddress(): string {
  return config().temporal.address ?? `127.0.0.1:${config().temporal.port}`;
}

/** Fails with a sentence that says how to get a server, instead of a gRPC stack trace. */
export async function assertTemporalReachable(address = temporalAddress()): Promise<string> {
  if (await isTemporalUp(address)) return address;
  throw new Error(
    `Temporal is not reachable at ${address}. Start a dev server with \`npm run temporal\` (or ` +
      '`docker compose up temporal`), or set TEMPORAL_ADDRESS to a running server.',
  );
}
