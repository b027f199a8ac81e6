import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createAdapter,
  loadOperatorsFile,
  syncedOperator,
  operatorWebhookSecret,
  parseOperatorsYaml,
} from '../../../src/operators/registry.js';
import { OperatorConfigError } from '../../../src/operators/errors.js';

const demoFile = fileURLToPath(new URL('../../../config/operators.yaml', import.meta.url));

const minimal = (extra: string, dialect = 'A') =>
  `operators:\n  - id: demo-op\n    name: Demo\n    dialect: ${dialect}\n    baseUrl: http://127.0.0.1:4010/ops/demo-op/\n    apiKeyEnv: OP_DEMO_API_KEY\n${extra}`;

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OperatorConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('operators file', () => {
  it('loads the four demo operators with dialect defaults', async () => {
    const ops = await loadOperatorsFile(demoFile);
    expect(ops.map((o) => [o.id, o.dialect, o.delta])).toEqual([
      ['alpine-trails', 'A', true],
      ['coastal-walks', 'B', true],
      ['city-tours', 'C', false],
      ['lake-cruises', 'D', false],
    ]);
    expect(ops[3]).toMatchObject({ acceptLanguage: 'en', maxListingBytes: 256 * 1024 * 1024 });
    const city = ops[2];
    expect(city).toMatchObject({
      baseUrl: 'http://127.0.0.1:4010/ops/city-tours',
      channelId: 3930,
      marketplaceId: 0,
      apiKeyEnv: 'OP_CITY_TOURS_API_KEY',
    });
    expect(city.schedule).toMatchObject({ cron: '0 */6 * * *', jitterMs: 600_000 });
    expect(ops[0].schedule).toMatchObject({ everyMs: 3_600_000, jitterMs: 300_000, fullEvery: 24 });
  });

  it('fills defaults: window 20, 10 requests/s, circuit breaker 5 / 0.5 over 20 (half-open), hourly schedule', () => {
    const [op] = parseOperatorsYaml(minimal(''), 'x.yaml');
    expect(op).toMatchObject({
      baseUrl: 'http://127.0.0.1:4010/ops/demo-op',
      window: 20,
      rateLimit: { requestsPerSecond: 10 },
      circuitBreaker: {
        consecutiveFailures: 5,
        failureRatio: 0.5,
        overLast: 20,
        // Half-open: resumes alone after 15 minutes with a probe of 3 tours; doubling up to 4 hours.
        autoResume: true,
        cooldown: 15 * 60_000,
        maxCooldown: 4 * 3_600_000,
        probeTours: 3,
      },
      alerts: { failingRuns: 3 },
      schedule: { everyMs: 3_600_000, jitterMs: 0 },
      delta: true,
    });
  });

  it('names the file, the field and the operator in validation errors', () => {
    expect(configError(() => parseOperatorsYaml(minimal('', 'E'), 'ops.yaml'))).toMatch(
      /^ops\.yaml: field "operators\[0\]\.dialect" \(operator "demo-op"\)/,
    );
    expect(configError(() => parseOperatorsYaml(minimal('    window: 0\n'), 'ops.yaml'))).toContain(
      'field "operators[0].window"',
    );
    expect(
      configError(() => parseOperatorsYaml(minimal('    schedule: { every: soon }\n'), 'ops.yaml')),
    ).toContain('field "operators[0].schedule.every"');
    expect(
      configError(() =>
        parseOperatorsYaml(minimal('    schedule: { every: 1h, cron: "0 * * * *" }\n'), 'o.yaml'),
      ),
    ).toContain('exactly one of "every" or "cron"');
    expect(
      configError(() =>
        parseOperatorsYaml(
          minimal('    apiKeyEnv: abc123secret\n').replace('    apiKeyEnv: OP_DEMO_API_KEY\n', ''),
          'o.yaml',
        ),
      ),
    ).toContain('NAME of an environment variable');
    expect(
      configError(() => parseOperatorsYaml(minimal('    channelId: 1\n    delta: true\n', 'C'), 'o.yaml')),
    ).toContain('dialect C has no delta');
    expect(configError(() => parseOperatorsYaml(minimal('', 'C'), 'o.yaml'))).toContain(
      'field "operators[0].channelId"',
    );
    expect(configError(() => parseOperatorsYaml(minimal('    apikey: X\n'), 'o.yaml'))).toContain(
      'Unrecognized key: "apikey"',
    );
    const twice = `${minimal('')}\n${minimal('').replace('operators:\n', '')}`;
    expect(configError(() => parseOperatorsYaml(twice, 'o.yaml'))).toContain(
      'duplicate operator id "demo-op"',
    );
    expect(configError(() => parseOperatorsYaml('operators: [', 'o.yaml'))).toContain('o.yaml: invalid YAML');
  });

  it('dialect D (OCTO): no delta, always its detail endpoint, a checked language and listing cap', () => {
    const [op] = parseOperatorsYaml(minimal('', 'D'), 'o.yaml');
    expect(op).toMatchObject({ dialect: 'D', delta: false, maxListingBytes: 256 * 1024 * 1024 });
    expect(op).not.toHaveProperty('acceptLanguage');
    const [de] = parseOperatorsYaml(
      minimal('    acceptLanguage: de-CH, de;q=0.8, en;q=0.5\n', 'D'),
      'o.yaml',
    );
    expect(de).toMatchObject({ acceptLanguage: 'de-CH, de;q=0.8, en;q=0.5' });
    const refused = (extra: string) => configError(() => parseOperatorsYaml(minimal(extra, 'D'), 'o.yaml'));
    expect(refused('    delta: true\n')).toContain(
      'field "operators[0].delta" (operator "demo-op"): dialect D (OCTO) has no delta listing',
    );
    expect(refused('    detailEndpoint: false\n')).toContain('always serves GET /products/{id}');
    expect(refused('    acceptLanguage: "en; DROP"\n')).toContain(
      'field "operators[0].acceptLanguage" (operator "demo-op"): must be an Accept-Language value',
    );
    expect(refused('    maxListingBytes: 1000\n')).toContain(
      'field "operators[0].maxListingBytes" (operator "demo-op"): must be at least 1048576 (1 MiB)',
    );
    expect(refused('    maxListingBytes: 1.5e10\n')).toContain('must be at most 4294967296 (4 GiB)');
    expect(refused('    channelId: 1\n')).toContain('Unrecognized key: "channelId"');
  });

  it('builds adapters from environment variable names and says which one is missing', async () => {
    const ops = await loadOperatorsFile(demoFile);
    const env: Record<string, string> = {
      OP_ALPINE_TRAILS_API_KEY: 'a',
      OP_COASTAL_WALKS_API_KEY: 'b',
      OP_CITY_TOURS_WEBHOOK_SECRET: 'w',
    };
    const secret = (name: string) => env[name];
    const deps = { secret, rateLimiter: { acquire: async () => undefined } };
    expect(createAdapter(ops[0], deps)).toMatchObject({
      dialect: 'A',
      supportsDelta: true,
      reportsRemovals: true,
    });
    expect(createAdapter(ops[1], deps)).toMatchObject({
      dialect: 'B',
      supportsDelta: true,
      reportsRemovals: false,
    });
    expect(configError(() => createAdapter(ops[2], deps))).toBe(
      'operator "city-tours": environment variable OP_CITY_TOURS_API_KEY (API key for dialect C) is not set',
    );
    expect(operatorWebhookSecret(ops[2], secret)).toBe('w');
    expect(createAdapter(ops[3], { ...deps, secret: () => 'k' })).toMatchObject({
      dialect: 'D',
      supportsDelta: false,
      reportsRemovals: false,
      listingCarriesTours: true,
      detailEndpoint: true,
    });
    expect(typeof createAdapter(ops[3], { ...deps, secret: () => 'k' }).streamListing).toBe('function');
  });

  it('gives the operators table a row without secrets or their variable names', async () => {
    const [alpine] = await loadOperatorsFile(demoFile);
    const row = syncedOperator(alpine);
    expect(row).toMatchObject({
      id: 'alpine-trails',
      name: 'Alpine Trails',
      dialect: 'A',
      base_url: 'http://127.0.0.1:4010/ops/alpine-trails',
    });
    expect(row.settings).toMatchObject({ window: 20, delta: true, hasWebhook: true });
    expect(JSON.stringify(row)).not.toMatch(/Env|OP_ALPINE/);
  });
});
