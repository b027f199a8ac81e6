import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { gidOf, uidOf } from '../../tooling/servers/private-postgres.js';
import { postgresBinDir } from '../../tooling/servers/postgres-discovery.js';
import { startS3Server, type S3Server, resolveVersitygw } from '../../tooling/servers/s3-server.js';
import {
  defaultPorts,
  resolveTemporalServer,
  resolveTemporalSqlTool,
  startTemporalServer,
  type TemporalServer,
} from '../../tooling/servers/temporal-server.js';
import type { OperatorSpecInput } from '../../tooling/simulator/types.js';
import type { Host } from './netns.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** What the core host serves to the others, each on the core host's own address. */
export interface CoreHost {
  databaseUrl: string;
  temporalAddress: string;
  s3: S3Server;
  simulator: {
    url: string;
    operators: { id: string; dialect: string; baseUrl: string; credentials: { apiKey: string } }[];
  };
  temporal: TemporalServer;
}

async function waitUntil<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A private PostgreSQL cluster of the core host, reachable from the test's subnet only. */
async function startPostgres(host: Host, dir: string, subnet: string): Promise<string> {
  const bin = postgresBinDir();
  const data = path.join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  // The postgres user must reach its folder through the test's temporary ones.
  for (let d = path.dirname(dir); d !== path.dirname(d) && d.startsWith(os.tmpdir()); d = path.dirname(d))
    chmodSync(d, 0o755);
  chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  execFileSync(
    'runuser',
    ['-u', 'postgres', '--', path.join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust'],
    {
      stdio: 'ignore',
    },
  );
  writeFileSync(path.join(data, 'pg_hba.conf'), `local all all trust\nhost all all ${subnet}.0/24 trust\n`);
  const log = openSync(path.join(dir, 'server.log'), 'a');
  host.spawn(
    'runuser',
    [
      '-u',
      'postgres',
      '--',
      path.join(bin, 'postgres'),
      '-D',
      data,
      '-p',
      '5432',
      '-k',
      dir,
      '-c',
      `listen_addresses=${host.ip}`,
      '-c',
      'max_connections=300',
    ],
    {
      stdio: ['ignore', log, log],
    },
  );
  const url = `postgres://postgres@${host.ip}:5432/postgres`;
  await waitUntil('PostgreSQL on the core host', async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    await client.connect();
    await client.end();
    return true;
  });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('CREATE DATABASE tour_import');
  await admin.end();
  return `postgres://postgres@${host.ip}:5432/tour_import`;
}

/** The simulator as its own process on the core host. */
async function startSimulatorOn(
  host: Host,
  dir: string,
  operators: OperatorSpecInput[],
): Promise<CoreHost['simulator']> {
  const logFile = path.join(dir, 'simulator.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = host.spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test/hosts/simulator-host.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, SIM_HOST: host.ip, SIM_PORT: '4010', SIM_OPERATORS: JSON.stringify(operators) },
      stdio: ['ignore', log, log],
    },
  );
  return waitUntil(
    'the simulator on the core host',
    async () => {
      if (child.exitCode !== null) throw new Error(`simulator exited: ${readFileSync(logFile, 'utf8')}`);
      const line = readFileSync(logFile, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('{'));
      return line ? (JSON.parse(line) as CoreHost['simulator']) : undefined;
    },
    120_000,
  );
}

/**
 * The core host: PostgreSQL (catalog and Temporal's databases), the real Temporal server, versitygw
 * and the operator simulator, each a process inside the host listening on its address.
 */
export async function startCoreHost(
  host: Host,
  dir: string,
  subnet: string,
  operators: OperatorSpecInput[],
): Promise<CoreHost> {
  const postgresUrl = await startPostgres(host, path.join(dir, 'pg'), subnet);
  const [server, sqlTool, versitygw] = [
    await resolveTemporalServer({ build: false }),
    await resolveTemporalSqlTool({ build: false }),
    await resolveVersitygw({ build: false }),
  ];
  const [temporal, s3, simulator] = await Promise.all([
    startTemporalServer({
      server,
      sqlTool,
      postgresUrl,
      ip: host.ip,
      ports: defaultPorts(7233),
      namespace: 'default',
      logFile: path.join(dir, 'temporal.log'),
      spawn: host.spawn,
    }),
    startS3Server({
      binary: versitygw,
      dir: path.join(dir, 's3'),
      host: host.ip,
      port: 7070,
      logFile: path.join(dir, 's3.log'),
      spawn: host.spawn,
    }),
    startSimulatorOn(host, dir, operators),
  ]);
  return { databaseUrl: postgresUrl, temporalAddress: temporal.address, s3, simulator, temporal };
}
