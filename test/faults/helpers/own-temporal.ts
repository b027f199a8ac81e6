import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { freePort, PRODUCT_DYNAMIC_CONFIG, startDevServer } from '../../../tooling/servers/dev-server.js';
import { resolveTemporalCli } from '../../../tooling/servers/temporal-cli.js';
import {
  freePorts,
  startServerProcess,
  startTemporalServer,
} from '../../../tooling/servers/temporal-server.js';
import { dropDatabases } from '../../../src/db/database.js';
import { testLogFile } from '../../helpers/data-dir.js';

/** A Temporal server a test file starts for itself, to kill and restart on the same store. */
export interface OwnTemporal {
  /** 'dev server on SQLite' or 'server on PostgreSQL'. */
  kind: string;
  address: string;
  child: ChildProcess;
  /** SIGKILL, and wait until the process is gone. */
  kill9(): Promise<void>;
  /** Starts it again on the same store and ports. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * In the system tier, a dev server on a SQLite file under `dir`; in the server tier (`npm run
 * test:server`), the real server on PostgreSQL databases of its own, dropped again by stop(). Its log,
 * across restarts, is own-temporal.log in the test file's data folder (testLogFile), not under `dir`:
 * kept when a test fails, and its lines shown with the failure.
 */
export async function startOwnTemporal(dir: string): Promise<OwnTemporal> {
  const production = inject('temporalServer');
  if (production) {
    const prefix = `tour_import_temporal_${randomBytes(3).toString('hex')}`;
    const databases = { main: prefix, visibility: `${prefix}_visibility` };
    const options = {
      ...production,
      databases,
      ports: await freePorts(),
      namespace: 'default',
      logFile: testLogFile('own-temporal.log'),
    };
    return restartable(
      'server on PostgreSQL',
      await startTemporalServer(options),
      () => startServerProcess(options),
      () => dropDatabases(production.postgresUrl, [databases.main, databases.visibility]),
    );
  }
  const options = {
    cli: await resolveTemporalCli(),
    port: await freePort(),
    dbFile: path.join(dir, 'temporal.sqlite'),
    logFile: testLogFile('own-temporal.log'),
    readyTimeoutMs: 120_000,
    dynamicConfig: PRODUCT_DYNAMIC_CONFIG,
  };
  return restartable('dev server on SQLite', await startDevServer(options), () => startDevServer(options));
}

interface Running {
  address: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Wraps a started server so a test can kill it and start it again the same way (`again`). */
function restartable(
  kind: string,
  first: Running,
  again: () => Promise<Running>,
  afterStop: () => Promise<void> = async () => {},
): OwnTemporal {
  let server = first;
  return {
    kind,
    get address() {
      return server.address;
    },
    get child() {
      return server.child;
    },
    kill9: () => kill9(server.child),
    restart: async () => {
      server = await again();
    },
    stop: async () => {
      await server.stop();
      await afterStop();
    },
  };
}

function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  return gone;
}
