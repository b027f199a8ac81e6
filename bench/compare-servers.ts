/**
 * `npm run bench -- --compare-servers`: the full-import scenario once on each Temporal server — the dev
 * server, then the production server on PostgreSQL — each in a bench run of its own (fresh schema,
 * simulator and server, every other scenario skipped), written side by side into the results file's kept
 * notes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/common.js';
import { SERVER_KINDS, type ServerKind } from './lib/server.js';
import { fmt } from './lib/stats.js';
import { writeKeptSection, type BenchReport } from './report.js';

const OTHER_SCENARIOS =
  'ceiling,legacy,plain,api-calls,delta,scale,scale-out,fairness,split,low-load,many-operators,rss-24mp,floor';

export async function compareServers(o: {
  /** This invocation's arguments, passed on to each run (its own `--server`, `--skip`, `--out` win). */
  args: string[];
  out: string;
  dataDir: string;
  log: (line: string) => void;
}): Promise<void> {
  const dir = path.join(o.dataDir, 'servers');
  mkdirSync(dir, { recursive: true });
  const reports: BenchReport[] = [];
  for (const kind of SERVER_KINDS) {
    o.log(`compare servers: full import on the ${kind} server`);
    const json = path.join(dir, `${kind}.json`);
    const args = o.args.filter((a) => a !== '--compare-servers');
    await run([
      ...args,
      ...['--server', kind, '--skip', OTHER_SCENARIOS],
      ...['--out', path.join(dir, `RESULTS-${kind}.md`), '--report-json', json],
    ]);
    reports.push(JSON.parse(readFileSync(json, 'utf8')) as BenchReport);
  }
  writeKeptSection(o.out, 'servers', render(reports));
  o.log(`compare servers: written to ${o.out} (each run's own results: ${dir})`);
}

function run(args: string[]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/main.ts'), ...args], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench run exited with ${code}`)))),
  );
}

function render(reports: BenchReport[]): string[] {
  const [first] = reports;
  const m = first.machine;
  const s = first.size;
  const row = (r: BenchReport, kind: ServerKind) => {
    const f = r.tourImport!;
    const workers = Object.values(f.processCpuMs).reduce((a, b) => a + b, 0) / f.tours;
    return (
      `| ${kind}: ${r.server} | ${f.tours} | ${fmt(f.wallMs / 1000, 1)} s | **${fmt(f.toursPerSec)}** | ` +
      `${fmt(f.p50Ms, 0)} / ${fmt(f.p95Ms, 0)} ms | **${fmt(f.serverCpuMsPerTour, 1)} ms** | ` +
      `${fmt(f.pgCpuMsPerTour, 1)} ms | ${fmt(f.serverCpuMsPerTour + f.pgCpuMsPerTour, 1)} ms | ${fmt(workers, 1)} ms |`
    );
  };
  const [dev, prod] = reports.map((r) => r.tourImport!);
  return [
    '## Dev server vs production server (one full import on each)',
    '',
    `\`npm run bench -- --compare-servers\` on ${first.runId.slice(0, 10)}: runs \`${reports.map((r) => r.runId).join('` and `')}\`. ` +
      `${m.cpu}, ${m.nproc} cores shared by everything below, ${fmt(Number(m.ramGb), 1)} GB; Node ${m.node}. ` +
      `The same catalog on each (${s.tours} tours × ${s.images} images of ${s.imageWidth}×${s.imageHeight}, ` +
      `${s.apiMs} ms per API call, ${s.imageMs} ms per image, window ${s.window}), one after the other, each ` +
      `on a fresh schema, simulator and server with the product's worker processes and default knobs. Load ` +
      `average: ${reports.map((r) => r.machine.loadavg).join('; then ')}.`,
    '',
    '| server | tours | wall | tours/s | p50 / p95 per tour | Temporal server CPU / tour | PostgreSQL CPU / tour | server + PostgreSQL | workers CPU / tour |',
    '|---|---|---|---|---|---|---|---|---|',
    ...reports.map((r, i) => row(r, SERVER_KINDS[i])),
    '',
    `Production ÷ dev: tours/s ×${fmt(prod.toursPerSec / dev.toursPerSec, 2)}, p50 per tour ` +
      `×${fmt(prod.p50Ms / dev.p50Ms, 2)}, server + PostgreSQL CPU per tour ` +
      `×${fmt((prod.serverCpuMsPerTour + prod.pgCpuMsPerTour) / (dev.serverCpuMsPerTour + dev.pgCpuMsPerTour), 2)}. ` +
      'PostgreSQL CPU is every `postgres` process over the import: the product’s tables on both servers, and ' +
      "on the production server also Temporal's own persistence and visibility, which the dev server keeps " +
      'in SQLite inside its own process. Per-tour latency is ImportTour start to close (visibility).',
    '',
  ];
}
