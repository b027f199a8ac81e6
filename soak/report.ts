import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { InvariantResult } from './checker/index.js';
import { describeFault, FAULT_KINDS, type FaultEvent } from './fault-plan.js';
import { injectedByKind, type InjectedFault } from './faults.js';
import type { ExitReport } from './processes.js';

/** What the soak prints: progress lines with the time since it began, and the final tables. */
export function progressPrinter(t0: number): (line: string) => void {
  return (line) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`);
}

export interface SoakSummary {
  seed: number;
  minutes: number;
  runDir: string;
  workloadMs: number;
  totalMs: number;
  plan: FaultEvent[];
  injected: InjectedFault[];
  workload: Record<string, Record<string, number> | number>;
  unexpectedExits: ExitReport[];
  results: InvariantResult[];
  evidence: Record<string, unknown>;
}

const ROWS_SHOWN = 20;

export function printSummary(s: SoakSummary): void {
  const byKind = injectedByKind(s.injected);
  console.log(
    `\nSoak seed ${s.seed}: ${(s.workloadMs / 60_000).toFixed(1)} minutes of workload under faults, ${(s.totalMs / 60_000).toFixed(1)} minutes in all`,
  );
  console.log('\nFaults injected');
  console.table(
    FAULT_KINDS.map((kind) => {
      const back = s.injected
        .filter((i) => i.event.kind === kind && i.backInMs !== undefined)
        .map((i) => i.backInMs!);
      return {
        kind,
        injected: byKind[kind],
        'back within (max s)': back.length ? (Math.max(...back) / 1000).toFixed(1) : '',
        'failed to apply': s.injected.filter((i) => i.event.kind === kind && i.error).length || '',
      };
    }),
  );
  console.log('Workload');
  for (const [what, value] of Object.entries(s.workload))
    console.log(
      `  ${what}: ${
        typeof value === 'number'
          ? value
          : Object.entries(value)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ') || 'none'
      }`,
    );
  if (s.unexpectedExits.length)
    console.log(
      `Exits the soak did not cause: ${s.unexpectedExits.map((e) => `${e.name} (${e.code ?? e.signal})`).join(', ')}`,
    );
  console.log('\nInvariants');
  for (const r of s.results)
    console.log(
      `  ${r.passed ? 'PASS' : 'FAIL'}  ${r.name} (${r.checked}${r.passed ? '' : `; ${r.rows.length} broke it`})`,
    );
  const failed = s.results.filter((r) => !r.passed);
  if (failed.length) printFailures(s, failed);
  console.log(`\n${s.results.length - failed.length} passed, ${failed.length} failed`);
  console.log(`Run folder: ${s.runDir} (logs/, results.json)`);
}

function printFailures(s: SoakSummary, failed: InvariantResult[]): void {
  console.log(
    `\nFailed with seed ${s.seed} (npm run soak -- --minutes ${s.minutes} --seed ${s.seed}); the fault schedule:`,
  );
  for (const e of s.plan) console.log(`  ${describeFault(e)}`);
  for (const r of failed) {
    console.log(
      `\nFAIL ${r.name}: ${r.rows.length} rows${r.rows.length > ROWS_SHOWN ? ` (first ${ROWS_SHOWN}; all in results.json)` : ''}`,
    );
    for (const row of r.rows.slice(0, ROWS_SHOWN)) console.log(`  ${JSON.stringify(row)}`);
  }
}

/** Everything, rows and all, for whoever looks into a failure later. */
export function writeResults(s: SoakSummary): void {
  writeFileSync(path.join(s.runDir, 'results.json'), JSON.stringify(s, null, 2));
}
