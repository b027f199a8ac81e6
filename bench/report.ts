/** Turns one run's figures into bench/RESULTS.md. Text after the NOTES marker is kept across runs. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ApiCallFigures } from './api-calls.js';
import type { CeilingProbe } from './ceiling.js';
import type { FloorFigures } from './floor.js';
import type { Counters } from './lib/sim-child.js';
import type { LowLoadFigures } from './low-load.js';
import type { ManyOperatorsFigures } from './many-operators.js';
import type { RepeatRun } from './repeat.js';
import { ratiosSection } from './report-ratios.js';
import { ceilingProbesSection, runSections, throughputSection } from './report-run.js';
import {
  apiCallsSection,
  deltaSections,
  fairnessSection,
  fullImportNote,
  notYetMeasured,
  scaleOutSection,
  scaleSection,
  splitSection,
} from './report-scenarios.js';
import { issue17Sections } from './report-sections.js';
import type { Rss24mpFigures } from './rss-24mp.js';

export interface PipelineFigures {
  name: string;
  wallMs: number;
  tours: number;
  imageSlots: number;
  downloads: number;
  resizes: number;
  toursPerSec: number;
  imageSlotsPerSec: number;
  resizesPerSec: number;
  p50Ms: number;
  p95Ms: number;
  workerCpuMsPerTour: number;
  serverCpuMsPerTour: number;
  pgCpuMsPerTour: number;
  processCpuMs: Record<string, number>;
  peakRssMb: Record<string, number>;
  serverCpuMs: number;
  pgCpuMs: number;
  simCpuMs: number;
  counters: Counters;
  children?: number;
  listed?: number;
  unchanged?: number;
  runs?: { runId: string; events: number; bytes: number }[];
  timeline?: ImportTimeline;
  childPhases?: ChildTimings;
  [k: string]: unknown;
}

/** Per-child phases of a small import (milliseconds, p50 and p95 over its children). */
export interface ChildTimings {
  firstTaskWait: { p50: number; p95: number };
  firstTaskRun: { p50: number; p95: number };
  /** The first activity (a tour's images): scheduled to started, started to completed. */
  activityWait?: { p50: number; p95: number };
  activityRun?: { p50: number; p95: number };
  /** That activity's completion to the child's close (a workflow task). */
  afterActivity?: { p50: number; p95: number };
  total: { p50: number; p95: number };
}

/** An import's time outside its tours, from the parent's history. */
export interface ImportTimeline {
  beforeFirstChildMs: number;
  afterLastChildMs: number;
  totalMs: number;
}

export interface BenchReport {
  runId: string;
  smoke: boolean;
  /** The Temporal server the scenarios ran on (`--server`); unset in reports from before the flag. */
  server?: string;
  size: Record<string, number>;
  machine: Record<string, string | number>;
  catalog: { tours: number; imageSlots: number; distinctImages: number; avgSourceKb: number };
  knobs: Record<string, string | number>;
  ceiling?: { probes: CeilingProbe[]; best: CeilingProbe };
  legacy?: PipelineFigures;
  plain?: PipelineFigures;
  tourImport?: PipelineFigures;
  /** Operator API calls of a full import of a small catalog of each dialect. */
  apiCalls?: ApiCallFigures[];
  delta?: DeltaFigures;
  /** The second delta catalog (`--delta-tours`): its full import, then the delta after 1 % changed. */
  deltaCatalog?: { full: PipelineFigures; delta: DeltaFigures };
  scale?: PipelineFigures & { pageSize: number };
  /** `single` is the one-process-per-kind full import of the same run, the scale-out's baseline. */
  scaleOut?: PipelineFigures & { check: ScaleOutCheck; problems: string[]; single: PipelineFigures };
  /** Set when scenarios 1-6 come from an earlier run (`--merge-from`). */
  merged?: { from: string; scenarios: string[]; runId: string; loadavg: string };
  fairness?: { bigTours: number; smallTours: number; images: number; phases: FairnessPhase[] };
  /** The image worker on a core of its own (`imageCpu`), all else on `restCpus`; ceiling and plain on that core. */
  split?: {
    imageCpu: string;
    restCpus: string;
    ceiling: { probes: CeilingProbe[]; best: CeilingProbe };
    plain: PipelineFigures;
    tourImport: PipelineFigures;
  };
  /** `--repeat N`: scenarios 1-4 of every run (the first is the one the tables show). */
  repeats?: RepeatRun[];
  lowLoad?: LowLoadFigures;
  manyOperators?: ManyOperatorsFigures;
  rss24mp?: Rss24mpFigures;
  floor?: FloorFigures;
}

export type DeltaFigures = PipelineFigures & { changedTours: number; changedImages: number };

/** What the scale-out scenario counted to show that no tour or image was done twice and none was lost. */
export interface ScaleOutCheck {
  catalogTours: number;
  tourRows: number;
  done: number;
  failed: number;
  childExecutions: number;
  distinctChildIds: number;
  imageSlots: number;
  assetRows: number;
  readyAssets: number;
  distinctSha: number;
  variantRows: number;
  variantShas: number;
  originals: number;
  downloads: number;
  distinctImages: number;
  /** "tour persisted" log lines per worker process (tour-import: persistTour; image-processing: importTourImages). */
  persistedBy: Record<string, number>;
}

/** The small operator's import alone and while the big one runs, on a server with fairness off or on. */
export interface FairnessPhase {
  setting: 'off' | 'on';
  /** Medians of `aloneRunsMs` and `togetherRunsMs`. */
  aloneMs: number;
  togetherMs: number;
  ratio: number;
  aloneRunsMs?: number[];
  togetherRunsMs?: number[];
  aloneP95Ms: number;
  togetherP95Ms: number;
  bigToursPerSecDuring: number;
  bigStillRunning: boolean;
  /** `makeRoom` signals the big import received (one per small import that asked it to make room). */
  roomRequests?: number;
  alone: PipelineFigures;
  together: PipelineFigures;
}

/** An earlier run's scenarios 1-6 with this run's scale-out and fairness (each compared within its own run). */
export function mergeReports(old: BenchReport, now: BenchReport): BenchReport {
  const added = (['apiCalls', 'scaleOut', 'fairness', 'split'] as const).filter((k) => now[k]);
  const label = { apiCalls: 'api-calls', scaleOut: 'scale-out', fairness: 'fairness', split: 'split' };
  return {
    ...old,
    // Counts, not timings: the earlier run's stand when this run did not count them.
    apiCalls: now.apiCalls ?? old.apiCalls,
    scaleOut: now.scaleOut,
    fairness: now.fairness,
    split: now.split,
    merged: {
      from: old.runId,
      scenarios: added.map((k) => label[k]),
      runId: now.runId,
      loadavg: String(now.machine.loadavg),
    },
  };
}

const NOTES_MARKER = '<!-- notes: everything below this line is kept when the bench rewrites this file -->';

/**
 * Puts `lines` into the kept notes of a results file (below NOTES_MARKER) as the section `id`, in place
 * of that section's earlier text: full runs rewrite everything above the marker and keep it.
 */
export function writeKeptSection(file: string, id: string, lines: string[]): void {
  const [begin, end] = [`<!-- ${id}: begin -->`, `<!-- ${id}: end -->`];
  const section = [begin, ...lines, end].join('\n');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (!text.includes(NOTES_MARKER)) text = `${text.trimEnd()}\n\n${NOTES_MARKER}\n`;
  const [at, to] = [text.indexOf(begin), text.indexOf(end)];
  text =
    at >= 0 && to > at
      ? `${text.slice(0, at)}${section}${text.slice(to + end.length)}`
      : `${text.slice(0, text.indexOf(NOTES_MARKER) + NOTES_MARKER.length)}\n\n${section}\n${text.slice(text.indexOf(NOTES_MARKER) + NOTES_MARKER.length)}`;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${text.trimEnd()}\n`);
}

export function writeResults(file: string, r: BenchReport): void {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const notes = previous.includes(NOTES_MARKER)
    ? previous.slice(previous.indexOf(NOTES_MARKER))
    : NOTES_MARKER;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${render(r)}\n${notes.trimEnd()}\n`);
}

/** The results file above the kept notes: one section after another, each empty when its scenario did not run. */
function render(r: BenchReport): string {
  return [
    ...runSections(r),
    ...throughputSection(r),
    ...ceilingProbesSection(r),
    ...ratiosSection(r),
    ...(r.apiCalls ? [...apiCallsSection(r.apiCalls), ''] : []),
    ...deltaSections(r),
    ...scaleSection(r),
    ...fullImportNote(r),
    ...scaleOutSection(r),
    ...splitSection(r),
    ...fairnessSection(r),
    ...issue17Sections(r),
    ...notYetMeasured(r),
  ].join('\n');
}
