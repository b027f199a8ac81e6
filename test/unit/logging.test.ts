import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { logger } from '../../src/logging.js';
import { testDataDir } from '../helpers/data-dir.js';
import { logTail, markLogs } from '../helpers/log-tail.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'logging-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `body` (ESM, with `logger`, `temporalLogger` and `logToFile` imported) in a process of its own. */
async function inProcess(body: string) {
  const script = path.join(tmp, `script-${Math.random().toString(36).slice(2)}.ts`);
  const logging = path.join(ROOT, 'src/logging.ts');
  writeFileSync(
    script,
    `import { logger, temporalLogger, logToFile } from ${JSON.stringify(logging)};\n${body}\n`,
  );
  const env = { ...process.env, LOG_LEVEL: 'info' };
  return run(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env });
}

describe('src/logging.ts', () => {
  test('writes JSON lines to stdout by default (production)', async () => {
    const { stdout } = await inProcess(`logger.info({ operatorId: 'op-1' }, 'to stdout');`);
    expect(JSON.parse(stdout.trim())).toMatchObject({ level: 'info', msg: 'to stdout', operatorId: 'op-1' });
  });

  test('after logToFile, its lines and the Temporal logger’s go to the file and not to stdout', async () => {
    const file = path.join(tmp, 'nested', 'worker.log');
    const { stdout, stderr } = await inProcess(
      `logToFile(${JSON.stringify(file)});
       logger.info('ours');
       temporalLogger().warn('the SDK’s', { workflowId: 'import:op-2' });`,
    );
    expect(stdout + stderr).toBe('');
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toMatchObject([
      { level: 'info', msg: 'ours' },
      { level: 'warn', msg: 'the SDK’s', operatorId: 'op-2' },
    ]);
  });
});

describe('the test setup (test/helpers/test-logs.ts)', () => {
  test("sends this test process's log lines to test.log in the file's data folder", () => {
    const marker = `marker-${Date.now()}`;
    logger.info({ marker }, 'from a test');
    expect(readFileSync(path.join(testDataDir(), 'test.log'), 'utf8')).toContain(marker);
  });

  test('a failure shows the lines its test logged, warnings first, and where the full logs are', () => {
    const dir = mkdtempSync(path.join(tmp, 'data-'));
    const line = (level: string, msg: string) =>
      JSON.stringify({ level, time: '2026-11-30T12:00:00.000Z', service: 'tour-import', msg }) + '\n';
    writeFileSync(path.join(dir, 'test.log'), line('error', 'an earlier test'));
    const marks = markLogs(dir);
    const lines = [line('warn', 'breaker opened')];
    for (let i = 0; i < 100; i++) lines.push(line('info', `step ${i}`));
    writeFileSync(path.join(dir, 'test.log'), lines.join(''), { flag: 'a' });
    writeFileSync(path.join(dir, 'api.log'), 'plain line of a process\n');

    const { heading, lines: tail } = logTail(dir, marks)!;
    expect(heading).toBe(`lines logged while it ran (api.log: 1, test.log: 101); full logs in ${dir}`);
    expect(tail).toContain('12:00:00.000 WARN  breaker opened');
    expect(tail).toContain('step 99');
    expect(tail).not.toContain('step 0\n');
    expect(tail).not.toContain('an earlier test');
    expect(tail).toContain('== api.log: 1 line\n-- last 1 line:\n  plain line of a process');
    expect(logTail(dir, markLogs(dir))).toBeUndefined();
  });

  test('a run prints nothing of a passing test and the log lines of a failing one', async () => {
    const config = path.join(ROOT, 'test/fixtures/logging/vitest.fixture.config.ts');
    // The inner run must not take this run's worker's environment for its own.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
    const vitest = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
    const out = await run(process.execPath, [vitest, 'run', '--config', config], { cwd: ROOT, env }).then(
      () => expect.fail('the fixture has a failing test'),
      (err: { stdout: string; stderr: string }) => err.stdout + err.stderr,
    );
    expect(out).toContain('expected 2 to be 3');
    expect(out).toMatch(/WARN +warning of the failing test operatorId=op-1/);
    expect(out).toContain('last line of the failing test');
    expect(out).not.toContain('line of the passing test');
    const kept = /full logs in ([\w./-]*tour-import-tests[\w./-]*)/.exec(out)?.[1];
    expect(kept, 'the failing file keeps its data folder').toBeDefined();
    rmSync(kept!, { recursive: true, force: true });
  }, 60_000);
});
