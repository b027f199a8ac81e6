import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdapter, parseOperatorsYaml, type OperatorConfig } from '../../src/operators/registry.js';
import type { Tour } from '../../src/domain/tour.js';
import type { ListEntry, OperatorAdapter } from '../../src/operators/types.js';
import type { OperatorInfo } from '../../tooling/simulator/operator.js';
import type { OutputFormat } from '../../src/images/resize.js';
import { treeCpuMs, treePeakRssMb } from './proc.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const WIDTHS = [1200, 600, 200];
export const FORMATS: OutputFormat[] = ['jpeg', 'webp'];

/** Operators file text for simulator operators: generous client rate limit, the given window. */
export function operatorsYaml(ops: OperatorInfo[], window: number): string {
  const lines = ops.map(
    (o) =>
      `  - id: ${o.id}\n    name: ${o.id}\n    dialect: ${o.dialect}\n    baseUrl: ${o.baseUrl}\n` +
      // Dialect C signs its requests with the channel and marketplace besides the secret.
      (o.dialect === 'C'
        ? `    channelId: ${o.credentials.channelId}\n    marketplaceId: ${o.credentials.marketplaceId}\n`
        : '') +
      `    apiKeyEnv: ${secretEnv(o.id)}\n    rateLimit: { requestsPerSecond: 1000 }\n    window: ${window}`,
  );
  return `operators:\n${lines.join('\n')}\n`;
}

export function secretEnv(operatorId: string): string {
  return `OP_${operatorId.replace(/-/g, '_').toUpperCase()}_API_KEY`;
}

export function parseOps(yaml: string): OperatorConfig[] {
  return parseOperatorsYaml(yaml, 'bench-operators.yaml');
}

/** An adapter for the baseline scripts: the same HTTP client and mapping as the product, no shared limiter. */
export function benchAdapter(op: OperatorConfig, apiKey: string): OperatorAdapter {
  return createAdapter(op, { secret: () => apiKey, rateLimiter: { acquire: async () => undefined } });
}

export type ActiveEntry = Extract<ListEntry, { kind: 'active' }>;

/**
 * The tour behind an active listing entry, got as the product gets it: from the listing record where the
 * dialect's listing carries full products (A, B), else by the per-tour detail call (C). A baseline that
 * fetched every tour again would make more operator calls than the product and flatter the ratios.
 * Undefined when the detail call finds the tour gone.
 */
export async function tourFromListing(
  adapter: OperatorAdapter,
  entry: ActiveEntry,
): Promise<Tour | undefined> {
  if (entry.tour) return entry.tour;
  const fetched = await adapter.fetchTour(entry.externalId);
  return fetched.kind === 'found' ? fetched.tour : undefined;
}

/** What every baseline job (legacy, plain) reports back. */
export interface JobResult {
  wallMs: number;
  tours: number;
  imageSlots: number;
  downloads: number;
  resizes: number;
  latenciesMs: number[];
  note?: string;
  /** The job's own process.cpuUsage() and peak RSS, exact where /proc sampling is not. */
  selfCpuMs?: number;
  maxRssMb?: number;
}

export function selfUsage() {
  const u = process.cpuUsage();
  return { selfCpuMs: (u.user + u.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

export interface JobSpec {
  resultFile: string;
  databaseUrl: string;
  schema: string;
  operatorsYaml: string;
  operatorId: string;
  apiKey: string;
  outDir: string;
  maxTours: number;
  [k: string]: unknown;
}

export interface ChildRun<T> {
  result: T;
  cpuMs: number;
  peakRssMb: number;
  wallMs: number;
}

/**
 * Runs `node --import tsx <file>` with the job as JSON in BENCH_JOB, on the CPUs `cpus` lists (taskset;
 * default: wherever the bench runs); returns its result file and /proc figures.
 */
export async function runChild<T>(
  file: string,
  job: { resultFile: string } & Record<string, unknown>,
  env: Record<string, string> = {},
  cpus?: string,
): Promise<ChildRun<T>> {
  const started = performance.now();
  const [cmd, ...args] = onCpus(cpus, [process.execPath, '--import', 'tsx', path.join(ROOT, file)]);
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, BENCH_JOB: JSON.stringify(job) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let cpuMs = 0;
  let peakRssMb = 0;
  const sample = () => {
    if (child.pid === undefined) return;
    const c = treeCpuMs(child.pid);
    if (c > 0) cpuMs = c;
    peakRssMb = Math.max(peakRssMb, treePeakRssMb(child.pid));
  };
  const timer = setInterval(sample, 250);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${file} exited with ${code}`);
  const result = JSON.parse(readFileSync(job.resultFile, 'utf8')) as T & Partial<JobResult>;
  return {
    result,
    cpuMs: result.selfCpuMs ?? cpuMs,
    peakRssMb: result.maxRssMb ?? peakRssMb,
    wallMs: performance.now() - started,
  };
}

/** The command line run under `taskset --cpu-list cpus` (it execs the command: same pid), or as is. */
export function onCpus(cpus: string | undefined, command: string[]): string[] {
  return cpus ? ['taskset', '--cpu-list', cpus, ...command] : command;
}

export function jobFromEnv<T>(): T {
  const raw = process.env['BENCH_JOB'];
  if (!raw) throw new Error('BENCH_JOB is not set: this file is run by bench/main.ts');
  return JSON.parse(raw) as T;
}
