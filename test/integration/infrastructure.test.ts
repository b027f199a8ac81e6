import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../src/db/migrate.js';
import { createDatabaseIfMissing } from '../../src/db/database.js';
import { startPrivateCluster, stopPrivateCluster } from '../../tooling/servers/private-postgres.js';

describe('foundation', () => {
  const all = readMigrations();
  it('two processes migrating one schema at once apply each migration exactly once', async () => {
    const url = inject('databaseUrl');
    const schema = `t_migrate_${Date.now()}`;
    const results = await Promise.all([migrate(url, schema), migrate(url, schema), migrate(url, schema)]);
    // Every migration applied by exactly one of the three.
    expect(results.flat().sort()).toEqual(all.map((m) => m.name).sort());
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT version FROM ${schema}.schema_migrations`);
      expect(rows.map((r) => r.version).sort((a, b) => a - b)).toEqual(all.map((m) => m.version));
    } finally {
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    }
  });

  it('makes and starts a private PostgreSQL cluster with initdb when no server is available', async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'pg-private-'));
    chmodSync(parent, 0o755); // the postgres system user must reach it when tests run as root
    const dir = path.join(parent, 'pg');
    try {
      const url = await startPrivateCluster(() => undefined, dir);
      expect(new URL(url).hostname).toBe('127.0.0.1');
      await createDatabaseIfMissing(url);
      expect(await migrate(url)).toEqual(all.map((m) => m.name));
      // A second start finds the running cluster (same port) instead of making another.
      expect(await startPrivateCluster(() => undefined, dir)).toBe(url);
    } finally {
      await stopPrivateCluster(dir).catch(() => undefined);
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
