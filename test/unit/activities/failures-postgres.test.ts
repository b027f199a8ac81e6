import { ApplicationFailure } from '@temporalio/activity';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPostgresDataError, toActivityFailure } from '../../../src/activities/failures.js';
import { DATA_REJECTED } from '../../../src/domain/errors.js';
import { ensurePostgres } from '../../../src/infra/postgres.js';

/**
 * REAL POSTGRESQL (in the unit tier because it takes a second): the errors a real server sends for
 * the writes that used to retry forever, classified as the activities classify them. The server is
 * DATABASE_URL, else 127.0.0.1:5432, else a private cluster the project starts (see docs/configuration.md). Only
 * temporary tables are made, in this session.
 */

let url: string;
let client: pg.Client;

beforeAll(async () => {
  url = await ensurePostgres(() => undefined);
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`
    CREATE TEMP TABLE parents (id text PRIMARY KEY);
    CREATE TEMP TABLE rows (
      id       text PRIMARY KEY,
      parent   text REFERENCES parents (id),
      status   text NOT NULL CHECK (status IN ('active', 'removed')),
      amount   numeric(12, 2),
      currency char(3),
      minutes  integer,
      data     jsonb,
      at       timestamptz
    )`);
}, 120_000);

afterAll(async () => {
  await client?.end();
});

/** The error the server answers, or a failed test when it accepts the statement. */
async function refusal(sql: string, params: unknown[] = []): Promise<Error> {
  const err = await client.query(sql, params).then(
    () => undefined,
    (e: Error) => e,
  );
  if (!err) throw new Error(`PostgreSQL accepted: ${sql}`);
  return err;
}

function expectRejected(err: Error, code: string): ApplicationFailure {
  expect((err as pg.DatabaseError).code).toBe(code);
  const failure = toActivityFailure(err);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: DATA_REJECTED, nonRetryable: true });
  expect((failure as ApplicationFailure).message).toContain(`SQLSTATE ${code}`);
  return failure as ApplicationFailure;
}

const insert = (columns: string, values: unknown[]) =>
  refusal(
    `INSERT INTO rows (id, status, ${columns}) VALUES ('r', 'active', ${values.map((_, i) => `$${i + 1}`).join(', ')})`,
    values,
  );

describe('real PostgreSQL data errors are DataRejected (non-retryable)', () => {
  it('22003: a price of 1e12 in numeric(12,2), a duration beyond int4', async () => {
    const price = expectRejected(await insert('amount', [1e12]), '22003');
    expect(price.message).toContain('numeric field overflow');
    expectRejected(await insert('minutes', [2 ** 31]), '22003');
  });

  it('22P05 / 22021: NUL in jsonb and in text; 22P02: a lone surrogate in jsonb', async () => {
    expectRejected(await insert('data', [JSON.stringify({ description: 'a\u0000b' })]), '22P05');
    expectRejected(await refusal('SELECT $1::text', ['a\u0000b']), '22021');
    expectRejected(await insert('data', [JSON.stringify({ description: 'a\uD800b' })]), '22P02');
  });

  it('22001: four letters in char(3); 22008: year 0', async () => {
    expectRejected(await insert('currency', ['EURO']), '22001');
    expectRejected(await insert('at', ['0000-01-01T00:00:00Z']), '22008');
  });

  it('23502, 23514, 23503: not null, check and foreign key violations, naming the constraint', async () => {
    expectRejected(await refusal(`INSERT INTO rows (id, status) VALUES ('r', NULL)`), '23502');
    const check = expectRejected(
      await refusal(`INSERT INTO rows (id, status) VALUES ('r', 'gone')`),
      '23514',
    );
    expect(check.message).toContain('constraint "rows_status_check"');
    const fk = expectRejected(
      await refusal(`INSERT INTO rows (id, status, parent) VALUES ('r', 'active', 'nobody')`),
      '23503',
    );
    expect(fk.message).toContain('constraint "rows_parent_fkey"');
  });
});

describe('real PostgreSQL races stay retryable; outages are DatabaseUnavailable, retryable', () => {
  it('23505: a duplicate key passes through unchanged', async () => {
    await client.query(`INSERT INTO parents (id) VALUES ('p')`);
    const err = await refusal(`INSERT INTO parents (id) VALUES ('p')`);
    expect((err as pg.DatabaseError).code).toBe('23505');
    expect(isPostgresDataError(err)).toBe(false);
    expect(toActivityFailure(err)).toBe(err);
  });

  it('57P01: a connection the administrator terminates is DatabaseUnavailable', async () => {
    const victim = new pg.Client({ connectionString: url });
    victim.on('error', () => undefined); // the terminated connection also emits 'error'
    await victim.connect();
    const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    const sleeping = victim.query('SELECT pg_sleep(10)').then(
      () => undefined,
      (e: Error) => e,
    );
    await client.query('SELECT pg_terminate_backend($1)', [pid]);
    const err = await sleeping;
    await victim.end().catch(() => undefined);
    expect((err as pg.DatabaseError | undefined)?.code).toBe('57P01');
    expect(toActivityFailure(err)).toMatchObject({ type: 'DatabaseUnavailable', nonRetryable: false });
  });

  it('ECONNREFUSED: an unreachable server is DatabaseUnavailable', async () => {
    const nowhere = new pg.Client({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 2_000 });
    const err = await nowhere.connect().then(
      () => undefined,
      (e: Error) => e,
    );
    expect((err as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNREFUSED');
    expect(toActivityFailure(err)).toMatchObject({ type: 'DatabaseUnavailable', nonRetryable: false });
  });
});
