import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, expect, inject, type RunnerTestSuite } from 'vitest';
import { logToFile } from '../../src/logging.js';
import { makeTestDataDir } from './data-dir.js';
import { logTail, markLogs, type LogMarks, type LogTail } from './log-tail.js';

/**
 * Setup file of every tier (vitest.config.ts): a passing run prints a summary, not logs. This process's
 * log lines (src/logging.ts, and the Temporal SDK's through test/helpers/temporal-runtime-logs.ts) go
 * to test.log in the test file's data folder (test/helpers/data-dir.ts), where tests also put their
 * processes' logs (testLogFile). When a test fails, the lines those files and the run's Temporal server
 * log got while it ran are added to its failure as one more error, warnings and errors first, with the
 * folder's path. The folder is removed when the whole file passed, unless KEEP_TEST_LOGS is set.
 */
const dir = makeTestDataDir(expect.getState().testPath ?? 'unknown');
logToFile(path.join(dir, 'test.log'));
// The run's Temporal server, where the global setup started one (test/helpers/global-setup.ts).
const shared = inject('serverLogs') ?? [];

let marks: LogMarks = markLogs(dir, shared);
let failed = false;

/**
 * The error a failure gets: its message is the heading, which the live report shows next to the
 * assertion's; the lines go in `codeFrame`, which the failure summary prints under the message as they
 * are (where a thrown error's source would be — this file's would tell nothing).
 */
function logsError({ heading, lines }: LogTail): Error {
  const error = Object.assign(new Error(heading), { codeFrame: lines });
  error.name = 'Logs';
  error.stack = `Logs: ${heading}`;
  return error;
}

/** Throws the log lines written since the last mark, if there are any. */
function throwNewLines(): void {
  const tail = logTail(dir, marks, shared);
  marks = markLogs(dir, shared);
  if (tail) throw logsError(tail);
}

beforeEach(() => {
  marks = markLogs(dir, shared);
});

afterEach(({ task }) => {
  if (task.result?.state !== 'fail') return;
  failed = true;
  throwNewLines();
});

/** A beforeAll or afterAll that failed (the file's or a describe's): its tests never ran or ran on. */
function suiteFailed(suite: RunnerTestSuite): boolean {
  if (suite.result?.errors?.length) return true;
  return suite.tasks.some((t) => t.type === 'suite' && suiteFailed(t));
}

afterAll((suite) => {
  if (suiteFailed(suite)) {
    failed = true;
    throwNewLines();
  }
  // Runs after the file's own afterAll hooks (hooks run in stack order): its workers are stopped.
  if (!failed && !process.env['KEEP_TEST_LOGS']) rmSync(dir, { recursive: true, force: true });
});
