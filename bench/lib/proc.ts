/** Process statistics from /proc (Linux): CPU time and peak RSS of a process and its descendants. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const CLK_TCK = 100;

interface Stat {
  pid: number;
  ppid: number;
  comm: string;
  cpuMs: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' ');
    // fields after comm: state(0) ppid(1) … utime(11) stime(12)
    return { pid, ppid: Number(f[1]), comm, cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK };
  } catch {
    return undefined;
  }
}

function allStats(): Stat[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readStat(Number(d)))
    .filter((s): s is Stat => s !== undefined);
}

/** The pid and all its descendants. */
export function tree(root: number): number[] {
  const stats = allStats();
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const s of stats) if (s.ppid === out[i]) out.push(s.pid);
  return out;
}

export function treeCpuMs(root: number): number {
  return tree(root).reduce((sum, pid) => sum + (readStat(pid)?.cpuMs ?? 0), 0);
}

/** CPU of every process with this command name (e.g. all PostgreSQL backends). */
export function commCpuMs(comm: string): number {
  return allStats()
    .filter((s) => s.comm === comm)
    .reduce((sum, s) => sum + s.cpuMs, 0);
}

/** Every process with this command name. */
export function commPids(comm: string): number[] {
  return allStats()
    .filter((s) => s.comm === comm)
    .map((s) => s.pid);
}

/** Whether `taskset` (util-linux) is here to pin processes to CPUs. */
export function canPinCpus(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Lets every thread of these processes run only on `cpus` (a taskset list, e.g. "0" or "0-1"); children
 * they start later inherit it. Processes gone meanwhile are skipped.
 */
export function pinCpus(pids: readonly number[], cpus: string): void {
  for (const pid of pids) {
    try {
      execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', cpus, String(pid)], { stdio: 'ignore' });
    } catch {
      // exited meanwhile
    }
  }
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Largest peak RSS (VmHWM) of any one process in the tree, in MB. */
export function treePeakRssMb(root: number): number {
  return Math.max(0, ...tree(root).map((pid) => statusKb(pid, 'VmHWM'))) / 1024;
}

/** Resets VmHWM of every process in the tree (writes 5 to clear_refs), so the peak covers one scenario. */
export function resetPeakRss(root: number): void {
  for (const pid of tree(root)) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // not ours or gone: the peak then includes start-up
    }
  }
}

/** The machine's CPU time so far (/proc/stat, all cores, in ticks): busy and in all. */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total }; // idle and iowait are not busy
}

/** Starts measuring the whole machine's busy share (every process, ours or not); call the result to read it. */
export function busyShare(): () => number {
  const t0 = machineTicks();
  return () => {
    const t1 = machineTicks();
    return (t1.busy - t0.busy) / Math.max(1, t1.total - t0.total);
  };
}
