import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { config } from '../../src/config.js';
import { SEARCH_ATTRIBUTES } from '../../src/constants.js';
import { stopChild, waitForTemporal } from './dev-server.js';
import { resolveGoBinary } from './go-binary.js';
import type { ServerPorts } from './temporal-server-ports.js';

// The server's ports are part of this module's interface; they live in a file of their own for size.
export { defaultPorts, freePorts } from './temporal-server-ports.js';

/**
 * The production shape of Temporal, run by the project: the real server (`go.temporal.io/server`, the
 * same version as the docker-compose image) on PostgreSQL, its schemas created and migrated by the
 * server's own SQL tool. `npm run temporal:server` and the server test tier use it; the dev server
 * (`temporal server start-dev`, SQLite) stays the default for the demo and the quick tests.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.32.1';
const SERVER_MODULE = `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`;
const SQL_TOOL_MODULE = `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`;

/** Dynamic config shared with docker compose: fairness on (see the file). */
const DYNAMIC_CONFIG_FILE = path.resolve(import.meta.dirname, '../../config/temporal-dynamic-config.yaml');

const howToGetOne = (what: string, module: string, variable: string) =>
  [
    `No ${what} was found and it could not be built. Any one of these fixes it:`,
    `  1. install Go, so this project can build it once into the user cache (go install ${module});`,
    `  2. set ${variable} to an existing binary;`,
    '  3. use the dev server instead: `npm run temporal`, or `docker compose up` for the whole stack.',
  ].join('\n');

interface ResolveOptions {
  /** false: fail at once with how to get it instead of building for minutes. */
  build?: boolean;
  log?: (line: string) => void;
}

/** One of the server's binaries: built from go.temporal.io/server at the server's version, cached. */
function resolveServerBinary(
  b: { name: string; cacheName: string; label: string; what: string; module: string },
  explicit: { path: string | undefined; variable: string },
  o: ResolveOptions,
): Promise<string> {
  return resolveGoBinary(
    {
      ...b,
      searchPath: false, // generic names (`server`, `sql`): never take one from PATH
      version: TEMPORAL_SERVER_VERSION,
      explicit,
      cacheDir: config().temporal.cliCacheDir,
      howToGetOne: howToGetOne(b.what, b.module, explicit.variable),
      build: o.build,
    },
    o.log,
  );
}

export function resolveTemporalServer(o: ResolveOptions = {}): Promise<string> {
  return resolveServerBinary(
    {
      name: 'server',
      cacheName: 'temporal-server',
      label: 'the Temporal server',
      what: 'Temporal server',
      module: SERVER_MODULE,
    },
    { path: config().temporal.serverPath, variable: 'TEMPORAL_SERVER_PATH' },
    o,
  );
}

export function resolveTemporalSqlTool(o: ResolveOptions = {}): Promise<string> {
  return resolveServerBinary(
    {
      name: 'sql',
      cacheName: 'temporal-sql-tool',
      label: "the Temporal server's SQL tool",
      what: 'Temporal SQL tool',
      module: SQL_TOOL_MODULE,
    },
    { path: config().temporal.sqlToolPath, variable: 'TEMPORAL_SQL_TOOL_PATH' },
    o,
  );
}

export interface TemporalServerOptions {
  server: string;
  sqlTool: string;
  /** Any database URL of the PostgreSQL that holds Temporal's two databases (user, password, host, port). */
  postgresUrl: string;
  /** Default: temporal and temporal_visibility. */
  databases?: { main: string; visibility: string };
  /** The address every service binds to (and clients use). Default 127.0.0.1. */
  ip?: string;
  ports: ServerPorts;
  namespace: string;
  /** Where the server's output goes; inherits the terminal when omitted. */
  logFile?: string;
  readyTimeoutMs?: number;
  log?: (line: string) => void;
  /** How to start the process (default: spawn); e.g. inside a network namespace in the hosts test. */
  spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
}

export interface TemporalServer {
  address: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

interface PostgresTarget {
  host: string;
  port: string;
  user: string;
  password: string;
}

function postgresTarget(url: string): PostgresTarget {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port || '5432',
    user: decodeURIComponent(u.username) || 'postgres',
    password: decodeURIComponent(u.password),
  };
}

/**
 * Creates both databases when missing and migrates them to the schemas embedded in the SQL tool.
 * Safe to run on every start (what the admin-tools job does in docker compose).
 */
async function setupTemporalSchemas(
  o: Pick<TemporalServerOptions, 'sqlTool' | 'postgresUrl' | 'databases' | 'log'>,
): Promise<void> {
  const pg = postgresTarget(o.postgresUrl);
  const dbs = o.databases ?? { main: 'temporal', visibility: 'temporal_visibility' };
  const base = ['--plugin', 'postgres12', '--ep', pg.host, '-p', pg.port, '-u', pg.user];
  if (pg.password) base.push('--pw', pg.password);
  const run = promisify(execFile);
  for (const [db, schema] of [
    [dbs.main, 'postgresql/v12/temporal'],
    [dbs.visibility, 'postgresql/v12/visibility'],
  ] as const) {
    const tool = async (args: string[]) => {
      try {
        await run(o.sqlTool, [...base, '--db', db, ...args], { timeout: 120_000 });
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new Error(
          `temporal-sql-tool ${args[0]} on database ${db} at ${pg.host}:${pg.port} failed: ` +
            `${(e.stderr ?? e.message).trim().split('\n').slice(-3).join(' ')}`,
        );
      }
    };
    o.log?.(`Temporal schema: database ${db}, ${schema}`);
    await tool(['create-database']);
    await tool(['setup-schema', '-v', '0.0']);
    await tool(['update-schema', '--schema-name', schema]);
  }
}

function serverEnv(o: TemporalServerOptions): Record<string, string> {
  const pg = postgresTarget(o.postgresUrl);
  const dbs = o.databases ?? { main: 'temporal', visibility: 'temporal_visibility' };
  const p = o.ports;
  return {
    DB: 'postgres12',
    POSTGRES_SEEDS: pg.host,
    DB_PORT: pg.port,
    POSTGRES_USER: pg.user,
    POSTGRES_PWD: pg.password,
    DBNAME: dbs.main,
    VISIBILITY_DBNAME: dbs.visibility,
    BIND_ON_IP: o.ip ?? '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: DYNAMIC_CONFIG_FILE,
    LOG_LEVEL: 'warn',
    // Each of the four services keeps its own pools (20 + 10 connections by default): 120 in all would
    // take most of a default PostgreSQL's 100. A single-process server on one host needs far fewer.
    SQL_MAX_CONNS: '8',
    SQL_MAX_IDLE_CONNS: '8',
    SQL_VIS_MAX_CONNS: '4',
    SQL_VIS_MAX_IDLE_CONNS: '4',
    FRONTEND_GRPC_PORT: String(p.frontend),
    FRONTEND_HTTP_PORT: String(p.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
    HISTORY_GRPC_PORT: String(p.history),
    HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
    MATCHING_GRPC_PORT: String(p.matching),
    MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
    WORKER_GRPC_PORT: String(p.worker),
    WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
  };
}

/** Starts the server process on migrated schemas and waits until its frontend answers. */
export async function startServerProcess(o: TemporalServerOptions): Promise<TemporalServer> {
  const out = o.logFile ? openSync(o.logFile, 'a') : 'inherit';
  const child = (o.spawn ?? spawn)(o.server, ['--allow-no-auth', 'start'], {
    env: { ...process.env, ...serverEnv(o) }, // eslint-disable-line no-restricted-properties -- child env
    stdio: ['ignore', out, out],
  });
  const address = `${o.ip ?? '127.0.0.1'}:${o.ports.frontend}`;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(
        new Error(
          `The Temporal server exited with code ${code} before it was ready` +
            (o.logFile ? ` (its log: ${o.logFile}; ports taken?)` : ' (ports taken?)'),
        ),
      ),
    ),
  );
  try {
    await Promise.race([waitForTemporal(address, o.readyTimeoutMs ?? 120_000), exited]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { address, child, stop: () => stopChild(child, 20_000) };
}

const ALREADY_EXISTS = 6; // gRPC status code

/**
 * Registers the namespace and the project's search attributes (both skipped when present), then waits
 * until the frontend serves the namespace: its cache refreshes every few seconds.
 */
async function prepareNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService
      .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('7 days') })
      .catch(ignoreAlreadyExists);
    const keyword = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    const wanted = Object.fromEntries(Object.values(SEARCH_ATTRIBUTES).map((n) => [n, keyword]));
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        const missing = Object.fromEntries(
          Object.entries(wanted).filter(([name]) => !(name in (customAttributes ?? {}))),
        );
        if (Object.keys(missing).length)
          await connection.operatorService
            .addSearchAttributes({ namespace, searchAttributes: missing })
            .catch(ignoreAlreadyExists);
        // Served from the namespace cache, like starting a workflow: fails until the cache has it.
        await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
        if (!Object.keys(missing).length) return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`Temporal at ${address} did not serve namespace ${namespace}: ${String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  } finally {
    await connection.close();
  }
}

function ignoreAlreadyExists(err: { code?: number }): void {
  if (err.code !== ALREADY_EXISTS) throw err;
}

/** Schemas, server, namespace and search attributes: a server ready for the project's workers. */
export async function startTemporalServer(o: TemporalServerOptions): Promise<TemporalServer> {
  await setupTemporalSchemas(o);
  const server = await startServerProcess(o);
  try {
    await prepareNamespace(server.address, o.namespace);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
