import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { DEFAULT_HOUSEKEEPING } from '../../../src/domain/housekeeping.js';

const HOUR = 3_600_000;

describe('housekeeping configuration', () => {
  it('defaults to the documented policy: hourly, 30 days of runs and failures, a day for the rest', () => {
    expect(loadConfig({}).housekeeping).toEqual(DEFAULT_HOUSEKEEPING);
    expect(DEFAULT_HOUSEKEEPING).toMatchObject({
      everyMs: HOUR,
      retention: { importRunsMs: 30 * 24 * HOUR, webhookDeliveriesMs: 24 * HOUR },
      blobGc: { enabled: true, graceMs: 24 * HOUR },
    });
  });

  it('reads each setting in its unit', () => {
    const hk = loadConfig({
      HOUSEKEEPING_EVERY_MINUTES: '0',
      HOUSEKEEPING_BATCH_SIZE: '50',
      RETENTION_IMPORT_RUNS_DAYS: '7',
      RETENTION_TOUR_FAILURES_DAYS: '14',
      RETENTION_WEBHOOK_DELIVERIES_HOURS: '2',
      RETENTION_STAGED_TOURS_HOURS: '12',
      BLOB_GC: 'off',
      BLOB_GC_GRACE_HOURS: '48',
      TEMP_FILE_MAX_AGE_MINUTES: '30',
    }).housekeeping;
    expect(hk).toEqual({
      everyMs: 0,
      batchSize: 50,
      retention: {
        importRunsMs: 7 * 24 * HOUR,
        tourFailuresMs: 14 * 24 * HOUR,
        webhookDeliveriesMs: 2 * HOUR,
        stagedToursMs: 12 * HOUR,
      },
      blobGc: { enabled: false, graceMs: 48 * HOUR },
      tempFileMaxAgeMs: 30 * 60_000,
    });
  });

  it('takes a GC grace under an hour outside production only', () => {
    expect(loadConfig({ BLOB_GC_GRACE_HOURS: '0.001' }).housekeeping.blobGc.graceMs).toBe(3_600);
    const production = {
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: 't:7233',
      DATABASE_URL: 'postgres://db/x',
    };
    expect(() => loadConfig({ ...production, BLOB_GC_GRACE_HOURS: '0.5' })).toThrow(/BLOB_GC_GRACE_HOURS/);
  });

  it.each([
    ['RETENTION_WEBHOOK_DELIVERIES_HOURS', '0.05'], // within the signature tolerance a replay must be refused by id
    ['BLOB_GC_GRACE_HOURS', '0'],
    ['TEMP_FILE_MAX_AGE_MINUTES', '1'], // a download in progress would lose its file
    ['HOUSEKEEPING_BATCH_SIZE', '0'],
    ['BLOB_GC', 'maybe'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
  });
});
