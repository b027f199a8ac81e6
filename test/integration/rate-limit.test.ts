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
      // The schedule's next free slot a minute ahead: every reservation queues behind the one before,
      // whatever the time on the clock when its query runs (no timing in this test).
      const { rows } = await db.pool.query(
        `UPDATE operators SET rate_next_slot = now() + interval '1 minute' WHERE id = 'op' RETURNING rate_next_slot`,
      );
      const start = (rows[0].rate_next_slot as Date).getTime();
      const waits = await Promise.all(
        Array.from({ length: 20 }, (_, i) => reserveRequestSlot(i % 2 ? other : db.pool, 'op', perSecond)),
      );
      const after = await db.pool.query(`SELECT rate_next_slot FROM operators WHERE id = 'op'`);
      // 20 requests at 5/s from two hosts: 20 slots of 200 ms, none given twice.
      expect((after.rows[0].rate_next_slot as Date).getTime() - start).toBe(20 * 200);
      expect(waits.every((w) => w > 50_000)).toBe(true);
    } finally {
      await other.end();
    }
  });
});
