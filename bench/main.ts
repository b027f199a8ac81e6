/**
 * `npm run bench [-- --smoke]`: every scenario side by side on one simulator catalog and the same output
 * sizes (1200/600/200 × jpeg/webp). Starts its own Temporal dev server, a fresh PostgreSQL schema and the
 * operator simulator (child process, behind a counting proxy), then writes bench/RESULTS.md.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import pLimit from 'p-limit';
import pg from 'pg';
import sharp from 'sharp';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { tourContentHash } from '../src/domain/hash.js';
import { freePort, startDevServer, stopChild, type DevServer } from '../src/infra/dev-server.js';
import { ensurePostgres } from '../src/infra/postgres.js';
import { resolveTemporalCli, temporalCliVersion } from '../src/infra/temporal-cli.js';
import { syncOperators } from '../src/operators/resolver.js';
import type { OperatorInfo } from '../src/simulator/operator.js';
import type { OperatorSpecInput } from '../src/simulator/types.js';
import type { ImportOperatorResult } from '../src/workflows/types.js';
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
import { commCpuMs, treeCpuMs } from './lib/proc.js';
import type { Counters, SimRequest } from './lib/sim-child.js';
import { percentile } from './lib/stats.js';
import { startWorker, type WorkerProcess } from './lib/workers.js';
import { writeResults, type BenchReport, type PipelineFigures } from './report.js';

const program = new Command()
  .name('bench')
  .option('--smoke', 'tiny run for CI (20 tours × 2 images, 10 ms latency, 2,000-tour scale)')
  .option('--tours <n>', 'tours in the catalog', Number)
  .option('--images <n>', 'images per tour', Number)
  .option('--image-size <WxH>', 'source image size', '1600x1067')
  .option('--api-ms <ms>', 'simulated latency per API call', Number)
  .option('--image-ms <ms>', 'simulated latency per image', Number)
  .option('--legacy-tours <n>', 'tours the (sequential) legacy baseline processes', Number)
  .option('--scale-tours <n>', 'tours in the listing-only scale catalog', Number)
  .option('--window <n>', 'ImportTour children per operator at once (operator "window")', Number, 20)
  .option('--image-slots <n>', 'IMAGE_WORKER_MAX_ACTIVITIES for the image worker')
  .option('--tour-slots <n>', 'TOUR_WORKER_MAX_ACTIVITIES for the tour-import worker')
  .option('--uv-threads <n>', 'UV_THREADPOOL_SIZE for the image worker')
  .option('--sharp-concurrency <n>', 'SHARP_CONCURRENCY for the image worker')
  .option('--malloc-arena-max <n>', 'MALLOC_ARENA_MAX for the workers')
  .option('--skip <list>', 'comma-separated scenarios to skip (ceiling,legacy,plain,delta,scale)', '')
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
  window: number;
  imageSlots?: string;
  tourSlots?: string;
  uvThreads?: string;
  sharpConcurrency?: string;
  mallocArenaMax?: string;
  skip: string;
  out?: string;
}>();

const smoke = Boolean(o.smoke);
const [imageWidth, imageHeight] = o.imageSize.split('x').map(Number);
const size = {
  tours: o.tours ?? (smoke ? 20 : 300),
  images: o.images ?? (smoke ? 2 : 3),
  apiMs: o.apiMs ?? (smoke ? 10 : 100),
  imageMs: o.imageMs ?? (smoke ? 10 : 150),
  scaleTours: o.scaleTours ?? (smoke ? 2_000 : 100_000),
  imageWidth,
  imageHeight,
  window: o.window,
};
const legacyTours = Math.min(size.tours, o.legacyTours ?? (smoke ? 20 : 60));
const skip = new Set(o.skip.split(',').filter(Boolean));
const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
const dataDir = path.join(ROOT, 'data', 'bench', runId);
mkdirSync(dataDir, { recursive: true });
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

const cleanups: (() => Promise<unknown>)[] = [];
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

  // --- Infrastructure: Temporal dev server, PostgreSQL schema, simulator -------------------------------
  const cli = await resolveTemporalCli(log);
  const server: DevServer = await startDevServer({
    cli,
    port: await freePort(),
    logFile: path.join(dataDir, 'temporal.log'),
    readyTimeoutMs: 120_000,
  });
  cleanups.push(() => server.stop());
  const serverPid = server.child.pid!;
  log(`Temporal dev server at ${server.address}`);

  const databaseUrl = await ensurePostgres(log);
  const schema = `bench_${runId.slice(0, 10).replace(/-/g, '')}_${randomBytes(3).toString('hex')}`;
  await migrate(databaseUrl, schema);
  const pool = createPool(databaseUrl, schema, 4);
  cleanups.push(async () => {
    await pool.query(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`);
    await pool.end();
  });

  const specs: OperatorSpecInput[] = [
    {
      id: 'bench',
      dialect: 'A',
      seed: 'bench',
      tourCount: size.tours,
      imagesPerTour: { min: size.images, max: size.images },
      imageWidth,
      imageHeight,
      latency: { apiMs: size.apiMs, imageMs: size.imageMs, jitterMs: 0 },
    },
    {
      id: 'scale',
      dialect: 'A',
      seed: 'scale',
      tourCount: size.scaleTours,
      imagesPerTour: { min: 0, max: 0 },
      latency: { apiMs: size.apiMs, imageMs: 0, jitterMs: 0 },
    },
  ];
  const sim = await startSim(specs);
  cleanups.push(() => sim.close());
  const yaml = operatorsYaml(sim.operators, size.window);
  const operatorsFile = path.join(dataDir, 'operators.yaml');
  writeFileSync(operatorsFile, yaml);
  const configs = parseOps(yaml);
  await syncOperators(pool, configs);
  const apiKey = (id: string) => sim.operators.find((x) => x.id === id)!.credentials.apiKey;
  const benchOp = configs.find((c) => c.id === 'bench')!;
  log(`simulator behind counting proxy at ${sim.url}`);

  // --- The catalog's images, downloaded once (also warms the simulator's image cache) ------------------
  const adapter = benchAdapter(benchOp, apiKey('bench'));
  const urls = new Set<string>();
  let catalogTours = 0;
  let imageSlots = 0;
  for (let pos: string | undefined, first = true; first || pos !== undefined; first = false) {
    const page = await adapter.listPage(pos, { mode: 'full', pageSize: 500 });
    for (const e of page.entries)
      if (e.kind === 'active' && e.tour) {
        catalogTours++;
        imageSlots += e.tour.images.length;
        e.tour.images.forEach((i) => urls.add(i.url));
      }
    pos = page.next;
  }
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
  await sim.counters(true);
  log(`catalog: ${catalogTours} tours, ${imageSlots} image slots, ${urls.size} distinct images`);

  const report: BenchReport = {
    runId,
    smoke,
    size: { ...size, legacyTours },
    machine: await machine(cli),
    catalog: {
      tours: catalogTours,
      imageSlots,
      distinctImages: urls.size,
      avgSourceKb: urls.size ? sourceBytes / urls.size / 1024 : 0,
    },
    knobs: {
      window: size.window,
      IMAGE_WORKER_MAX_ACTIVITIES: o.imageSlots ?? 'default (4)',
      TOUR_WORKER_MAX_ACTIVITIES: o.tourSlots ?? 'default (50)',
      UV_THREADPOOL_SIZE: o.uvThreads ?? 'unset (libuv default 4)',
      SHARP_CONCURRENCY: o.sharpConcurrency ?? 'unset (sharp default)',
      MALLOC_ARENA_MAX: o.mallocArenaMax ?? 'unset',
    },
  };

  // --- 1. ceiling -------------------------------------------------------------------------------------
  let best = { uvThreads: 4, sharpConcurrency: 1, inflight: 2 };
  if (!skip.has('ceiling')) {
    const probes: CeilingProbe[] = [];
    const sample = Math.min(urls.size, smoke ? 6 : 32);
    for (const uv of smoke ? [4] : [4, 2]) {
      const combos = smoke
        ? [
            { sharpConcurrency: 1, inflight: 2 },
            { sharpConcurrency: 2, inflight: 2 },
          ]
        : uv === 4
          ? [1, 2].flatMap((sc) => [1, 2, 4].map((inflight) => ({ sharpConcurrency: sc, inflight })))
          : [2, 4].map((inflight) => ({ sharpConcurrency: 1, inflight }));
      log(`ceiling: UV_THREADPOOL_SIZE=${uv}, ${combos.length} combinations on ${sample} images`);
      const run = await runChild<{ probes: CeilingProbe[] }>(
        'bench/ceiling.ts',
        {
          resultFile: path.join(dataDir, `ceiling-${uv}.json`),
          imageDir,
          outDir: path.join(dataDir, `ceiling-out-${uv}`),
          sample,
          combos,
        },
        { UV_THREADPOOL_SIZE: String(uv) },
      );
      probes.push(...run.result.probes);
    }
    const top = probes.reduce((a, b) => (b.imagesPerSec > a.imagesPerSec ? b : a));
    best = { uvThreads: top.uvThreads, sharpConcurrency: top.sharpConcurrency, inflight: top.inflight };
    report.ceiling = { probes, best: top };
    log(`ceiling: best ${top.imagesPerSec.toFixed(2)} images/s at ${JSON.stringify(best)}`);
  }

  const jobBase = {
    databaseUrl,
    schema,
    operatorsYaml: yaml,
    operatorId: 'bench',
    apiKey: apiKey('bench'),
  };
  const baseline = async (name: 'legacy' | 'plain', file: string, extra: Record<string, unknown>) => {
    await sim.counters(true);
    const cpu0 = { server: treeCpuMs(serverPid), pg: commCpuMs('postgres'), sim: treeCpuMs(sim.pid) };
    const run: ChildRun<JobResult> = await runChild<JobResult>(
      file,
      {
        ...jobBase,
        resultFile: path.join(dataDir, `${name}.json`),
        outDir: path.join(dataDir, name),
        ...extra,
      },
      { UV_THREADPOOL_SIZE: String(best.uvThreads) },
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
  if (!skip.has('plain')) {
    log(`plain: ${size.tours} tours, p-limit`);
    report.plain = await baseline('plain', 'bench/plain.ts', {
      maxTours: size.tours,
      tourConcurrency: size.window,
      downloadConcurrency: 32,
      resizeConcurrency: best.inflight,
      sharpConcurrency: best.sharpConcurrency,
    });
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

  const measureImport = async (
    name: string,
    operatorId: string,
    mode: 'full' | 'delta',
    settings: Record<string, unknown>,
  ) => {
    for (const w of workers) w.resetPeak();
    await sim.counters(true);
    const resized0 = await countResized(pool);
    const cpu0 = {
      w: workers.map((w) => w.cpuMs()),
      server: treeCpuMs(serverPid),
      pg: commCpuMs('postgres'),
      sim: treeCpuMs(sim.pid),
    };
    const startedAt = new Date(Date.now() - 1000);
    const t0 = performance.now();
    const workflowId = `bench-${name}-${randomBytes(3).toString('hex')}`;
    const handle = await client.workflow.start('ImportOperator', {
      taskQueue: 'tour-import',
      workflowId,
      args: [{ operatorId, mode, settings: { window: size.window, ...settings } }],
    });
    const result = (await handle.result()) as ImportOperatorResult;
    const wallMs = performance.now() - t0;
    const cpu = {
      w: workers.map((w, i) => w.cpuMs() - cpu0.w[i]),
      server: treeCpuMs(serverPid) - cpu0.server,
      pg: Math.max(0, commCpuMs('postgres') - cpu0.pg),
      sim: treeCpuMs(sim.pid) - cpu0.sim,
    };
    const counters = await sim.counters(true);
    const resized = (await countResized(pool)) - resized0;
    await new Promise((r) => setTimeout(r, 1500)); // visibility is eventually consistent
    const latenciesMs: number[] = [];
    let children = 0;
    let childImages = 0;
    for await (const wf of client.workflow.list({
      query: `WorkflowType = 'ImportTour' AND StartTime >= '${startedAt.toISOString()}'`,
    })) {
      children++;
      if (wf.closeTime) latenciesMs.push(wf.closeTime.getTime() - wf.startTime.getTime());
    }
    const runs: { runId: string; events: number; bytes: number }[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await client.workflow.getHandle(workflowId, wf.runId).fetchHistory();
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
      figures: figures(
        name,
        {
          wallMs,
          // Scale starts no children: its per-tour figures are per listed (unchanged) tour.
          tours: operatorId === 'scale' ? result.progress.listed : done,
          imageSlots: childImages,
          downloads: counters.image200,
          resizes: resized,
          latenciesMs,
        },
        {
          processCpuMs: Object.fromEntries(workers.map((w, i) => [w.kind, cpu.w[i]])),
          peakRssMb: Object.fromEntries(workers.map((w) => [w.kind, w.peakRssMb()])),
          serverCpuMs: cpu.server,
          pgCpuMs: cpu.pg,
          simCpuMs: cpu.sim,
          counters,
          children,
          listed: result.progress.listed,
          unchanged: result.progress.unchanged,
          failed: result.progress.failed,
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

  // --- 5. delta ----------------------------------------------------------------------------------------
  if (!skip.has('delta')) {
    const changed = await sim.change('bench', 0.01);
    log(`delta: ${changed.changedTours} tours changed (${changed.changedImages} images replaced)`);
    const delta = await measureImport('delta', 'bench', 'delta', {});
    if (delta.result.status !== 'completed') throw new Error(`delta import: ${JSON.stringify(delta.result)}`);
    report.delta = { ...delta.figures, runs: delta.runs, ...changed, codes: undefined };
    log(`delta: ${(delta.figures.wallMs / 1000).toFixed(1)} s, ${delta.result.message}`);
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

  const out =
    o.out ??
    (smoke ? path.join(ROOT, 'data', 'bench', 'RESULTS-smoke.md') : path.join(ROOT, 'bench', 'RESULTS.md'));
  report.machine.loadavg = `${report.machine.loadavg} at start, ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ')} at end`;
  writeFileSync(path.join(dataDir, 'report.json'), JSON.stringify(report, null, 2));
  await writeResults(out, report);
  log(`results written to ${out} (raw figures: ${path.join(dataDir, 'report.json')})`);
}

function figures(
  name: string,
  r: JobResult,
  extra: {
    processCpuMs: Record<string, number>;
    peakRssMb: Record<string, number>;
    serverCpuMs: number;
    pgCpuMs: number;
    simCpuMs: number;
    counters: Counters;
    [k: string]: unknown;
  },
): PipelineFigures {
  const s = r.wallMs / 1000;
  const workerCpu = Object.values(extra.processCpuMs).reduce((a, b) => a + b, 0);
  return {
    name,
    ...extra,
    wallMs: r.wallMs,
    tours: r.tours,
    imageSlots: r.imageSlots,
    downloads: r.downloads,
    resizes: r.resizes,
    toursPerSec: r.tours / s,
    imageSlotsPerSec: r.imageSlots / s,
    resizesPerSec: r.resizes / s,
    p50Ms: percentile(r.latenciesMs, 50),
    p95Ms: percentile(r.latenciesMs, 95),
    workerCpuMsPerTour: r.tours ? workerCpu / r.tours : NaN,
    serverCpuMsPerTour: r.tours ? extra.serverCpuMs / r.tours : NaN,
    pgCpuMsPerTour: r.tours ? extra.pgCpuMs / r.tours : NaN,
  };
}

async function countResized(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query('SELECT count(DISTINCT sha256)::int AS n FROM asset_variants');
  return rows[0].n;
}

async function machine(cli: string) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  return {
    nproc: os.availableParallelism(),
    ramGb: os.totalmem() / 1024 ** 3,
    node: process.version,
    cpu: model,
    kernel: os.release(),
    loadavg: os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' / '),
    sharp: `${sharp.versions.sharp} (libvips ${sharp.versions.vips})`,
    temporal: (await temporalCliVersion(cli).catch(() => cli)).split('\n')[0],
  };
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface SimHandle {
  url: string;
  pid: number;
  operators: OperatorInfo[];
  counters(reset?: boolean): Promise<Counters>;
  change(operator: string, fraction: number): Promise<{ changedTours: number; changedImages: number }>;
  close(): Promise<void>;
}

async function startSim(specs: OperatorSpecInput[]): Promise<SimHandle> {
  const child = fork(path.join(ROOT, 'bench/lib/sim-child.ts'), [JSON.stringify(specs)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ url: string; operators: OperatorInfo[] }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string; operators: OperatorInfo[] }));
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  let next = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  child.on('message', (m: { id?: number; ok?: unknown; error?: string }) => {
    const p = m.id === undefined ? undefined : pending.get(m.id);
    if (!p) return;
    pending.delete(m.id!);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m.ok);
  });
  const call = <T>(req: WithoutId<SimRequest>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...req, id });
    });
  return {
    url: ready.url,
    pid: child.pid!,
    operators: ready.operators,
    counters: (reset) => call<Counters>({ cmd: 'counters', reset }),
    change: (operator, fraction) => call({ cmd: 'change', operator, fraction, replaceImage: true }),
    close: async () => {
      await Promise.race([call({ cmd: 'close' }), new Promise((r) => setTimeout(r, 3000))]);
      await stopChild(child, 3000);
    },
  };
}
