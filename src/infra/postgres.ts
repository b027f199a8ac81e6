import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { config } from '../config.js';
import { freePort } from './dev-server.js';

const DEFAULT_DATABASE = 'tour_import';

/**
 * Finds a PostgreSQL to use, in this order: DATABASE_URL (always set in production, see src/config.ts);
 * a server on 127.0.0.1:5432; a private cluster made with initdb under the data folder. Returns a connection URL to the project's database,
 * created when missing.
 */
export async function ensurePostgres(log: (line: string) => void = console.error): Promise<string> {
  const explicit = config().database.url;
  if (explicit) {
    await assertReachable(explicit);
    return explicit;
  }
  const local = `postgres://postgres@127.0.0.1:5432/${DEFAULT_DATABASE}`;
  if (await canConnect(withDatabase(local, 'postgres'))) {
    await createDatabaseIfMissing(local);
    return local;
  }
  const url = await startPrivateCluster(log);
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

export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions
    .map((v) => path.join(root, v, 'bin'))
    .find((d) => existsSync(path.join(d, 'initdb')));
  if (!found) {
    throw new Error(
      'No PostgreSQL found: nothing on 127.0.0.1:5432, DATABASE_URL unset, and no initdb under /usr/lib/postgresql. ' +
        'Install PostgreSQL (apt-get install postgresql), start one, or set DATABASE_URL.',
    );
  }
  return found;
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

export async function startPrivateCluster(
  log: (line: string) => void,
  dir = path.join(config().dataDir, 'pg'),
): Promise<string> {
  const bin = postgresBinDir();

  const dataDir = path.join(dir, 'data');
  const portFile = path.join(dir, 'port');
  const asRoot = process.getuid?.() === 0;
  mkdirSync(dir, { recursive: true });
  if (asRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`Creating a private PostgreSQL cluster in ${dataDir}…`);
    await run(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  }
  const port = existsSync(portFile) ? Number(readFileSync(portFile, 'utf8')) : await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/${DEFAULT_DATABASE}`;
  if (await canConnect(withDatabase(url, 'postgres'))) return url;
  writeFileSync(portFile, String(port));
  log(`Starting the private PostgreSQL cluster on 127.0.0.1:${port}…`);
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

/** Stops a private cluster started by startPrivateCluster (tests; the demo leaves it running). */
export async function stopPrivateCluster(dir = path.join(config().dataDir, 'pg')): Promise<void> {
  await run(path.join(postgresBinDir(), 'pg_ctl'), [
    '-D',
    path.join(dir, 'data'),
    '-m',
    'fast',
    '-w',
    'stop',
  ]);
}
