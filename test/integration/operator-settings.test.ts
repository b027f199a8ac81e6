import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getOperator, upsertOperator } from '../../src/db/operators.js';
import { syncedOperator, parseOperatorsYaml } from '../../src/operators/registry.js';
import { testLogFile } from '../helpers/data-dir.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { killAllWorkers, spawnWorker } from '../faults/helpers/processes.js';

/**
 * Operator settings have one source of truth: a tour-import worker builds its adapters from the operators
 * file it loaded, and its activities read the settings (window, breaker, delta…) from PostgreSQL, so on
 * start it registers that file there, replacing whatever an earlier file left.
 */
describe('operator settings', () => {
  let db: TestDb;
  let tmp: string;
  beforeAll(async () => {
    db = await createTestDb('opsettings');
    tmp = mkdtempSync(path.join(os.tmpdir(), 'op-settings-'));
  });
  afterAll(async () => {
    await killAllWorkers();
    await db?.drop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('a tour-import worker registers the operators file it loaded over a stale database copy', async () => {
    await upsertOperator(db.pool, {
      id: 'alpine',
      name: 'Alpine (old name)',
      dialect: 'A',
      baseUrl: 'http://old.example',
      settings: { window: 2, delta: false, circuitBreaker: { consecutiveFailures: 1 } },
    });
    const yaml = `operators:
  - id: alpine
    name: Alpine Trails
    dialect: A
    baseUrl: http://127.0.0.1:9
    apiKeyEnv: OP_ALPINE_API_KEY
    window: 37
    circuitBreaker: { consecutiveFailures: 9 }
`;
    const operatorsFile = path.join(tmp, 'operators.yaml');
    writeFileSync(operatorsFile, yaml);
    const worker = await spawnWorker(
      'tour-import',
      {
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: db.schema,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        OPERATORS_FILE: operatorsFile,
        OP_ALPINE_API_KEY: 'key',
        BLOB_DIR: path.join(tmp, 'blobs'),
        TOUR_IMPORT_DATA_DIR: tmp,
        LOG_LEVEL: 'info',
      },
      testLogFile('tour-import.log'),
    );
    try {
      const expected = syncedOperator(parseOperatorsYaml(yaml, operatorsFile)[0]);
      const row = await getOperator(db.pool, 'alpine');
      expect(row).toMatchObject({ name: 'Alpine Trails', baseUrl: expected.base_url });
      expect(row?.settings).toEqual(expected.settings);
    } finally {
      worker.child.kill('SIGTERM');
      expect((await worker.exited).code, `worker log: ${worker.logFile}`).toBe(0);
    }
  });
});
