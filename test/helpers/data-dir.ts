import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where every test file's data folder is made: one folder per file and run. */
export const TEST_DATA_ROOT = path.join(os.tmpdir(), 'tour-import-tests');

// On globalThis rather than in a module variable, so the setup file and the test file see one folder
// even if they were given different instances of this module.
const KEY = Symbol.for('tour-import.testDataDir');
const slot = globalThis as { [KEY]?: string };

/**
 * The running test file's data folder, e.g. /tmp/tour-import-tests/integration-import-Xy12ab, made by
 * the setup (test/helpers/test-logs.ts): its log lines go to test.log there, and tests put the logs of
 * the processes they start there (testLogFile), so a failure's message can show them and point to one
 * folder.
 */
export function testDataDir(): string {
  const dir = slot[KEY];
  if (!dir) throw new Error('No test data folder: test/helpers/test-logs.ts is not among the setupFiles');
  return dir;
}

/** Makes the data folder of the test file at `testPath` (the setup does, before the file runs). */
export function makeTestDataDir(testPath: string): string {
  const slug = path
    .relative(path.resolve('test'), testPath)
    .replace(/\.(test|record)\.ts$/, '')
    .replace(/[^a-z0-9]+/gi, '-');
  mkdirSync(TEST_DATA_ROOT, { recursive: true });
  return (slot[KEY] = mkdtempSync(path.join(TEST_DATA_ROOT, `${slug}-`)));
}

/** A log file in the test file's data folder, for a process a test starts (shown when a test fails). */
export function testLogFile(name: string): string {
  return path.join(testDataDir(), name);
}
