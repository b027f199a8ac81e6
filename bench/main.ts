/**
 * `npm run bench [-- --smoke]`: every scenario side by side on one simulator catalog and the same output
 * sizes (1200/600/200 × jpeg/webp). Starts its own Temporal server (`--server`: the dev server by default),
 * a fresh PostgreSQL schema and the operator simulator (child process, behind a counting proxy), then
 * writes bench/RESULTS.md. `--compare-servers` runs the full import once on each server instead.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import pLimit from 'p-limit';
import pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SIGNALS } from '../src/constants.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { tourContentHash } from '../src/domain/hash.js';
import { freePort, PRODUCT_DYNAMIC_CONFIG, startDevServer } from '../src/infra/dev-server.js';
import { ensurePostgres } from '../src/infra/postgres.js';
import { resolveTemporalCli } from '../src/infra/temporal-cli.js';
import { syncOperators } from '../src/operators/resolver.js';
import type { OperatorAdapter } from '../src/operators/types.js';
import type { OperatorSpecInput } from '../src/simulator/types.js';
import type { ImportOperatorResult, Progress } from '../src/workflows/types.js';
import type { CeilingProbe } from './ceiling.js';
import {
  ROOT,
  benchAdapter,
  operatorsYaml,
  parseOps,
  runChild,
  secretEnv,
  type ChildRun,
  type JobResult,
} from './lib/common.js';
import { API_CALL_DIALECTS, apiCallsOperatorId, apiCallsPerTour, measureApiCalls } from './lib/api-calls.js';
import { figures } from './lib/figures.js';
import { childTimings, parentTimeline } from './lib/histories.js';
import { machine } from './lib/machine.js';
import { settle, startMeasurement, type ImportContext } from './lib/rig.js';
import { imageCacheDir, startSim } from './lib/sim.js';
import { LOW_LOAD_OPERATOR, lowLoad, lowLoadSize } from './low-load.js';
import { manyOperatorIds, manyOperators } from './many-operators.js';
import { repeatRun, type RepeatRun } from './repeat.js';
import { RSS_24MP, rss24mp, rss24mpSize } from './rss-24mp.js';
import { SERVER_KINDS, startBenchServer, type ServerKind } from './lib/server.js';
import { compareServers } from './compare-servers.js';
import { orchestrationFloor } from './floor.js';
import { canPinCpus, commCpuMs, commPids, pinCpus, tree, treeCpuMs } from './lib/proc.js';
import { startWorker, type WorkerKind, type WorkerProcess } from './lib/workers.js';
import {
  mergeReports,
  writeResults,
  type BenchReport,
  type DeltaFigures,
  type FairnessPhase,
} from './report.js';

const program = new Command()
  .name('bench')
  .option(
    '--smoke',
    'tiny run for CI (20 tours × 2 images, 10 ms latency, 200-tour second delta, 2,000-tour scale, 3 × 10-tour many operators)',
  )
  .option('--tours <n>', 'tours in the catalog', Number)
  .option('--images <n>', 'images per tour', Number)
  .option('--image-size <WxH>', 'source image size', '1600x1067')
  .option('--api-ms <ms>', 'simulated latency per API call', Number)
  .option('--image-ms <ms>', 'simulated latency per image', Number)
  .option('--legacy-tours <n>', 'tours the (sequential) legacy baseline processes', Number)
  .option('--scale-tours <n>', 'tours in the listing-only scale catalog', Number)
  .option(
    '--delta-tours <n>',
    'tours in the second delta catalog (imported in full, then 1 % changed)',
    Number,
  )
  .option('--delta-images <n>', 'images per tour in the second delta catalog', Number, 0)
  .option(
    '--calls-tours <n>',
    'tours in each dialect catalog whose full import counts operator API calls (1 small image each)',
    Number,
    100,
  )
  .option(
    '--repeat <n>',
    'run scenarios 1-4 (ceiling, legacy, plain, full import) N times: medians and spread',
    Number,
    1,
  )
  .option('--many-operators <n>', 'operators importing at once in the many-operators scenario', Number)
  .option('--many-tours <n>', 'tours per operator in the many-operators scenario', Number)
  .option('--window <n>', 'ImportTour children per operator at once (operator "window")', Number, 20)
  .option('--image-slots <n>', 'IMAGE_WORKER_MAX_ACTIVITIES for the image worker')
  .option('--image-resizes <n>', 'IMAGE_WORKER_MAX_RESIZES for the image worker')
  .option('--tour-slots <n>', 'TOUR_WORKER_MAX_ACTIVITIES for the tour-import worker')
  .option('--uv-threads <n>', 'UV_THREADPOOL_SIZE for the image worker')
  .option('--sharp-concurrency <n>', 'SHARP_CONCURRENCY for the image worker')
  .option('--malloc-arena-max <n>', 'MALLOC_ARENA_MAX for the workers')
  .option('--fair-big <n>', 'tours of the big operator in the fairness scenario', Number)
  .option('--fair-small <n>', 'tours of the small operator in the fairness scenario', Number)
  .option(
    '--fair-images <n>',
    "images per tour in the fairness scenario (default: the catalog's; 0 in --smoke; 0 measures the orchestration alone)",
    Number,
  )
  .option('--fair-repeat <n>', 'imports of the small operator alone and with the big one (median)', Number)
  .option(
    '--fair-warm-tours <n>',
    "big operator's tours whose images are painted before the fairness scenario",
    Number,
  )
  .option(
    '--default-server',
    "run scenarios 4-7 on a Temporal server in its default configuration instead of the product's (fairness on)",
  )
  .option(
    '--server-config <key=value...>',
    "extra dynamic config for the product's Temporal server (e.g. matching.numTaskqueueReadPartitions=1)",
  )
  .option(
    '--skip <list>',
    'comma-separated scenarios to skip (ceiling,legacy,plain,floor,low-load,many-operators,rss-24mp,api-calls,delta,scale,scale-out,fairness,split)',
    '',
  )
  .option(
    '--merge-from <report.json>',
    "keep scenarios 1-6 of an earlier run's report.json in the results; this run adds scale-out and fairness",
  )
  .addOption(
    new Option(
      '--server <kind>',
      'the Temporal server every scenario runs on (fairness "off" stays on a dev server)',
    )
      .choices(SERVER_KINDS)
      .default('dev'),
  )
  .option(
    '--compare-servers',
    "only the full import, once on each server (dev, then production); writes them side by side into the results file's kept notes",
  )
  .option('--report-json <file>', "also write the run's raw figures (report.json) here")
  .option('--out <file>', 'results file (default bench/RESULTS.md; smoke: data/bench/RESULTS-smoke.md)')
  .parse();
const o = program.opts<{
  smoke?: boolean;
  tours?: number;
  images?: number;
  imageSize: string;
  apiMs?: number;
  imageMs?: number;
  legacyTours?: number;
  scaleTours?: number;
  deltaTours?: number;
  deltaImages: number;
  callsTours: number;
  window: number;
  repeat: number;
  manyOperators?: number;
  manyTours?: number;
  imageSlots?: string;
  imageResizes?: string;
  tourSlots?: string;
  uvThreads?: string;
  sharpConcurrency?: string;
  mallocArenaMax?: string;
  fairBig?: number;
  fairSmall?: number;
  fairRepeat?: number;
  defaultServer?: boolean;
  serverConfig?: string[];
  fairWarmTours?: number;
  fairImages?: number;
  skip: string;
  mergeFrom?: string;
  server: ServerKind;
  compareServers?: boolean;
  reportJson?: string;
  out?: string;
}>();
if (o.server === 'production' && (o.defaultServer || o.serverConfig))
  program.error(
    '--default-server and --server-config set the dev server; the production server reads config/temporal-dynamic-config.yaml',
  );

const smoke = Boolean(o.smoke);
const [imageWidth, imageHeight] = o.imageSize.split('x').map(Number);
const size = {
  tours: o.tours ?? (smoke ? 20 : 300),
  images: o.images ?? (smoke ? 2 : 3),
  apiMs: o.apiMs ?? (smoke ? 10 : 100),
  imageMs: o.imageMs ?? (smoke ? 10 : 150),
  scaleTours: o.scaleTours ?? (smoke ? 2_000 : 100_000),
  deltaTours: o.deltaTours ?? (smoke ? 200 : 10_000),
  deltaImages: o.deltaImages,
  callsTours: o.callsTours,
  imageWidth,
  imageHeight,
  window: o.window,
  fairBig: o.fairBig ?? (smoke ? 200 : 10_000),
  fairSmall: o.fairSmall ?? (smoke ? 10 : 100),
  fairImages: o.fairImages ?? (smoke ? 0 : (o.images ?? 3)),
  fairRepeat: o.fairRepeat ?? (smoke ? 1 : 3),
  fairWarmTours: o.fairWarmTours ?? 300,
  repeat: o.repeat,
  manyOperators: o.manyOperators ?? (smoke ? 3 : 10),
  manyTours: o.manyTours ?? (smoke ? 10 : 100),
};
/** The product's server settings (none with --default-server), plus any given with --server-config. */
const serverDynamicConfig = [...(o.defaultServer ? [] : PRODUCT_DYNAMIC_CONFIG), ...(o.serverConfig ?? [])];
const legacyTours = Math.min(size.tours, o.legacyTours ?? (smoke ? 20 : 60));
const skip = new Set(o.skip.split(',').filter(Boolean));
const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
const dataDir = path.join(ROOT, 'data', 'bench', runId);
mkdirSync(dataDir, { recursive: true });
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const defaultOut = smoke
  ? path.join(ROOT, 'data', 'bench', 'RESULTS-smoke.md')
  : path.join(ROOT, 'bench', 'RESULTS.md');

if (o.compareServers) {
  const failed = await compareServers({ args: process.argv.slice(2), out: o.out ?? defaultOut, dataDir, log })
    .then(() => false)
    .catch((err: unknown) => (console.error(err), true));
  process.exit(failed ? 1 : 0);
}

const cleanups: (() => Promise<unknown>)[] = [];
const failures: string[] = [];
async function cleanup() {
  for (const c of cleanups.reverse()) await c().catch((e) => console.error(`cleanup: ${e}`));
  cleanups.length = 0;
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  await main();
  await cleanup();
  process.exit(0);
} catch (err) {
  console.error(err);
  await cleanup();
  process.exit(1);
}

async function main() {
  log(`run ${runId}: ${JSON.stringify(size)}, legacy ${legacyTours} tours, data in ${dataDir}`);

  // --- Infrastructure: Temporal server, PostgreSQL schema, simulator -----------------------------------
  const cli = await resolveTemporalCli(log);
  const databaseUrl = await ensurePostgres(log);
  // The server as the product runs it (fair dispatch between operators); the fairness scenario compares
  // it with a second (dev) server in Temporal's default configuration.
  const server = await startBenchServer(o.server, {
    cli,
    databaseUrl,
    dataDir,
    dynamicConfig: serverDynamicConfig,
    log,
  });
  cleanups.push(() => server.stop());
  const serverPid = server.pid;
  log(`Temporal ${server.description} at ${server.address}`);

  // A run killed during the split scenario leaves PostgreSQL on fewer CPUs; every run starts it on all.
  if (canPinCpus()) pinCpus(commPids('postgres'), `0-${os.cpus().length - 1}`);
  const schema = `bench_${runId.slice(0, 10).replace(/-/g, '')}_${randomBytes(3).toString('hex')}`;
  await migrate(databaseUrl, schema);
  const pool = createPool(databaseUrl, schema, 4);
  cleanups.push(async () => {
    await pool.query(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`);
    await pool.end();
  });

  /**
   * A catalog with the run's latencies, of dialect A with the run's image size unless `more` says
   * otherwise; `seed` decides its contents.
   */
  const catalogSpec = (
    id: string,
    seed: string,
    tourCount: number,
    images: number,
    more: Partial<OperatorSpecInput> = {},
  ): OperatorSpecInput => ({
    id,
    dialect: 'A',
    seed,
    tourCount,
    imagesPerTour: { min: images, max: images },
    imageWidth,
    imageHeight,
    latency: { apiMs: size.apiMs, imageMs: size.imageMs, jitterMs: 0 },
    ...more,
  });
  const specs: OperatorSpecInput[] = [
    catalogSpec('bench', 'bench', size.tours, size.images),
    // The second delta catalog (10,000 tours): imported in full, then 1 % changed. Without images by
    // default (with them its full import takes about half an hour here): the full import is then as short
    // as it gets, the hard case for delta time ÷ full time.
    catalogSpec('delta', 'delta', size.deltaTours, size.deltaImages),
    catalogSpec('scale', 'scale', size.scaleTours, 0),
    // One catalog per dialect to count API calls: one small image per tour, so that images are counted
    // while resizing them costs the run next to nothing.
    ...(skip.has('api-calls')
      ? []
      : API_CALL_DIALECTS.map((dialect) =>
          catalogSpec(apiCallsOperatorId(dialect), 'calls', size.callsTours, 1, {
            dialect,
            imageWidth: 320,
            imageHeight: 213,
          }),
        )),
  ];
  // Fairness: one big and one small operator per server setting (fairness off / on); the small one
  // twice (alone, then together with the big one), so each measurement imports a fresh catalog.
  const fairSpec = (id: string, seed: string, tourCount: number) =>
    catalogSpec(id, seed, tourCount, size.fairImages);
  if (!skip.has('fairness'))
    for (const f of ['off', 'on'])
      specs.push(
        fairSpec(`big-${f}`, 'big', size.fairBig),
        ...Array.from({ length: size.fairRepeat }, (_, i) => [
          fairSpec(`small-${f}-alone-${i}`, 'small', size.fairSmall),
          fairSpec(`small-${f}-together-${i}`, 'small', size.fairSmall),
        ]).flat(),
      );
  // The issue 17 scenarios' catalogs: distinct seeds, so none shares photos with another catalog.
  const low = lowLoadSize(smoke);
  const rss = rss24mpSize(smoke);
  if (!skip.has('low-load')) specs.push(catalogSpec(LOW_LOAD_OPERATOR, 'low-load', low.tours, low.images));
  if (!skip.has('many-operators'))
    specs.push(
      ...manyOperatorIds(size.manyOperators).map((id) => catalogSpec(id, id, size.manyTours, size.images)),
    );
  if (!skip.has('rss-24mp'))
    specs.push(
      catalogSpec(RSS_24MP.operator, 'rss-24mp', rss.tours, rss.images, {
        imageWidth: rss.width,
        imageHeight: rss.height,
      }),
    );
  const imageCache = imageCacheDir();
  const sim = await startSim(specs, imageCache);
  cleanups.push(() => sim.close());
  const yaml = operatorsYaml(sim.operators, size.window);
  const operatorsFile = path.join(dataDir, 'operators.yaml');
  writeFileSync(operatorsFile, yaml);
  const configs = parseOps(yaml);
  await syncOperators(pool, configs);
  const apiKey = (id: string) => sim.operators.find((x) => x.id === id)!.credentials.apiKey;
  const benchOp = configs.find((c) => c.id === 'bench')!;
  log(`simulator behind counting proxy at ${sim.url}; painted images cached in ${imageCache}`);

  // --- The catalog's images, downloaded once (also warms the simulator's image cache) ------------------
  const {
    tours: catalogTours,
    imageSlots,
    urls,
  } = await listImages(benchAdapter(benchOp, apiKey('bench')), Infinity);
  const imageDir = path.join(dataDir, 'images');
  mkdirSync(imageDir, { recursive: true });
  const dl = pLimit(16);
  let sourceBytes = 0;
  await Promise.all(
    [...urls].map((u, i) =>
      dl(async () => {
        const b = Buffer.from(await (await fetch(u)).arrayBuffer());
        sourceBytes += b.length;
        writeFileSync(path.join(imageDir, `${String(i).padStart(6, '0')}.jpg`), b);
      }),
    ),
  );
  // The other catalogs' images too, where they have any (otherwise the simulator paints them while the
  // imports run and the scenario measures its CPU): the fairness big import's first tours (as many as it
  // can reach while the small one is measured) and one copy of the small catalog (copies share photos).
  const warm = async (id: string, maxTours = Infinity) => {
    const op = configs.find((c) => c.id === id)!;
    const { urls: more } = await listImages(benchAdapter(op, apiKey(id)), maxTours);
    await Promise.all([...more].map((u) => dl(async () => void (await (await fetch(u)).arrayBuffer()))));
    return more.size;
  };
  const warmStarted = performance.now();
  const warmIds = sim.operators
    .map((x) => x.id)
    .filter((id) => id === LOW_LOAD_OPERATOR || id === RSS_24MP.operator || id.startsWith('many-'));
  let warmed = (await Promise.all(warmIds.map((id) => warm(id)))).reduce((a, b) => a + b, 0);
  if (!skip.has('fairness') && size.fairImages > 0)
    warmed += (await warm('big-on', size.fairWarmTours)) + (await warm('small-on-alone-0', size.fairSmall));
  log(
    `${warmed} more images painted or read from the cache in ${((performance.now() - warmStarted) / 1000).toFixed(0)} s`,
  );
  await sim.counters(true);
  log(`catalog: ${catalogTours} tours, ${imageSlots} image slots, ${urls.size} distinct images`);

  const machineInfo = await machine(cli);
  const report: BenchReport = {
    runId,
    smoke,
    server: o.server === 'dev' ? `${machineInfo.temporal} ${server.description}` : server.description,
    size: { ...size, legacyTours },
    machine: machineInfo,
    catalog: {
      tours: catalogTours,
      imageSlots,
      distinctImages: urls.size,
      avgSourceKb: urls.size ? sourceBytes / urls.size / 1024 : 0,
    },
    knobs: {
      window: size.window,
      IMAGE_WORKER_MAX_ACTIVITIES: o.imageSlots ?? 'default (64)',
      IMAGE_WORKER_MAX_RESIZES: o.imageResizes ?? `default (2 × ${os.availableParallelism()} cores)`,
      TOUR_WORKER_MAX_ACTIVITIES: o.tourSlots ?? 'default (50)',
      UV_THREADPOOL_SIZE: o.uvThreads ?? 'unset (the image worker sizes it: 2 × cores, at least 4)',
      SHARP_CONCURRENCY: o.sharpConcurrency ?? 'unset (sharp default)',
      MALLOC_ARENA_MAX: o.mallocArenaMax ?? 'unset',
      'server dynamic config': serverDynamicConfig.join(' ') || 'none',
    },
  };

  // --- 1. ceiling -------------------------------------------------------------------------------------
  let best = { uvThreads: 4, sharpConcurrency: 1, inflight: 2 };
  const ceilingSample = Math.min(urls.size, smoke ? 6 : 32);
  /** Raw sharp on the sample at each combination, in a child process (on `cpus` if given). */
  const probeCeiling = async (
    label: string,
    uv: number,
    combos: { sharpConcurrency: number; inflight: number }[],
    cpus?: string,
  ) => {
    const run = await runChild<{ probes: CeilingProbe[] }>(
      'bench/ceiling.ts',
      {
        resultFile: path.join(dataDir, `ceiling-${label}.json`),
        imageDir,
        outDir: path.join(dataDir, `ceiling-out-${label}`),
        sample: ceilingSample,
        combos,
      },
      { UV_THREADPOOL_SIZE: String(uv) },
      cpus,
    );
    return run.result.probes;
  };
  const fastest = (probes: CeilingProbe[]) =>
    probes.reduce((a, b) => (b.imagesPerSec > a.imagesPerSec ? b : a));
  /**
   * The probes sized to the machine: images in flight 1, 2, 4 … up to twice the cores, with libuv's pool
   * at twice the cores (at least its default 4) for both sharp concurrencies; then the pool at the core
   * count, for comparison, at the two widest.
   */
  const runCeiling = async (rep: number) => {
    const cores = os.availableParallelism();
    const wide = Math.max(4, 2 * cores);
    const inflights = [1];
    while (inflights[inflights.length - 1] < 2 * cores) inflights.push(inflights[inflights.length - 1] * 2);
    const at = (sharpConcurrency: number, inflight: number) => ({ sharpConcurrency, inflight });
    const plan = smoke
      ? [{ uv: 4, combos: [at(1, 2), at(2, 2)] }]
      : [
          { uv: wide, combos: [1, 2].flatMap((sc) => inflights.map((n) => at(sc, n))) },
          ...(cores < wide ? [{ uv: cores, combos: inflights.slice(-2).map((n) => at(1, n)) }] : []),
        ];
    const probes: CeilingProbe[] = [];
    for (const { uv, combos } of plan) {
      log(`ceiling: UV_THREADPOOL_SIZE=${uv}, ${combos.length} combinations on ${ceilingSample} images`);
      probes.push(...(await probeCeiling(`${uv}-${rep}`, uv, combos)));
    }
    const top = fastest(probes);
    log(
      `ceiling: best ${top.imagesPerSec.toFixed(2)} images/s at UV ${top.uvThreads}, ${top.inflight} in flight`,
    );
    return { probes, best: top };
  };
  if (!skip.has('ceiling')) {
    report.ceiling = await runCeiling(1);
    const top = report.ceiling.best;
    best = { uvThreads: top.uvThreads, sharpConcurrency: top.sharpConcurrency, inflight: top.inflight };
  }

  const jobBase = {
    databaseUrl,
    schema,
    operatorsYaml: yaml,
    operatorId: 'bench',
    apiKey: apiKey('bench'),
  };
  /** A baseline script's run as `name` (its figures' process name too), on `cpus` if given. */
  const baseline = async (name: string, file: string, extra: Record<string, unknown>, cpus?: string) => {
    settle();
    await sim.counters(true);
    const cpu0 = { server: treeCpuMs(serverPid), pg: commCpuMs('postgres'), sim: treeCpuMs(sim.pid) };
    const slug = name.replace(/\W+/g, '_');
    const run: ChildRun<JobResult> = await runChild<JobResult>(
      file,
      {
        ...jobBase,
        resultFile: path.join(dataDir, `${slug}.json`),
        outDir: path.join(dataDir, slug),
        ...extra,
      },
      { UV_THREADPOOL_SIZE: String(best.uvThreads) },
      cpus,
    );
    const c = await sim.counters(true);
    return figures(name, run.result, {
      processCpuMs: { [name]: run.cpuMs },
      peakRssMb: { [name]: run.peakRssMb },
      serverCpuMs: 0,
      pgCpuMs: Math.max(0, commCpuMs('postgres') - cpu0.pg),
      simCpuMs: treeCpuMs(sim.pid) - cpu0.sim,
      counters: c,
    });
  };

  // --- 2. legacy ---------------------------------------------------------------------------------------
  if (!skip.has('legacy')) {
    log(`legacy: ${legacyTours} tours, one at a time`);
    report.legacy = await baseline('legacy', 'bench/legacy/run.ts', { maxTours: legacyTours });
    log(`legacy: ${report.legacy.toursPerSec.toFixed(2)} tours/s`);
  }

  // --- 3. plain ----------------------------------------------------------------------------------------
  const plainJob = (at: { inflight: number; sharpConcurrency: number }) => ({
    maxTours: size.tours,
    tourConcurrency: size.window,
    downloadConcurrency: 32,
    resizeConcurrency: at.inflight,
    sharpConcurrency: at.sharpConcurrency,
  });
  if (!skip.has('plain')) {
    log(`plain: ${size.tours} tours, p-limit`);
    report.plain = await baseline('plain', 'bench/plain.ts', plainJob(best));
    log(`plain: ${report.plain.toursPerSec.toFixed(2)} tours/s`);
  }

  // --- 4. tour-import: worker processes as a user runs them --------------------------------------------
  const workerEnv: Record<string, string> = {
    NODE_ENV: 'production',
    TEMPORAL_ADDRESS: server.address,
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    TOUR_IMPORT_DATA_DIR: dataDir,
    BLOB_DIR: path.join(dataDir, 'blobs'),
    OPERATORS_FILE: operatorsFile,
    ALLOW_PRIVATE_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...Object.fromEntries(sim.operators.map((x) => [secretEnv(x.id), x.credentials.apiKey])),
  };
  if (o.mallocArenaMax) workerEnv['MALLOC_ARENA_MAX'] = o.mallocArenaMax;
  if (o.tourSlots) workerEnv['TOUR_WORKER_MAX_ACTIVITIES'] = o.tourSlots;
  const imageEnv: Record<string, string> = { ...workerEnv };
  if (o.imageSlots) imageEnv['IMAGE_WORKER_MAX_ACTIVITIES'] = o.imageSlots;
  if (o.imageResizes) imageEnv['IMAGE_WORKER_MAX_RESIZES'] = o.imageResizes;
  if (o.uvThreads) imageEnv['UV_THREADPOOL_SIZE'] = o.uvThreads;
  if (o.sharpConcurrency) imageEnv['SHARP_CONCURRENCY'] = o.sharpConcurrency;
  log('starting worker processes (tsx src/workers/tour-import.ts, tsx src/workers/image-processing.ts)');
  const workers: WorkerProcess[] = await Promise.all([
    startWorker('tour-import', workerEnv, path.join(dataDir, 'worker-tour-import.log')),
    startWorker('image-processing', imageEnv, path.join(dataDir, 'worker-image-processing.log')),
  ]);
  cleanups.push(() => Promise.all(workers.map((w) => w.stop())));
  const connection = await Connection.connect({ address: server.address });
  cleanups.push(() => connection.close());
  const client = new Client({ connection });
  const single: ImportContext = {
    workers,
    names: workers.map((w) => w.kind),
    pool,
    client,
    serverPid,
  };

  const measureImport = async (
    name: string,
    operatorId: string,
    mode: 'full' | 'delta',
    settings: Record<string, unknown>,
    ctx: ImportContext = single,
  ) => {
    const { pool, client } = ctx;
    const stop = await startMeasurement(ctx, sim);
    const startedAt = new Date(Date.now() - 1000);
    const workflowId = `bench-${name}-${randomBytes(3).toString('hex')}`;
    const handle = await client.workflow.start('ImportOperator', {
      taskQueue: 'tour-import',
      workflowId,
      args: [{ operatorId, mode, settings: { window: size.window, ...settings } }],
    });
    const result = (await handle.result()) as ImportOperatorResult;
    const { wallMs, resized, usage } = await stop();
    await new Promise((r) => setTimeout(r, 1500)); // visibility is eventually consistent
    const latenciesMs: number[] = [];
    let children = 0;
    let childImages = 0;
    const childIds = new Set<string>();
    const closed: { workflowId: string; runId: string }[] = [];
    let slowest: { latency: number; workflowId: string; runId: string } | undefined;
    for await (const wf of client.workflow.list({
      query: `WorkflowType = 'ImportTour' AND StartTime >= '${startedAt.toISOString()}'`,
    })) {
      // Only this operator's children (the fairness scenario runs two operators at once).
      if (!wf.workflowId.startsWith(`tour:${operatorId}:`)) continue;
      children++;
      childIds.add(wf.workflowId);
      if (!wf.closeTime) continue;
      const latency = wf.closeTime.getTime() - wf.startTime.getTime();
      latenciesMs.push(latency);
      closed.push({ workflowId: wf.workflowId, runId: wf.runId });
      if (latency > (slowest?.latency ?? 0))
        slowest = { latency, workflowId: wf.workflowId, runId: wf.runId };
    }
    // Small imports only (one history read per child).
    const childPhases = closed.length <= 200 ? await childTimings(client, closed) : undefined;
    if (slowest) {
      const h = await client.workflow.getHandle(slowest.workflowId, slowest.runId).fetchHistory();
      writeFileSync(
        path.join(dataDir, `history-${name.replace(/\W+/g, '_')}-slowest-tour.json`),
        JSON.stringify(h),
      );
    }
    const runs: { runId: string; events: number; bytes: number }[] = [];
    const histories: proto.temporal.api.history.v1.IHistory[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await client.workflow.getHandle(workflowId, wf.runId).fetchHistory();
      histories.push(history);
      // Kept for reading an import's timeline afterwards (`temporal workflow show` needs the server).
      writeFileSync(
        path.join(dataDir, `history-${name.replace(/\W+/g, '_')}-${wf.runId}.json`),
        JSON.stringify(history),
      );
      runs.push({
        runId: wf.runId,
        events: history.events?.length ?? 0,
        bytes: proto.temporal.api.history.v1.History.encode(history).finish().length,
      });
    }
    const done = result.progress.done;
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id
        WHERE t.operator_id = $1 AND t.updated_at >= $2`,
      [operatorId, startedAt],
    );
    childImages = rows[0].n;
    return {
      result,
      runs,
      startedAt,
      childIds,
      figures: figures(
        name,
        {
          wallMs,
          // Scale starts no children: its per-tour figures are per listed (unchanged) tour.
          tours: operatorId === 'scale' ? result.progress.listed : done,
          imageSlots: childImages,
          downloads: usage.counters.image200,
          resizes: resized,
          latenciesMs,
        },
        {
          ...usage,
          children,
          listed: result.progress.listed,
          unchanged: result.progress.unchanged,
          failed: result.progress.failed,
          timeline: parentTimeline(histories),
          childPhases,
        },
      ),
    };
  };

  log(`tour-import: full import of ${size.tours} tours`);
  const full = await measureImport('full', 'bench', 'full', {});
  if (full.result.status !== 'completed' || full.result.progress.failed > 0)
    throw new Error(`full import did not complete cleanly: ${JSON.stringify(full.result)}`);
  report.tourImport = { ...full.figures, runs: full.runs };
  log(`tour-import: ${full.figures.toursPerSec.toFixed(2)} tours/s, ${full.result.message}`);

  /** A fresh schema (migrated, operators synced) and blob folder, to import the catalog once more. */
  const freshStore = async (label: string) => {
    const freshSchema = `${schema}_${label.replace(/\W+/g, '_')}`;
    await migrate(databaseUrl, freshSchema);
    const freshPool = createPool(databaseUrl, freshSchema, 4);
    cleanups.push(async () => {
      await freshPool.query(`DROP SCHEMA ${pg.escapeIdentifier(freshSchema)} CASCADE`);
      await freshPool.end();
    });
    await syncOperators(freshPool, configs);
    const blobDir = path.join(dataDir, `blobs-${label}`);
    return {
      pool: freshPool,
      blobDir,
      env: (e: Record<string, string>) => ({ ...e, DATABASE_SCHEMA: freshSchema, BLOB_DIR: blobDir }),
    };
  };

  /** A tour-import and an image-processing worker with `env` applied, logging to worker-<kind>-<suffix>.log. */
  const startPair = async (
    env: (e: Record<string, string>) => Record<string, string>,
    suffix: string,
    imageCpu?: string,
  ) => {
    const pair = await Promise.all([
      startWorker('tour-import', env(workerEnv), path.join(dataDir, `worker-tour-import-${suffix}.log`)),
      startWorker(
        'image-processing',
        env(imageEnv),
        path.join(dataDir, `worker-image-processing-${suffix}.log`),
        imageCpu,
      ),
    ]);
    cleanups.push(() => Promise.all(pair.map((w) => w.stop())));
    return pair;
  };
  /** The figures of an import that must complete with no tour failed. */
  const cleanImport = async (name: string, operatorId: string, settings = {}, ctx = single) => {
    const run = await measureImport(name, operatorId, 'full', settings, ctx);
    if (run.result.status !== 'completed' || run.result.progress.failed > 0)
      throw new Error(`${name} did not complete cleanly: ${JSON.stringify(run.result)}`);
    return run.figures;
  };

  // --- 4f. the orchestration floor: no-op children with one no-op activity each ------------------------
  if (!skip.has('floor'))
    report.floor = await orchestrationFloor({
      client,
      address: server.address,
      serverPid,
      children: smoke ? 40 : 200,
      window: size.window,
      dataDir,
      log,
    });

  // --- 4c. low load: one operator, window 2 -------------------------------------------------------------
  if (!skip.has('low-load'))
    report.lowLoad = await lowLoad({
      smoke,
      log,
      plain: (window) =>
        baseline('low load: plain', 'bench/plain.ts', {
          ...plainJob(best),
          operatorId: LOW_LOAD_OPERATOR,
          apiKey: apiKey(LOW_LOAD_OPERATOR),
          maxTours: low.tours,
          tourConcurrency: window,
        }),
      tourImport: (window) => cleanImport('low load: tour-import', LOW_LOAD_OPERATOR, { window }),
    });

  // --- 4d. many operators at once, each within its own window --------------------------------------------
  if (!skip.has('many-operators'))
    report.manyOperators = await manyOperators({
      size: { operators: size.manyOperators, tours: size.manyTours, images: size.images },
      window: size.window,
      ctx: single,
      sim,
      log,
      plain: (ids) =>
        baseline('many operators: plain', 'bench/plain.ts', {
          ...plainJob(best),
          maxTours: size.manyTours,
          catalogs: ids.map((id) => ({ operatorId: id, apiKey: apiKey(id) })),
        }),
    });

  // --- 4e. the image worker's peak RSS on 24 MP sources ---------------------------------------------------
  if (!skip.has('rss-24mp'))
    report.rss24mp = await rss24mp({
      smoke,
      log,
      defaults: !(o.imageSlots || o.imageResizes || o.uvThreads || o.sharpConcurrency || o.mallocArenaMax),
      imageWorkerLog: workers[1].logFile,
      run: () => cleanImport('24 MP: tour-import', RSS_24MP.operator),
    });

  // --- 4b. operator API calls per full import, per dialect ---------------------------------------------
  if (!skip.has('api-calls')) {
    log(`api calls: full imports of ${size.callsTours} tours of dialects ${API_CALL_DIALECTS.join(', ')}`);
    report.apiCalls = await measureApiCalls(client, sim, size.window);
    for (const f of report.apiCalls)
      log(
        `api calls: ${f.dialect}: ${f.tours} tours, ${f.list} list + ${f.detail} detail calls ` +
          `(${apiCallsPerTour(f).toFixed(2)} per tour), ${f.image} image requests`,
      );
  }

  // --- 5. delta ----------------------------------------------------------------------------------------
  if (!skip.has('delta')) {
    /** 1 % of an imported catalog changes (each changed tour's first image under a new URL); a delta import follows. */
    const measureDelta = async (name: string, operatorId: string): Promise<DeltaFigures> => {
      const changed = await sim.change(operatorId, 0.01);
      log(`${name}: ${changed.changedTours} tours changed (${changed.changedImages} images replaced)`);
      const delta = await measureImport(name, operatorId, 'delta', {});
      if (delta.result.status !== 'completed')
        throw new Error(`${name} import: ${JSON.stringify(delta.result)}`);
      log(`${name}: ${(delta.figures.wallMs / 1000).toFixed(1)} s, ${delta.result.message}`);
      return { ...delta.figures, runs: delta.runs, ...changed, codes: undefined };
    };
    report.delta = await measureDelta('delta', 'bench');

    const tours = size.deltaTours.toLocaleString('en');
    log(`delta: full import of the ${tours}-tour catalog (${size.deltaImages} images per tour)`);
    const catalogFull = await measureImport(`full (${tours} tours)`, 'delta', 'full', {});
    if (catalogFull.result.status !== 'completed' || catalogFull.result.progress.failed > 0)
      throw new Error(`full import of the delta catalog: ${JSON.stringify(catalogFull.result)}`);
    log(`delta: ${(catalogFull.figures.wallMs / 1000).toFixed(1)} s, ${catalogFull.result.message}`);
    report.deltaCatalog = {
      full: { ...catalogFull.figures, runs: catalogFull.runs },
      delta: await measureDelta(`delta (${tours} tours)`, 'delta'),
    };
  }

  // --- 6. scale: listing and deciding over an already imported catalog ---------------------------------
  if (!skip.has('scale')) {
    log(`scale: seeding ${size.scaleTours} tours as already imported`);
    const scaleAdapter = benchAdapter(
      configs.find((c) => c.id === 'scale')!,
      apiKey('scale'),
    );
    const seedStart = performance.now();
    for (let pos: string | undefined, first = true; first || pos !== undefined; first = false) {
      const page = await scaleAdapter.listPage(pos, { mode: 'full', pageSize: 500 });
      const tours = page.entries.flatMap((e) => (e.kind === 'active' && e.tour ? [e.tour] : []));
      await pool.query(
        `INSERT INTO tours (operator_id, external_id, status, title, content_hash, source_updated_at, fetched_at)
         SELECT 'scale', x, 'active', t, h, u::timestamptz, now()
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS s(x, t, h, u)`,
        [
          tours.map((t) => t.externalId),
          tours.map((t) => t.title),
          tours.map((t) => tourContentHash(t)),
          tours.map((t) => t.sourceUpdatedAt),
        ],
      );
      pos = page.next;
    }
    log(`scale: seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s; full listing import`);
    const scale = await measureImport('scale', 'scale', 'full', { pageSize: 500 });
    if (scale.result.status !== 'completed') throw new Error(`scale import: ${JSON.stringify(scale.result)}`);
    report.scale = { ...scale.figures, runs: scale.runs, pageSize: 500 };
    log(
      `scale: ${(scale.figures.wallMs / 1000).toFixed(1)} s, ${scale.runs.length} run(s), ${scale.result.message}`,
    );
  }

  // --- 8a. fairness on the product's server (`matching.enableFairness=true`): the single workers -------
  const fairness: FairnessPhase[] = [];
  if (!skip.has('fairness')) fairness.push(await fairnessPhase('on', single));
  await Promise.all(workers.map((w) => w.stop()));

  // --- 7. scale-out: two processes of each worker kind on a fresh schema and blob folder ----------------
  if (!skip.has('scale-out')) {
    const { pool: soPool, blobDir: soBlobDir, env: soEnv } = await freshStore('scale-out');
    const plan: [WorkerKind, Record<string, string>][] = [
      ['tour-import', soEnv(workerEnv)],
      ['tour-import', soEnv(workerEnv)],
      ['image-processing', soEnv(imageEnv)],
      ['image-processing', soEnv(imageEnv)],
    ];
    const names = plan.map(([k], i) => `${k}#${(i % 2) + 1}`);
    log(`scale-out: starting ${names.join(', ')}`);
    const soWorkers = await Promise.all(
      plan.map(([k, e], i) =>
        startWorker(k, e, path.join(dataDir, `worker-${names[i].replace('#', '-')}.log`)),
      ),
    );
    cleanups.push(() => Promise.all(soWorkers.map((w) => w.stop())));
    log(`scale-out: full import of ${size.tours} tours`);
    const so = await measureImport(
      'scale-out (2 + 2 processes)',
      'bench',
      'full',
      {},
      {
        workers: soWorkers,
        names,
        pool: soPool,
        client,
        serverPid,
      },
    );
    await Promise.all(soWorkers.map((w) => w.stop()));
    const q = async (sql: string) => (await soPool.query(sql)).rows[0] as Record<string, number>;
    const tours = await q(`SELECT count(*)::int AS n FROM tours WHERE operator_id = 'bench'`);
    const variants = await q(
      'SELECT count(*)::int AS n, count(DISTINCT sha256)::int AS shas FROM asset_variants',
    );
    const assets = await q(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'ready')::int AS ready,
              count(DISTINCT sha256)::int AS shas FROM tour_assets`,
    );
    const originalsDir = path.join(soBlobDir, 'originals');
    const originals = (existsSync(originalsDir) ? readdirSync(originalsDir, { recursive: true }) : []).filter(
      (f) => /[0-9a-f]{64}$/.test(String(f)),
    ).length;
    // Persisted by a tour worker (persistTour) or, with its images, by an image worker (importTourImages).
    const persistedBy: Record<string, number> = Object.fromEntries(
      soWorkers.map((w, i) => [names[i], readFileSync(w.logFile, 'utf8').split('tour persisted').length - 1]),
    );
    const check = {
      catalogTours,
      tourRows: tours.n,
      done: so.result.progress.done,
      failed: so.result.progress.failed,
      childExecutions: so.figures.children ?? 0,
      distinctChildIds: so.childIds.size,
      imageSlots,
      assetRows: assets.n,
      readyAssets: assets.ready,
      distinctSha: assets.shas,
      variantRows: variants.n,
      variantShas: variants.shas,
      originals,
      downloads: so.figures.downloads,
      distinctImages: urls.size,
      persistedBy,
    };
    const problems = [
      check.tourRows !== catalogTours && `tours rows ${check.tourRows} ≠ ${catalogTours} tours`,
      check.done !== catalogTours && `${check.done} tours done of ${catalogTours}`,
      check.failed > 0 && `${check.failed} tours failed`,
      check.childExecutions !== check.distinctChildIds &&
        `${check.childExecutions} ImportTour executions for ${check.distinctChildIds} workflow ids`,
      check.distinctChildIds !== catalogTours && `${check.distinctChildIds} ImportTour ids ≠ ${catalogTours}`,
      check.assetRows !== imageSlots && `tour_assets rows ${check.assetRows} ≠ ${imageSlots} image slots`,
      check.readyAssets !== imageSlots && `${imageSlots - check.readyAssets} images not ready`,
      check.variantRows !== check.distinctSha * 6 &&
        `asset_variants rows ${check.variantRows} ≠ 6 × ${check.distinctSha} distinct sha256`,
      check.originals !== check.distinctSha &&
        `${check.originals} original blobs ≠ ${check.distinctSha} sha256`,
      Object.values(persistedBy).reduce((a, b) => a + b, 0) !== catalogTours &&
        `workers logged ${JSON.stringify(persistedBy)} persisted tours, not ${catalogTours} in all`,
    ].filter((p): p is string => typeof p === 'string');
    report.scaleOut = { ...so.figures, runs: so.runs, check, problems, single: full.figures };
    problems.forEach((p) => failures.push(`scale-out: ${p}`));
    log(
      `scale-out: ${so.figures.toursPerSec.toFixed(2)} tours/s (single ${full.figures.toursPerSec.toFixed(2)}); ` +
        `${problems.length ? `PROBLEMS: ${problems.join('; ')}` : 'nothing done twice, nothing lost'}`,
    );
  }

  // --- 8b. the same on a second dev server in Temporal's default configuration (fairness off) -----------
  if (!skip.has('fairness')) {
    const defaultServer = await startDevServer({
      cli,
      port: await freePort(),
      logFile: path.join(dataDir, 'temporal-default.log'),
      readyTimeoutMs: 120_000,
    });
    cleanups.push(() => defaultServer.stop());
    const env = (e: Record<string, string>) => ({ ...e, TEMPORAL_ADDRESS: defaultServer.address });
    const fw = await startPair(env, 'default');
    const fc = await Connection.connect({ address: defaultServer.address });
    cleanups.push(() => fc.close());
    fairness.push(
      await fairnessPhase('off', {
        workers: fw,
        names: fw.map((w) => w.kind),
        pool,
        client: new Client({ connection: fc }),
        serverPid: defaultServer.child.pid!,
      }),
    );
    await Promise.all(fw.map((w) => w.stop()));
  }
  if (fairness.length)
    report.fairness = {
      bigTours: size.fairBig,
      smallTours: size.fairSmall,
      images: size.fairImages,
      phases: fairness,
    };

  // --- 9. split: the image worker on a core of its own, all else on the others ----------------------------
  // As separate hosts would run it (docker-compose.yml gives image workers their own service and CPU
  // limit; more hosts run the same image): the ceiling and plain, run on that one core too, are what
  // it compares with.
  const cpuCount = os.cpus().length;
  const canSplit = cpuCount >= 2 && canPinCpus();
  if (!skip.has('split') && !canSplit) log('split: skipped (needs two CPUs and taskset)');
  if (!skip.has('split') && canSplit) {
    const imageCpu = String(cpuCount - 1);
    const restCpus = cpuCount > 2 ? `0-${cpuCount - 2}` : '0';
    // The server, PostgreSQL, the simulator and the bench itself (and what it starts from now on).
    const others = () => [...tree(serverPid), ...tree(sim.pid), ...commPids('postgres'), process.pid];
    const unpin = () => pinCpus(others(), `0-${cpuCount - 1}`);
    cleanups.push(async () => unpin());
    pinCpus(others(), restCpus);
    log(`split: ceiling on CPU ${imageCpu} (everything else on ${restCpus})`);
    const combos = [1, 2].map((inflight) => ({ sharpConcurrency: 1, inflight }));
    const probes = await probeCeiling('split', best.uvThreads, combos, imageCpu);
    const ceiling = fastest(probes);
    log(`split: plain on CPU ${imageCpu}`);
    const plain = await baseline('plain (1 core)', 'bench/plain.ts', plainJob(ceiling), imageCpu);
    const store = await freshStore('split');
    const sw = await startPair(store.env, 'split', imageCpu);
    log(`split: full import of ${size.tours} tours, image worker on CPU ${imageCpu}`);
    const split = await measureImport(
      'split (image worker on 1 core)',
      'bench',
      'full',
      {},
      { workers: sw, names: sw.map((w) => w.kind), pool: store.pool, client, serverPid },
    );
    await Promise.all(sw.map((w) => w.stop()));
    unpin();
    if (split.result.status !== 'completed' || split.result.progress.failed > 0)
      failures.push(`split: the import did not complete cleanly: ${JSON.stringify(split.result)}`);
    report.split = {
      imageCpu,
      restCpus,
      ceiling: { probes, best: ceiling },
      plain,
      tourImport: split.figures,
    };
    log(
      `split: ${split.figures.resizesPerSec.toFixed(2)} resizes/s (ceiling on one core ${ceiling.imagesPerSec.toFixed(2)}), ` +
        `${split.figures.toursPerSec.toFixed(2)} tours/s (plain on one core ${plain.toursPerSec.toFixed(2)})`,
    );
  }

  /**
   * The small operator alone, then again (a fresh copy of its catalog) while the big one imports:
   * the big import is started first and given one window's worth of finished tours to reach its
   * steady state; it is terminated (children cancelled) once the small one is done.
   */
  async function fairnessPhase(setting: 'off' | 'on', ctx: ImportContext): Promise<FairnessPhase> {
    const ok = (r: ImportOperatorResult, what: string) => {
      if (r.status !== 'completed' || r.progress.failed > 0)
        throw new Error(`fairness ${what}: ${JSON.stringify(r)}`);
    };
    // The small import is short, so one measurement is noisy: each side is the median of a few
    // imports of fresh copies of the same catalog.
    const medianOf = async (side: 'alone' | 'together') => {
      const runs: Awaited<ReturnType<typeof measureImport>>[] = [];
      for (let i = 0; i < size.fairRepeat; i++) {
        // The copies of the small catalog share its photos: the first import would resize them and
        // the others find every size stored. Forgetting the sizes before each import gives every copy
        // the work of a fresh catalog (the files are rewritten in place).
        if (size.fairImages > 0)
          await ctx.pool.query(
            `DELETE FROM asset_variants WHERE sha256 IN (SELECT ta.sha256 FROM tour_assets ta
               JOIN tours t ON t.id = ta.tour_id WHERE t.operator_id LIKE 'small-%')`,
          );
        const run = await measureImport(
          `fairness ${setting}: small ${side} #${i + 1}`,
          `small-${setting}-${side}-${i}`,
          'full',
          {},
          ctx,
        );
        ok(run.result, side);
        runs.push(run);
      }
      runs.sort((a, b) => a.figures.wallMs - b.figures.wallMs);
      return { median: runs[Math.floor(runs.length / 2)], wallMs: runs.map((r) => r.figures.wallMs) };
    };
    log(`fairness (${setting}): small operator alone, ${size.fairSmall} tours, ${size.fairRepeat} time(s)`);
    const { median: alone, wallMs: aloneRuns } = await medianOf('alone');
    log(`fairness (${setting}): big operator (${size.fairBig} tours) first, then the small one`);
    const big = await ctx.client.workflow.start('ImportOperator', {
      taskQueue: 'tour-import',
      workflowId: `bench-fair-big-${setting}-${randomBytes(3).toString('hex')}`,
      args: [{ operatorId: `big-${setting}`, mode: 'full', settings: { window: size.window } }],
    });
    const finished = (p: Progress) => p.done + p.unchanged + p.failed + p.removed;
    const progress = () => big.query<Progress>('progress');
    const deadline = Date.now() + 120_000;
    while (finished(await progress()) < size.window) {
      if (Date.now() > deadline) throw new Error('fairness: the big import made no progress in 120 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const b0 = { p: await progress(), t: performance.now() };
    const { median: together, wallMs: togetherRuns } = await medianOf('together');
    const b1 = { p: await progress(), t: performance.now() };
    const bigStillRunning = finished(b1.p) < size.fairBig;
    await big.terminate('fairness measured').catch(() => undefined);
    const roomRequests = (await big.fetchHistory()).events?.filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === SIGNALS.makeRoom,
    ).length;
    // Let the cancelled children drain before anything else is measured.
    const drainBy = Date.now() + 60_000;
    for (;;) {
      let running = 0;
      for await (const wf of ctx.client.workflow.list({
        query: `WorkflowType = 'ImportTour' AND ExecutionStatus = 'Running'`,
      })) {
        running++;
        if (Date.now() > drainBy)
          await ctx.client.workflow
            .getHandle(wf.workflowId)
            .terminate()
            .catch(() => 0);
      }
      if (!running) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const phase: FairnessPhase = {
      setting,
      aloneMs: alone.figures.wallMs,
      togetherMs: together.figures.wallMs,
      ratio: together.figures.wallMs / alone.figures.wallMs,
      aloneRunsMs: aloneRuns,
      togetherRunsMs: togetherRuns,
      aloneP95Ms: alone.figures.p95Ms,
      togetherP95Ms: together.figures.p95Ms,
      bigToursPerSecDuring: (finished(b1.p) - finished(b0.p)) / ((b1.t - b0.t) / 1000),
      bigStillRunning,
      roomRequests,
      alone: alone.figures,
      together: together.figures,
    };
    log(
      `fairness (${setting}): small alone ${(phase.aloneMs / 1000).toFixed(1)} s, with big ` +
        `${(phase.togetherMs / 1000).toFixed(1)} s → ×${phase.ratio.toFixed(2)}; big ran at ` +
        `${phase.bigToursPerSecDuring.toFixed(1)} tours/s meanwhile${bigStillRunning ? '' : ' (and FINISHED first)'}; ` +
        `it was asked to make room ${roomRequests} time(s)`,
    );
    return phase;
  }

  // --- --repeat: scenarios 1-4 again, the full import on a fresh schema, blob folder and workers ---------
  // Last, once the single workers have stopped: they poll the same task queue and would take the imports.
  const repeats: RepeatRun[] = [
    repeatRun({
      ceiling: report.ceiling?.best,
      legacy: report.legacy,
      plain: report.plain,
      tourImport: full.figures,
    }),
  ];
  for (let i = 2; i <= size.repeat; i++) {
    log(`repeat ${i} of ${size.repeat}: scenarios 1-4`);
    const ceiling = skip.has('ceiling') ? undefined : (await runCeiling(i)).best;
    const legacy = skip.has('legacy')
      ? undefined
      : await baseline('legacy', 'bench/legacy/run.ts', { maxTours: legacyTours });
    const plain = skip.has('plain') ? undefined : await baseline('plain', 'bench/plain.ts', plainJob(best));
    log(
      `repeat ${i}: legacy ${legacy?.toursPerSec.toFixed(2)}, plain ${plain?.toursPerSec.toFixed(2)} tours/s`,
    );
    const store = await freshStore(`repeat-${i}`);
    const pair = await startPair(store.env, `repeat-${i}`);
    const ctx = { workers: pair, names: pair.map((w) => w.kind), pool: store.pool, client, serverPid };
    const tourImport = await cleanImport('full', 'bench', {}, ctx);
    await Promise.all(pair.map((w) => w.stop()));
    repeats.push(repeatRun({ ceiling, legacy, plain, tourImport }));
    log(`repeat ${i}: tour-import ${tourImport.toursPerSec.toFixed(2)} tours/s`);
  }
  if (size.repeat > 1) report.repeats = repeats;

  const out = o.out ?? defaultOut;
  report.machine.loadavg = `${report.machine.loadavg} at start, ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ')} at end`;
  writeFileSync(path.join(dataDir, 'report.json'), JSON.stringify(report, null, 2));
  if (o.reportJson) writeFileSync(o.reportJson, JSON.stringify(report, null, 2));
  const merged = o.mergeFrom
    ? mergeReports(JSON.parse(readFileSync(o.mergeFrom, 'utf8')) as BenchReport, report)
    : report;
  await writeResults(out, merged);
  log(`results written to ${out} (raw figures: ${path.join(dataDir, 'report.json')})`);
  if (failures.length) throw new Error(`benchmark checks failed:\n${failures.join('\n')}`);
}

/** The image URLs of a catalog's first `maxTours` active tours, listed as an import lists them. */
async function listImages(adapter: OperatorAdapter, maxTours: number) {
  const urls = new Set<string>();
  let tours = 0;
  let imageSlots = 0;
  for (
    let pos: string | undefined, first = true;
    (first || pos !== undefined) && tours < maxTours;
    first = false
  ) {
    const page = await adapter.listPage(pos, { mode: 'full', pageSize: 500 });
    for (const e of page.entries)
      if (e.kind === 'active' && e.tour && tours < maxTours) {
        tours++;
        imageSlots += e.tour.images.length;
        e.tour.images.forEach((i) => urls.add(i.url));
      }
    pos = page.next;
  }
  return { tours, imageSlots, urls };
}
