import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_EXIT_CODE, loadConfig } from '../../src/config.js';

/**
 * NODE_ENV=production: every process needs TEMPORAL_ADDRESS and DATABASE_URL and says so in one line,
 * before it discovers or starts anything (no dev server, no private PostgreSQL cluster). The API also
 * needs credentials for its catalog and metrics.
 */
const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tour-import-production-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const ENTRIES = {
  'tour-import worker': ['src/workers/tour-import.ts'],
  'image worker': ['src/workers/image-processing.ts'],
  API: ['src/api/main.ts'],
  CLI: ['src/cli/main.ts', 'status'],
  migrate: ['src/db/migrate-main.ts'],
};

async function start(argv: string[], settings: Record<string, string>) {
  // A clean environment: nothing from this test run's own settings leaks in.
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '',
    NODE_ENV: 'production',
    TOUR_IMPORT_DATA_DIR: dataDir,
    ...settings,
  };
  try {
    await run(process.execPath, ['--import', 'tsx', ...argv], { cwd: root, env, timeout: 50_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code, stderr: e.stderr ?? '' };
  }
}

const line = (names: string) =>
  `tour-import: ${names} must be set when NODE_ENV=production (nothing is discovered or started there)\n`;

// Each start compiles the entry with tsx (seconds on a loaded machine).
describe('production mode', { timeout: 60_000 }, () => {
  it.each(Object.entries(ENTRIES))(
    'the %s refuses to start half-configured, in one line',
    async (_, argv) => {
      expect(await start(argv, {})).toEqual({
        code: CONFIG_EXIT_CODE,
        stderr: line('TEMPORAL_ADDRESS and DATABASE_URL'),
      });
      // Nothing was created: no private PostgreSQL cluster, no dev server's SQLite file or log.
      expect(readdirSync(dataDir)).toEqual([]);
    },
  );

  it('names the one variable missing; an empty one counts as missing', async () => {
    const api = ENTRIES.API;
    const [noDatabase, noTemporal] = await Promise.all([
      start(api, { TEMPORAL_ADDRESS: '127.0.0.1:1' }),
      start(api, { DATABASE_URL: 'postgres://tour_import@127.0.0.1:1/tour_import', TEMPORAL_ADDRESS: '' }),
    ]);
    expect(noDatabase).toEqual({ code: CONFIG_EXIT_CODE, stderr: line('DATABASE_URL') });
    expect(noTemporal).toEqual({ code: CONFIG_EXIT_CODE, stderr: line('TEMPORAL_ADDRESS') });
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('the API refuses to start without credentials for its catalog and metrics, in one line', async () => {
    const servers = {
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      DATABASE_URL: 'postgres://tour_import@127.0.0.1:1/tour_import',
    };
    const [none, empty, userOnly] = await Promise.all([
      start(ENTRIES.API, servers),
      start(ENTRIES.API, { ...servers, API_TOKEN: '', API_BASIC_USER: '', API_BASIC_PASSWORD: '' }),
      start(ENTRIES.API, { ...servers, API_BASIC_USER: 'admin' }),
    ]);
    const refusal =
      'tour-import: API_TOKEN or API_BASIC_USER and API_BASIC_PASSWORD must be set when NODE_ENV=production ' +
      '(the API serves nothing but probes, blobs and webhooks unauthenticated)\n';
    expect(none).toEqual({ code: CONFIG_EXIT_CODE, stderr: refusal });
    expect(empty).toEqual({ code: CONFIG_EXIT_CODE, stderr: refusal });
    expect(userOnly).toEqual({
      code: CONFIG_EXIT_CODE,
      stderr: 'tour-import: API_BASIC_USER and API_BASIC_PASSWORD must be set together (basic auth)\n',
    });
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('accepts a complete production configuration', () => {
    const cfg = loadConfig({
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: 'temporal:7233',
      DATABASE_URL: 'postgres://tour_import:pw@postgresql:5432/tour_import',
    });
    expect(cfg.temporal.address).toBe('temporal:7233');
    expect(cfg.database.url).toBe('postgres://tour_import:pw@postgresql:5432/tour_import');
    // Workers need no API credentials; the API asks for them.
    expect(() => cfg.apiCredentials()).toThrow(/API_TOKEN or API_BASIC_USER/);
    const withToken = loadConfig({
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: 'temporal:7233',
      DATABASE_URL: 'postgres://tour_import:pw@postgresql:5432/tour_import',
      API_TOKEN: 'tok',
    });
    expect(withToken.apiCredentials()).toEqual({ token: 'tok', basic: undefined });
  });
});
