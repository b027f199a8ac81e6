import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_EXIT_CODE } from '../../../src/config.js';
import { freePort } from '../../../tooling/servers/dev-server.js';

/**
 * `npm run api` as its own process refuses to start, in one line naming the variable, when a secret that
 * checks operators' webhooks or signs notifications is too short for Standard Webhooks (24 bytes): with
 * one, anyone could sign. It refuses before it looks for PostgreSQL or Temporal.
 */
const root = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'api-startup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const OPERATORS_FILE = path.join(tmp, 'operators.yaml');
writeFileSync(
  OPERATORS_FILE,
  `notifications:
  sinks:
    - type: webhook
      name: pager
      url: https://alerts.example.com/hooks/tour-import
      secretEnv: NOTIFY_PAGER_SECRET
operators:
  - id: pushy
    name: Pushy
    dialect: A
    baseUrl: https://pushy.example.com/
    apiKeyEnv: OP_PUSHY_API_KEY
    webhookSecretEnv: OP_PUSHY_WEBHOOK_SECRET
`,
);
const key = (bytes: number) => `whsec_${Buffer.alloc(bytes, 42).toString('base64')}`;
const GOOD = { OP_PUSHY_WEBHOOK_SECRET: key(24), NOTIFY_PAGER_SECRET: 'plain-secret-of-24-bytes' };

async function startApi(settings: Record<string, string>) {
  const dataDir = mkdtempSync(path.join(tmp, 'data-'));
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '',
    TOUR_IMPORT_DATA_DIR: dataDir,
    // Closed ports: nothing may be reached before the secrets are checked.
    DATABASE_URL: `postgres://tour_import@127.0.0.1:${await freePort()}/tour_import`,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    OPERATORS_FILE,
    LOG_LEVEL: 'silent',
    ...GOOD,
    ...settings,
  };
  try {
    await run(process.execPath, ['--import', 'tsx', 'src/api/main.ts'], { cwd: root, env, timeout: 50_000 });
    return { code: 0, stderr: '', created: readdirSync(dataDir) };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code, stderr: e.stderr ?? '', created: readdirSync(dataDir) };
  }
}

const tooShort = (name: string, bytes: number) =>
  `${name} is too short: its key is ${bytes} bytes, at least 24 are needed (Standard Webhooks asks for ` +
  '24 to 64 random bytes; for example whsec_ and the output of openssl rand -base64 32)';

// Each start compiles the entry with tsx (seconds on a loaded machine).
describe('the API refuses weak webhook secrets at start-up', { timeout: 60_000 }, () => {
  it("names an operator's webhook secret that is too short", async () => {
    const [whsec, plain, bare] = await Promise.all([
      startApi({ OP_PUSHY_WEBHOOK_SECRET: key(23) }),
      startApi({ OP_PUSHY_WEBHOOK_SECRET: 'local-secret' }),
      startApi({ OP_PUSHY_WEBHOOK_SECRET: 'whsec_' }),
    ]);
    const line = (bytes: number) =>
      `tour-import: ${OPERATORS_FILE}: operator "pushy": ${tooShort('OP_PUSHY_WEBHOOK_SECRET', bytes)}\n`;
    expect(whsec).toEqual({ code: CONFIG_EXIT_CODE, stderr: line(23), created: [] });
    expect(plain).toEqual({ code: CONFIG_EXIT_CODE, stderr: line(12), created: [] });
    expect(bare).toEqual({ code: CONFIG_EXIT_CODE, stderr: line(0), created: [] });
  });

  it('names a notification sink secret that is too short, from the operators file or the environment', async () => {
    const [fromFile, fromEnv] = await Promise.all([
      startApi({ NOTIFY_PAGER_SECRET: 'short' }),
      startApi({ NOTIFY_WEBHOOK_URL: 'https://ops.example.com/n', NOTIFY_WEBHOOK_SECRET: key(16) }),
    ]);
    expect(fromFile).toEqual({
      code: CONFIG_EXIT_CODE,
      stderr: `tour-import: ${OPERATORS_FILE}: notification sink "pager": ${tooShort('NOTIFY_PAGER_SECRET', 5)}\n`,
      created: [],
    });
    expect(fromEnv).toEqual({
      code: CONFIG_EXIT_CODE,
      stderr: `tour-import: notification sink "env-webhook": ${tooShort('NOTIFY_WEBHOOK_SECRET', 16)}\n`,
      created: [],
    });
  });

  it('goes on with secrets of 24 bytes, to PostgreSQL (closed here)', async () => {
    const started = await startApi({});
    expect(started.code).not.toBe(CONFIG_EXIT_CODE);
    expect(started.stderr).toContain('(DATABASE_URL) is not reachable');
    expect(started.stderr).not.toContain('too short');
  });
});
