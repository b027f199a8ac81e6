import { defineConfig } from 'vitest/config';

/**
 * Tiers: `unit` needs nothing running; `system` (workflow, integration, faults) gets a real Temporal
 * dev server and PostgreSQL from the global setup, which also stops them afterwards.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    // One file at a time: the machine has two cores and the system tier shares one Temporal server.
    fileParallelism: false,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'system',
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
        // src/infra/temporal-server.ts). Its own tests, plus the system tier's imports, pause/resume,
        // cancel, schedules and CLI run again on it.
        extends: true,
        test: {
          name: 'server',
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
          include: ['test/record/**/*.record.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
