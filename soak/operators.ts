import { randomBytes } from 'node:crypto';
import type { OperatorInfo } from '../tooling/simulator/operator.js';
import type { OperatorSpecInput } from '../tooling/simulator/types.js';

/**
 * The soak's operators, one per dialect: the simulator's specs, and the operators file the product's
 * processes load for them (short schedules, a breaker that heals within the soak, webhooks on).
 */

export type Dialect = 'A' | 'B' | 'C' | 'D';

export interface SoakOperator {
  id: string;
  dialect: Dialect;
  /** Whether the operator serves a per-product endpoint (C and D always do; B's spec has none). */
  detailEndpoint: boolean;
}

export const SOAK_OPERATORS: SoakOperator[] = [
  { id: 'soak-a', dialect: 'A', detailEndpoint: true },
  { id: 'soak-b', dialect: 'B', detailEndpoint: false },
  { id: 'soak-c', dialect: 'C', detailEndpoint: true },
  { id: 'soak-d', dialect: 'D', detailEndpoint: true },
];

const TOURS_PER_OPERATOR = 30;

/** Small catalogs of small images: a 2-core machine resizes them while everything else runs. */
export function simulatorSpecs(seed: number): OperatorSpecInput[] {
  return SOAK_OPERATORS.map((o) => ({
    id: o.id,
    dialect: o.dialect,
    seed: `${seed}-${o.id}`,
    tourCount: TOURS_PER_OPERATOR,
    imagesPerTour: { min: 1, max: 3 },
    imageWidth: 400,
    imageHeight: 267,
    latency: { apiMs: 15, imageMs: 20, jitterMs: 10 },
    detailEndpoint: o.detailEndpoint,
  }));
}

const envPrefix = (id: string) => `OP_${id.replace(/-/g, '_').toUpperCase()}`;

/** The environment variables holding each operator's API key and webhook secret (Standard Webhooks, 32 bytes). */
export function operatorSecrets(infos: OperatorInfo[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const o of infos) {
    env[`${envPrefix(o.id)}_API_KEY`] = o.credentials.apiKey;
    env[`${envPrefix(o.id)}_WEBHOOK_SECRET`] = `whsec_${randomBytes(32).toString('base64')}`;
  }
  return env;
}

export const webhookSecretEnv = (id: string) => `${envPrefix(id)}_WEBHOOK_SECRET`;

/**
 * Deltas every 20 s and a full import every minute (C and D have no delta: every run lists them whole), a breaker
 * whose cooldown ends within the soak, and the removal guard as configured by default.
 */
export function operatorsYaml(infos: OperatorInfo[]): string {
  const entries = infos.map((o) => {
    const lines = [
      `  - id: ${o.id}`,
      `    name: Soak ${o.dialect}`,
      `    dialect: ${o.dialect}`,
      `    baseUrl: ${o.baseUrl}`,
      `    apiKeyEnv: ${envPrefix(o.id)}_API_KEY`,
      `    webhookSecretEnv: ${webhookSecretEnv(o.id)}`,
      ...dialectLines(o),
      o.dialect === 'C' || o.dialect === 'D'
        ? '    schedule: { every: 30s }'
        : '    schedule: { every: 20s, fullEvery: 3 }',
      '    window: 4',
      '    rateLimit: { requestsPerSecond: 50 }',
      '    circuitBreaker: { cooldown: 20s, maxCooldown: 1m, probeTours: 2 }',
    ];
    return lines.join('\n');
  });
  return `operators:\n${entries.join('\n\n')}\n`;
}

function dialectLines(o: OperatorInfo): string[] {
  switch (o.dialect) {
    case 'C':
      return [
        `    channelId: ${o.credentials.channelId}`,
        `    marketplaceId: ${o.credentials.marketplaceId}`,
      ];
    case 'D':
      return ['    acceptLanguage: en'];
    default:
      return [`    detailEndpoint: ${o.detailEndpoint}`];
  }
}
