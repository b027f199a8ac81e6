/**
 * What every scenario runs on, started once per run: the Temporal server, a fresh PostgreSQL schema, the
 * operator simulator with every scenario's catalog, and the bench catalog's images on disk. Whatever is
 * started registers how to stop it in `cleanups`, which main.ts runs at the end, on failure and on Ctrl-C.
 */
import { dropSchema } from '../../src/db/database.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { ensurePostgres } from '../../src/infra/postgres.js';
import { resolveTemporalCli } from '../../tooling/servers/temporal-cli.js';
import type { OperatorConfig } from '../../src/operators/registry.js';
import type { BenchOptions, BenchSize } from '../options.js';
import { downloadCatalog, startSimulator, warmOtherCatalogs, type BenchCatalog } from './catalogs.js';
import { ROOT, secretEnv } from './common.js';
import { canPinCpus, commPids, pinCpus } from './proc.js';
import { startBenchServer, type BenchServer } from './server.js';
import type { SimHandle } from './sim.js';

export type Log = (line: string) => void;

/** Stop functions, run last-registered first. */
export class Cleanups {
  private readonly stops: (() => Promise<unknown>)[] = [];

  add(stop: () => Promise<unknown>): void {
    this.stops.push(stop);
  }

  async run(): Promise<void> {
    for (const stop of this.stops.reverse()) await stop().catch((e) => console.error(`cleanup: ${e}`));
    this.stops.length = 0;
  }
}

/** How a sharp pipeline runs: libuv's pool, sharp's own threads, images resized at once. */
export interface ResizeSettings {
  uvThreads: number;
  sharpConcurrency: number;
  inflight: number;
}

export interface Bench {
  options: BenchOptions;
  size: BenchSize;
  runId: string;
  /** Where this run keeps its logs, histories, results and raw figures (data/bench/<runId>). */
  dataDir: string;
  log: Log;
  cleanups: Cleanups;
  /** Checks that failed without stopping the run; the run fails at the end when there are any. */
  failures: string[];
  cli: string;
  databaseUrl: string;
  server: BenchServer;
  schema: string;
  pool: pg.Pool;
  sim: SimHandle;
  /** The operators file every worker and baseline reads (its text, and where it lies). */
  yaml: string;
  operatorsFile: string;
  configs: OperatorConfig[];
  apiKey(operatorId: string): string;
  catalog: BenchCatalog;
  /** The environment of the tour-import worker, and of the image worker (with its knobs). */
  workerEnv: Record<string, string>;
  imageEnv: Record<string, string>;
  /** The settings the baselines resize at: the ceiling's best probe once it has run. */
  best: ResizeSettings;
}

/** A fresh run id and its data folder. */
export function newRun(): { runId: string; dataDir: string; log: Log } {
  const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
  const dataDir = path.join(ROOT, 'data', 'bench', runId);
  mkdirSync(dataDir, { recursive: true });
  const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
  return { runId, dataDir, log };
}

export async function startBench(
  options: BenchOptions,
  run: { runId: string; dataDir: string; log: Log },
  cleanups: Cleanups,
): Promise<Bench> {
  const { log, dataDir } = run;
  const cli = await resolveTemporalCli(log);
  const databaseUrl = await ensurePostgres(log);
  // The server as the product runs it (fair dispatch between operators); the fairness scenario compares
  // it with a second (dev) server in Temporal's default configuration.
  const server = await startBenchServer(options.cli.server, {
    cli,
    databaseUrl,
    dataDir,
    dynamicConfig: options.serverDynamicConfig,
    log,
  });
  cleanups.add(() => server.stop());
  log(`Temporal ${server.description} at ${server.address}`);
  const { schema, pool } = await createSchema(databaseUrl, run.runId, cleanups);
  const simulator = await startSimulator({ options, pool, dataDir, log, cleanups });
  const catalog = await downloadCatalog(simulator, dataDir);
  await warmOtherCatalogs(simulator, options, log);
  await simulator.sim.counters(true);
  log(
    `catalog: ${catalog.tours} tours, ${catalog.imageSlots} image slots, ${catalog.urls.size} distinct images`,
  );
  const env = workerEnvironments(options, { server, databaseUrl, schema, dataDir, ...simulator });
  return {
    options,
    size: options.size,
    ...run,
    cleanups,
    failures: [],
    cli,
    databaseUrl,
    server,
    schema,
    pool,
    ...simulator,
    catalog,
    ...env,
    best: { uvThreads: 4, sharpConcurrency: 1, inflight: 2 },
  };
}

/** The product's schema, migrated, dropped at the end of the run. */
async function createSchema(databaseUrl: string, runId: string, cleanups: Cleanups) {
  // A run killed during the split scenario leaves PostgreSQL on fewer CPUs; every run starts it on all.
  if (canPinCpus()) pinCpus(commPids('postgres'), `0-${os.cpus().length - 1}`);
  const schema = `bench_${runId.slice(0, 10).replace(/-/g, '')}_${randomBytes(3).toString('hex')}`;
  await migrate(databaseUrl, schema);
  const pool = createPool(databaseUrl, schema, 4);
  cleanups.add(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });
  return { schema, pool };
}

/** The worker processes' environment, as a user would set it, with the knobs given on the command line. */
function workerEnvironments(
  options: BenchOptions,
  at: {
    server: BenchServer;
    databaseUrl: string;
    schema: string;
    dataDir: string;
    operatorsFile: string;
    sim: SimHandle;
  },
) {
  const o = options.cli;
  const workerEnv: Record<string, string> = {
    NODE_ENV: 'production',
    TEMPORAL_ADDRESS: at.server.address,
    DATABASE_URL: at.databaseUrl,
    DATABASE_SCHEMA: at.schema,
    TOUR_IMPORT_DATA_DIR: at.dataDir,
    BLOB_DIR: path.join(at.dataDir, 'blobs'),
    OPERATORS_FILE: at.operatorsFile,
    ALLOW_PRIVATE_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...Object.fromEntries(at.sim.operators.map((x) => [secretEnv(x.id), x.credentials.apiKey])),
  };
  if (o.mallocArenaMax) workerEnv['MALLOC_ARENA_MAX'] = o.mallocArenaMax;
  if (o.tourSlots) workerEnv['TOUR_WORKER_MAX_ACTIVITIES'] = o.tourSlots;
  const imageEnv: Record<string, string> = { ...workerEnv };
  if (o.imageSlots) imageEnv['IMAGE_WORKER_MAX_ACTIVITIES'] = o.imageSlots;
  if (o.imageResizes) imageEnv['IMAGE_WORKER_MAX_RESIZES'] = o.imageResizes;
  if (o.uvThreads) imageEnv['UV_THREADPOOL_SIZE'] = o.uvThreads;
  if (o.sharpConcurrency) imageEnv['SHARP_CONCURRENCY'] = o.sharpConcurrency;
  return { workerEnv, imageEnv };
}
