import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { reserveRequestSlot, upsertOperator } from '../../src/db/operators.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

/**
 * The operator rate limit holds across processes: two independent pools (as two worker hosts would
 * have) reserve request slots from the same operator row, and together they get one slot per interval.
 */
describe('shared operator rate limit', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb('ratelimit');
    await upsertOperator(db.pool, { id: 'op', name: 'op', dialect: 'A', baseUrl: 'http://x', settings: {} });
  });
  afterAll(async () => db?.drop());

  it('spaces the requests of two hosts at the operator rate as a whole', async () => {
    const other = createPool(db.url, db.schema);
    try {
      const perSecond = 5;
      const waits = await Promise.all(
        Array.from({ length: 20 }, (_, i) => reserveRequestSlot(i % 2 ? other : db.pool, 'op', perSecond)),
      );
      const sorted = [...waits].sort((a, b) => a - b);
      // 20 requests at 5/s: the slots reach ~3.8 s out, each 200 ms after the one before.
      expect(sorted[19]).toBeGreaterThan(3_500);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i] - sorted[i - 1]).toBeGreaterThan(150);
    } finally {
      await other.end();
    }
  });
});
