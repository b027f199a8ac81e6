/**
 * The simulator's catalogs: one per scenario that needs its own (distinct seeds, so that none shares
 * photos with another), the operators file that names them, and their images fetched once before any
 * scenario is measured, so that no scenario pays for the simulator painting them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import type pg from 'pg';
import type { OperatorAdapter } from '../../src/operators/types.js';
import { syncOperators } from '../../src/operators/resolver.js';
import type { OperatorSpecInput } from '../../tooling/simulator/types.js';
import { LOW_LOAD_OPERATOR, lowLoadSize } from '../low-load.js';
import { manyOperatorIds } from '../many-operators.js';
import type { BenchOptions, BenchSize } from '../options.js';
import { RSS_24MP, rss24mpSize } from '../rss-24mp.js';
import { API_CALL_DIALECTS, apiCallsOperatorId } from '../api-calls.js';
import { benchAdapter, operatorsYaml, parseOps } from './common.js';
import type { Cleanups, Log } from './harness.js';
import { imageCacheDir, startSim } from './sim.js';

/** The bench catalog as an import lists it, and its distinct images on disk (the ceiling's input). */
export interface BenchCatalog {
  tours: number;
  imageSlots: number;
  urls: Set<string>;
  imageDir: string;
  sourceBytes: number;
}

/** The simulator, the operators file for its catalogs, and those operators synced into the schema. */
export async function startSimulator(o: {
  options: BenchOptions;
  pool: pg.Pool;
  dataDir: string;
  log: Log;
  cleanups: Cleanups;
}) {
  const imageCache = imageCacheDir();
  const sim = await startSim(catalogSpecs(o.options), imageCache);
  o.cleanups.add(() => sim.close());
  const yaml = operatorsYaml(sim.operators, o.options.size.window);
  const operatorsFile = path.join(o.dataDir, 'operators.yaml');
  writeFileSync(operatorsFile, yaml);
  const configs = parseOps(yaml);
  await syncOperators(o.pool, configs);
  const apiKey = (id: string) => sim.operators.find((x) => x.id === id)!.credentials.apiKey;
  o.log(`simulator behind counting proxy at ${sim.url}; painted images cached in ${imageCache}`);
  return { sim, yaml, operatorsFile, configs, apiKey };
}

type Simulator = Awaited<ReturnType<typeof startSimulator>>;

/** An adapter for operator `id` as the baselines use it. */
export const adapterFor = (s: Omit<Simulator, 'sim'>, id: string) =>
  benchAdapter(
    s.configs.find((c) => c.id === id)!,
    s.apiKey(id),
  );

type Spec = (
  id: string,
  seed: string,
  tourCount: number,
  images: number,
  more?: Partial<OperatorSpecInput>,
) => OperatorSpecInput;

/**
 * A catalog with the run's latencies, of dialect A with the run's image size unless `more` says
 * otherwise; `seed` decides its contents.
 */
const specWith =
  (size: BenchSize): Spec =>
  (id, seed, tourCount, images, more = {}) => ({
    id,
    dialect: 'A',
    seed,
    tourCount,
    imagesPerTour: { min: images, max: images },
    imageWidth: size.imageWidth,
    imageHeight: size.imageHeight,
    latency: { apiMs: size.apiMs, imageMs: size.imageMs, jitterMs: 0 },
    ...more,
  });

/** Every catalog the run's scenarios import (none for a skipped scenario that has its own). */
function catalogSpecs(options: BenchOptions): OperatorSpecInput[] {
  const spec = specWith(options.size);
  return [
    ...importCatalogs(spec, options),
    ...fairnessCatalogs(spec, options),
    ...issue17Catalogs(spec, options),
  ];
}

/** The bench catalog, the delta and scale catalogs, and one per dialect for the API calls. */
function importCatalogs(spec: Spec, { size, skip }: BenchOptions): OperatorSpecInput[] {
  return [
    spec('bench', 'bench', size.tours, size.images),
    // The second delta catalog (10,000 tours): imported in full, then 1 % changed. Without images by
    // default (with them its full import takes about half an hour here): the full import is then as short
    // as it gets, the hard case for delta time ÷ full time.
    spec('delta', 'delta', size.deltaTours, size.deltaImages),
    spec('scale', 'scale', size.scaleTours, 0),
    // One catalog per dialect to count API calls: one small image per tour, so that images are counted
    // while resizing them costs the run next to nothing.
    ...(skip.has('api-calls')
      ? []
      : API_CALL_DIALECTS.map((dialect) =>
          spec(apiCallsOperatorId(dialect), 'calls', size.callsTours, 1, {
            dialect,
            imageWidth: 320,
            imageHeight: 213,
          }),
        )),
  ];
}

/**
 * Fairness: one big and one small operator per server setting (fairness off / on); the small one
 * twice (alone, then together with the big one), so each measurement imports a fresh catalog.
 */
function fairnessCatalogs(spec: Spec, { size, skip }: BenchOptions): OperatorSpecInput[] {
  if (skip.has('fairness')) return [];
  const fairSpec = (id: string, seed: string, tourCount: number) =>
    spec(id, seed, tourCount, size.fairImages);
  return ['off', 'on'].flatMap((f) => [
    fairSpec(`big-${f}`, 'big', size.fairBig),
    ...Array.from({ length: size.fairRepeat }, (_, i) => [
      fairSpec(`small-${f}-alone-${i}`, 'small', size.fairSmall),
      fairSpec(`small-${f}-together-${i}`, 'small', size.fairSmall),
    ]).flat(),
  ]);
}

/** The issue 17 scenarios' catalogs: distinct seeds, so none shares photos with another catalog. */
function issue17Catalogs(spec: Spec, { size, skip, smoke }: BenchOptions): OperatorSpecInput[] {
  const low = lowLoadSize(smoke);
  const rss = rss24mpSize(smoke);
  return [
    ...(skip.has('low-load') ? [] : [spec(LOW_LOAD_OPERATOR, 'low-load', low.tours, low.images)]),
    ...(skip.has('many-operators')
      ? []
      : manyOperatorIds(size.manyOperators).map((id) => spec(id, id, size.manyTours, size.images))),
    ...(skip.has('rss-24mp')
      ? []
      : [
          spec(RSS_24MP.operator, 'rss-24mp', rss.tours, rss.images, {
            imageWidth: rss.width,
            imageHeight: rss.height,
          }),
        ]),
  ];
}

/** The bench catalog's images, downloaded once into the run's folder (also warms the simulator's cache). */
export async function downloadCatalog(s: Simulator, dataDir: string): Promise<BenchCatalog> {
  const { tours, imageSlots, urls } = await listImages(adapterFor(s, 'bench'), Infinity);
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
  return { tours, imageSlots, urls, imageDir, sourceBytes };
}

/**
 * The other catalogs' images too, where they have any (otherwise the simulator paints them while the
 * imports run and the scenario measures its CPU): the fairness big import's first tours (as many as it
 * can reach while the small one is measured) and one copy of the small catalog (copies share photos).
 */
export async function warmOtherCatalogs(s: Simulator, { skip, size }: BenchOptions, log: Log): Promise<void> {
  const dl = pLimit(16);
  const warm = async (id: string, maxTours = Infinity) => {
    const { urls } = await listImages(adapterFor(s, id), maxTours);
    await Promise.all([...urls].map((u) => dl(async () => void (await (await fetch(u)).arrayBuffer()))));
    return urls.size;
  };
  const started = performance.now();
  const ids = s.sim.operators
    .map((x) => x.id)
    .filter((id) => id === LOW_LOAD_OPERATOR || id === RSS_24MP.operator || id.startsWith('many-'));
  let warmed = (await Promise.all(ids.map((id) => warm(id)))).reduce((a, b) => a + b, 0);
  if (!skip.has('fairness') && size.fairImages > 0)
    warmed += (await warm('big-on', size.fairWarmTours)) + (await warm('small-on-alone-0', size.fairSmall));
  log(
    `${warmed} more images painted or read from the cache in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
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
