import { defineConfig } from 'vitest/config';

/**
 * Every tier: log lines go to files in the test file's data folder, not the output, and a failure shows
 * those its test wrote (test/helpers/test-logs.ts). Where workers run in the test process, the Temporal
 * SDK logs through the same logger (test/helpers/temporal-runtime-logs.ts; not in the unit tier, where
 * loading the SDK would cost every file most of a second: its two files with workers import it).
 */
const LOGS = 'test/helpers/test-logs.ts';
const RUNTIME_LOGS = 'test/helpers/temporal-runtime-logs.ts';

/**
 * Tiers: `unit` needs nothing running; `system` (workflow, integration, faults) gets a real Temporal
 * dev server and PostgreSQL from the global setup, which also stops them afterwards.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    // A passing test's console output is dropped; a failing test's is printed with its failure.
    silent: 'passed-only',
    // The AWS SDK warns, on every client, that Node 20 nears its end of support: nine lines per file.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // One file at a time: the machine has two cores and the system tier shares one Temporal server.
    fileParallelism: false,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: [LOGS],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'system',
          setupFiles: [LOGS, RUNTIME_LOGS],
          include: [
            'test/workflow/**/*.test.ts',
            'test/integration/**/*.test.ts',
            'test/faults/**/*.test.ts',
          ],
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        // `npm run test:server`: the production shape of Temporal (the real server on PostgreSQL, see
        // tooling/servers/temporal-server.ts). Its own tests, plus the system tier's imports, pause/resume,
        // cancel, schedules and CLI run again on it.
        extends: true,
        test: {
          name: 'server',
          setupFiles: [LOGS, RUNTIME_LOGS],
          include: [
            'test/server/**/*.test.ts',
            'test/integration/import.test.ts',
            'test/integration/control.test.ts',
            'test/integration/schedules.test.ts',
            'test/integration/cli.test.ts',
            'test/faults/processes.test.ts',
          ],
          globalSetup: ['test/helpers/server-global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
      {
        // `npm run test:hosts` (needs root): hosts that share only a network, made with `ip netns`.
        extends: true,
        test: {
          name: 'hosts',
          setupFiles: [LOGS, RUNTIME_LOGS],
          include: ['test/hosts/**/*.test.ts'],
          testTimeout: 420_000,
          hookTimeout: 600_000,
        },
      },
      {
        // Not a test: `npm run histories:record` writes the release's workflow histories (a baseline).
        extends: true,
        test: {
          name: 'record',
          setupFiles: [LOGS, RUNTIME_LOGS],
          include: ['test/record/**/*.record.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
