import { dropSchema } from '../../src/db/database.js';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';

export interface TestDb {
  url: string;
  schema: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A migrated schema of its own for one test file, so files can run in any order. */
export async function createTestDb(label: string, url = inject('databaseUrl')): Promise<TestDb> {
  const schema = `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  await migrate(url, schema);
  const pool = createPool(url, schema);
  return {
    url,
    schema,
    pool,
    async drop() {
      await dropSchema(pool, schema);
      await pool.end();
    },
  };
}
