/**
 * The bench's command line (`npm run bench -- --help`) and the sizes it derives from it: every default
 * that differs between a full run and `--smoke` is decided here, once.
 */
import { Command, Option } from 'commander';
import { PRODUCT_DYNAMIC_CONFIG } from '../tooling/servers/dev-server.js';
import { SERVER_KINDS, type ServerKind } from './lib/server.js';

/** The scenarios `--skip` names, in the order they run. */
const SCENARIOS = [
  'ceiling',
  'legacy',
  'plain',
  'floor',
  'low-load',
  'many-operators',
  'rss-24mp',
  'api-calls',
  'delta',
  'scale',
  'scale-out',
  'fairness',
  'split',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

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
  .option('--skip <list>', `comma-separated scenarios to skip (${SCENARIOS.join(',')})`, '')
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
  .option('--out <file>', 'results file (default bench/RESULTS.md; smoke: data/bench/RESULTS-smoke.md)');

/** The options as commander gives them. */
export interface CommandLine {
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
}

export type BenchSize = ReturnType<typeof sizeFor>;

/** A run's options with every size decided. */
export interface BenchOptions {
  cli: CommandLine;
  smoke: boolean;
  size: BenchSize;
  /** Tours the sequential legacy baseline processes (a prefix of the catalog). */
  legacyTours: number;
  /** The product's server settings (none with --default-server), plus any given with --server-config. */
  serverDynamicConfig: string[];
  skip: Set<Scenario>;
}

/** Reads the command line; exits with a message where two options contradict each other. */
export function parseOptions(): BenchOptions {
  const cli = program.parse().opts<CommandLine>();
  if (cli.server === 'production' && (cli.defaultServer || cli.serverConfig))
    program.error(
      '--default-server and --server-config set the dev server; the production server reads config/temporal-dynamic-config.yaml',
    );
  const smoke = Boolean(cli.smoke);
  const size = sizeFor(cli, smoke);
  return {
    cli,
    smoke,
    size,
    legacyTours: Math.min(size.tours, cli.legacyTours ?? (smoke ? 20 : 60)),
    serverDynamicConfig: [...(cli.defaultServer ? [] : PRODUCT_DYNAMIC_CONFIG), ...(cli.serverConfig ?? [])],
    skip: skipped(cli.skip),
  };
}

/** The scenarios `--skip` names; a name that is none of them is refused rather than ignored. */
function skipped(list: string): Set<Scenario> {
  const names = list.split(',').filter(Boolean);
  const unknown = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
  if (unknown.length)
    program.error(`--skip: no scenario named ${unknown.join(', ')} (${SCENARIOS.join(', ')})`);
  return new Set(names as Scenario[]);
}

function sizeFor(o: CommandLine, smoke: boolean) {
  const [imageWidth, imageHeight] = o.imageSize.split('x').map(Number);
  return {
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
}

/** True when no image-worker knob was given: the image worker sizes itself. */
export const imageWorkerDefaults = (o: CommandLine) =>
  !(o.imageSlots || o.imageResizes || o.uvThreads || o.sharpConcurrency || o.mallocArenaMax);
