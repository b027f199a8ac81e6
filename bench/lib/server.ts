/**
 * The Temporal server a bench run measures (`--server`): the dev server (`temporal server start-dev`,
 * SQLite in memory, what `npm run temporal` starts) or the production shape (the real server on
 * PostgreSQL, what `npm run temporal:server` and docker compose run).
 */
import path from 'node:path';
import { freePort, startDevServer } from '../../tooling/servers/dev-server.js';
import { dropDatabases } from '../../src/db/database.js';
import {
  freePorts,
  resolveTemporalServer,
  resolveTemporalSqlTool,
  startTemporalServer,
  TEMPORAL_SERVER_VERSION,
} from '../../tooling/servers/temporal-server.js';

export const SERVER_KINDS = ['dev', 'production'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export interface BenchServer {
  kind: ServerKind;
  address: string;
  pid: number;
  /** For the report: what ran and where its histories lived. */
  description: string;
  stop(): Promise<void>;
}

/** The production server's two databases, dropped before each start so that every run starts empty. */
const DATABASES = { main: 'bench_temporal', visibility: 'bench_temporal_visibility' };

export async function startBenchServer(
  kind: ServerKind,
  o: {
    cli: string;
    /** The bench's PostgreSQL (any database of the cluster): the production server keeps its own two there. */
    databaseUrl: string;
    dataDir: string;
    /** The dev server's dynamic config; the production server reads the product's file instead. */
    dynamicConfig: string[];
    log: (line: string) => void;
  },
): Promise<BenchServer> {
  const logFile = path.join(o.dataDir, `temporal-${kind}.log`);
  if (kind === 'dev') {
    const s = await startDevServer({
      cli: o.cli,
      port: await freePort(),
      logFile,
      readyTimeoutMs: 120_000,
      dynamicConfig: o.dynamicConfig,
    });
    return {
      kind,
      address: s.address,
      pid: s.child.pid!,
      description: 'dev server (temporal server start-dev, SQLite in memory)',
      stop: () => s.stop(),
    };
  }
  const [server, sqlTool] = await Promise.all([
    resolveTemporalServer({ log: o.log }),
    resolveTemporalSqlTool({ log: o.log }),
  ]);
  await dropDatabases(o.databaseUrl, Object.values(DATABASES));
  const s = await startTemporalServer({
    server,
    sqlTool,
    postgresUrl: o.databaseUrl,
    databases: DATABASES,
    ports: await freePorts(),
    namespace: 'default',
    logFile,
    log: o.log,
  });
  return {
    kind,
    address: s.address,
    pid: s.child.pid!,
    description:
      `production server (temporal-server ${TEMPORAL_SERVER_VERSION} on PostgreSQL, databases ` +
      `${DATABASES.main} and ${DATABASES.visibility}, fairness on)`,
    stop: () => s.stop(),
  };
}
