import type { ResolvedSettings } from '../../src/workflows/types.js';

/** Settings as `beginImport` resolves them, small and fail-fast for tests; override what a test is about. */
export function testSettings(overrides: Partial<ResolvedSettings> = {}): ResolvedSettings {
  return {
    window: 3,
    pageSize: 10,
    toursPerRun: 1_000,
    imageTaskQueue: 'unused',
    force: false,
    breaker: { consecutiveFailures: 3, failureRatio: 0.9, overLast: 20 },
    retry: { initialIntervalMs: 50, maximumAttempts: 1 },
    fullListing: true,
    ...overrides,
  };
}
