import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

/** How many lines a failure shows: the last lines, and before them the last warnings and errors. */
const TAIL_LINES = 40;
const PROBLEM_LINES = 20;
const MAX_LINE = 400;

/** Bytes each log file under `dir` holds now: where the next test's lines start. */
export type LogMarks = Map<string, number>;

/** The `.log` files under `dir` (two levels: helpers may give a server a folder of its own). */
function logFiles(dir: string, depth = 2): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return depth > 0 ? logFiles(full, depth - 1) : [];
    return e.isFile() && e.name.endsWith('.log') ? [full] : [];
  });
}

/** `shared`: log files outside `dir` that other test files write too (the run's Temporal server). */
export function markLogs(dir: string, shared: string[] = []): LogMarks {
  return new Map([...logFiles(dir), ...shared].map((f) => [f, size(f)]));
}

function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, start: number): string {
  const end = size(file);
  if (end <= start) return '';
  const buf = Buffer.alloc(end - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

const PROBLEM_LEVELS = new Set(['warn', 'error', 'fatal', 40, 50, 60]);
const PROBLEM_WORDS = /\b(warn(ing)?|error|fatal|panic)\b/i;
// Fields the line's prefix shows, or that every line has: in the file, not in a failure's few lines.
const OMITTED = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'sdkComponent']);
const CONTEXT_OMITTED = new Set([
  'namespace',
  'taskQueue',
  'isLocal',
  'activityId',
  'workflowRunId',
  'runId',
]);
// Where a line comes from: after what it says.
const CONTEXT_LAST = ['operatorId', 'workflowType', 'workflowId', 'activityType', 'attempt'];

/** A log line for a person: pino JSON as `12:00:01.234 WARN message key=value …`, anything else as is. */
function formatLine(raw: string): { text: string; problem: boolean } {
  let line: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && 'msg' in parsed) line = parsed as Record<string, unknown>;
  } catch {
    // not JSON: a server's or a process's own format
  }
  if (!line) return { text: clip(raw), problem: PROBLEM_WORDS.test(raw) };
  const time = typeof line['time'] === 'string' ? line['time'].slice(11, 23) : '';
  const level = String(line['level'] ?? '').toUpperCase();
  const fields = Object.entries(line)
    .filter(([k, v]) => !OMITTED.has(k) && !CONTEXT_OMITTED.has(k) && !(k === 'attempt' && v === 1))
    .sort(([a], [b]) => CONTEXT_LAST.indexOf(a) - CONTEXT_LAST.indexOf(b))
    .map(([k, v]) => `${k}=${fieldText(v)}`);
  return {
    text: clip([time, level.padEnd(5), String(line['msg']), ...fields].join(' ').trim()),
    problem: PROBLEM_LEVELS.has(line['level'] as string | number),
  };
}

function fieldText(v: unknown): string {
  // A serialized error: its type and message say enough here; the stack is in the file.
  if (v && typeof v === 'object' && 'message' in v) {
    const e = v as { type?: unknown; message?: unknown };
    return JSON.stringify(`${typeof e.type === 'string' ? `${e.type}: ` : ''}${String(e.message)}`);
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function clip(s: string): string {
  return s.length > MAX_LINE ? `${s.slice(0, MAX_LINE)}…` : s;
}

/** A failure's log lines: a one-line heading, and the lines themselves. */
export interface LogTail {
  heading: string;
  lines: string;
}

/**
 * What the log files under `dir` and the `shared` ones got since `marks` (all of it for a file made
 * since), for a failure to carry. For each file with new lines: its last warnings and errors that are
 * not among its last lines, then its last lines (the budget shared between files). Undefined when
 * nothing was logged.
 */
export function logTail(dir: string, marks: LogMarks, shared: string[] = []): LogTail | undefined {
  const fresh = [...logFiles(dir), ...shared]
    .map((file) => ({
      name: shared.includes(file) ? file : path.relative(dir, file),
      lines: readFrom(file, marks.get(file) ?? 0)
        .split('\n')
        .filter((l) => l.trim() !== ''),
    }))
    .filter((f) => f.lines.length > 0);
  if (!fresh.length) return undefined;
  const tailLines = Math.max(10, Math.floor(TAIL_LINES / fresh.length));
  const problemLines = Math.max(5, Math.floor(PROBLEM_LINES / fresh.length));
  const out: string[] = [];
  for (const { name, lines } of fresh) {
    const formatted = lines.map(formatLine);
    const tail = formatted.slice(-tailLines);
    const problems = formatted.slice(0, -tailLines).filter((l) => l.problem);
    out.push(`== ${name}: ${plural(lines.length, 'line')}`);
    if (problems.length) {
      const shown = problems.slice(-problemLines);
      out.push(`-- warnings and errors before its last lines (last ${shown.length} of ${problems.length}):`);
      out.push(...shown.map((l) => `  ${l.text}`));
    }
    out.push(`-- last ${plural(tail.length, 'line')}:`, ...tail.map((l) => `  ${l.text}`));
  }
  const counts = fresh.map((f) => `${path.basename(f.name)}: ${f.lines.length}`).join(', ');
  return { heading: `lines logged while it ran (${counts}); full logs in ${dir}`, lines: out.join('\n') };
}
