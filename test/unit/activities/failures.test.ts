import { ApplicationFailure } from '@temporalio/activity';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  isPostgresDataError,
  toActivityFailure,
  withFailureMappingAll,
} from '../../../src/activities/failures.js';
import { DATA_REJECTED } from '../../../src/domain/errors.js';

/** node-postgres's own error class, filled as its protocol parser fills it from a server's ErrorResponse. */
function databaseError(
  code: string,
  message: string,
  fields: Partial<pg.DatabaseError> = {},
): pg.DatabaseError {
  const err = new pg.DatabaseError(message, 100, 'error');
  return Object.assign(err, { severity: 'ERROR', code, ...fields });
}

function asFailure(err: unknown): ApplicationFailure {
  const failure = toActivityFailure(err);
  if (!(failure instanceof ApplicationFailure))
    throw new Error(`expected an ApplicationFailure, got ${String(failure)}`);
  return failure;
}

describe('PostgreSQL errors as activity failures', () => {
  it('data exceptions (class 22) end the activity as DataRejected, naming SQLSTATE and message', () => {
    for (const code of ['22003', '22P05', '22021', '22001', '22008', '22P02']) {
      const failure = asFailure(databaseError(code, 'numeric field overflow'));
      expect(failure.type).toBe(DATA_REJECTED);
      expect(failure.type).toBe('DataRejected');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain(`SQLSTATE ${code}`);
      expect(failure.message).toContain('numeric field overflow');
    }
  });

  it('integrity violations that are no race (23502, 23503, 23514) are DataRejected, naming where', () => {
    const failure = asFailure(
      databaseError('23514', 'new row for relation "tours" violates check constraint "tours_status_check"', {
        table: 'tours',
        constraint: 'tours_status_check',
        detail: `Failing row contains (${'x'.repeat(10_000)})`,
      }),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('SQLSTATE 23514, table "tours", constraint "tours_status_check"');
    expect(failure.message.length).toBeLessThan(600);
    const notNull = asFailure(databaseError('23502', 'null value', { table: 'tours', column: 'fetched_at' }));
    expect(notNull.message).toContain('column "fetched_at"');
    expect(isPostgresDataError(databaseError('23503', 'violates foreign key constraint'))).toBe(true);
  });

  it('races stay retryable: the error passes through unchanged', () => {
    const races = [
      databaseError('23505', 'duplicate key value violates unique constraint'),
      databaseError('23P01', 'conflicting key value violates exclusion constraint'),
      databaseError('40001', 'could not serialize access due to concurrent update'),
      databaseError('40P01', 'deadlock detected'),
    ];
    for (const err of races) {
      expect(isPostgresDataError(err)).toBe(false);
      expect(toActivityFailure(err)).toBe(err);
    }
  });

  it('an unreachable PostgreSQL is a retryable DatabaseUnavailable, which the workflows wait out', () => {
    const outages = [
      databaseError('57P01', 'terminating connection due to administrator command'),
      databaseError('57P03', 'the database system is starting up'),
      databaseError('08006', 'connection failure'),
      databaseError('53300', 'sorry, too many clients already'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      // A Node system error whose code happens to have five letters is not a PostgreSQL data error.
      Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ];
    for (const err of outages) {
      expect(isPostgresDataError(err)).toBe(false);
      const failure = asFailure(err);
      expect(failure).toMatchObject({ type: 'DatabaseUnavailable', nonRetryable: false });
      expect(failure.message).toBe(`PostgreSQL is unreachable: ${err.message}`);
    }
  });

  it("an S3 server that cannot be reached is BlobStoreUnavailable; the store's other answers pass through", () => {
    const aws = (status: number | undefined, code?: string) =>
      Object.assign(new Error('S3 said no'), { $metadata: { httpStatusCode: status }, code });
    expect(asFailure(aws(undefined, 'ECONNREFUSED')).type).toBe('BlobStoreUnavailable');
    expect(asFailure(aws(503)).type).toBe('BlobStoreUnavailable');
    const notFound = aws(404);
    expect(toActivityFailure(notFound)).toBe(notFound);
  });

  it("a typed error keeps its own type, whatever its network code: a cut-off download is the image's failure", () => {
    const cut = Object.assign(new Error('Download failed: ECONNRESET'), {
      type: 'DownloadFailed',
      retryable: true,
      code: 'ECONNRESET',
    });
    expect(asFailure(cut)).toMatchObject({ type: 'DownloadFailed', nonRetryable: false });
  });
});

describe('bookkeeping activities', () => {
  it('end on a PostgreSQL data error as DataRejected instead of retrying without end', async () => {
    const activities = withFailureMappingAll({
      async finishImport(_a: { operatorId: string }) {
        throw databaseError('22001', 'value too long for type character varying(200)');
      },
      async beginImport(a: { operatorId: string }) {
        return { started: a.operatorId };
      },
    });
    expect(await activities.beginImport({ operatorId: 'op' })).toEqual({ started: 'op' });
    const failure = await activities.finishImport({ operatorId: 'op' }).catch((err) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: DATA_REJECTED, nonRetryable: true });
  });
});
