import type { DeliveryRow } from '../db/notifications.js';
import type { ImportRunRow } from '../db/runs.js';
import type { CheckReport } from '../operations/check.js';
import type { Progress } from '../workflows/types.js';
import type { HeldRemovals, OperatorStatus } from './commands/status.js';

/** Plain aligned columns: readable in a terminal, and greppable. */
export function table(header: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function when(d: Date | string | null | undefined): string {
  if (!d) return '-';
  return new Date(d)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

function countsText(c: Partial<ImportRunRow['counts']>): string {
  return `listed ${c.listed ?? 0}, imported ${c.done ?? 0}, unchanged ${c.unchanged ?? 0}, removed ${c.removed ?? 0}, failed ${c.failed ?? 0}`;
}

function progressText(p: Progress): string {
  return `${p.status}: ${countsText(p)}, running ${p.running}, queued ${p.queued}`;
}

export function runsTable(runs: ImportRunRow[]): string {
  if (!runs.length) return '(no import runs yet)';
  return table(
    ['started', 'mode', 'status', 'counts', 'workflow'],
    runs.map((r) => [when(r.startedAt), r.mode, r.status, countsText(r.counts), r.workflowId]),
  );
}

function heldRemovalsText(operatorId: string, h: HeldRemovals): string[] {
  const more = h.count > h.tours.length ? ` (first ${h.tours.length} shown)` : '';
  return [
    `  held removals: ${h.count} tours${more}`,
    ...h.tours.map((t) => `    ${t.externalId} ${t.title ?? ''} (${t.evidence})`),
    `  \`tour-import resume ${operatorId} --apply-removals\` removes them; \`tour-import resume ${operatorId}\` keeps them` +
      (h.discardIsFinal
        ? ' for good (the operator does not send its tombstones again)'
        : ' (the next full import finds them missing again)'),
  ];
}

export function statusText(s: OperatorStatus): string {
  const lines = [`${s.id} (${s.name}, dialect ${s.dialect}): ${s.state}`];
  if (s.state === 'paused')
    lines.push(`  paused since ${when(s.pausedAt)}: ${s.pauseReason ?? 'no reason given'}`);
  if (s.state === 'paused' && s.pausedBy) lines.push(`  paused by: ${s.pausedBy}`);
  if (s.state === 'paused' && s.resumeAt)
    lines.push(`  resumes on its own with a probe at ${when(s.resumeAt)}`);
  for (const e of s.state === 'paused' ? s.lastErrors : []) lines.push(`  last error: ${e}`);
  if (s.heldRemovals) lines.push(...heldRemovalsText(s.id, s.heldRemovals));
  if (s.runningWorkflowId) {
    lines.push(`  running import: ${s.runningWorkflowId}`);
    lines.push(
      `  progress: ${s.progress ? progressText(s.progress) : 'unknown (no answer from its workflow)'}`,
    );
  }
  lines.push(
    ...runsTable(s.lastRuns)
      .split('\n')
      .map((l) => `  ${l}`),
  );
  if (s.notifications.length)
    lines.push(
      ...notificationsTable(s.notifications)
        .split('\n')
        .map((l) => `  ${l}`),
    );
  return lines.join('\n');
}

function notificationsTable(rows: DeliveryRow[]): string {
  return table(
    ['notified', 'event', 'sink', 'delivery', 'error'],
    rows.map((d) => [
      when(d.updatedAt),
      d.event,
      d.sink,
      `${d.status} (${d.attempts} attempts)`,
      d.lastError,
    ]),
  );
}

const CHECK_STEPS = ['auth', 'listing', 'mapping', 'delta', 'images', 'rateLimit'] as const;

/** `tour-import check`: the verdict, one row per step, then the pages, invalid tours and images seen. */
export function checkText(r: CheckReport): string {
  const failedSteps = CHECK_STEPS.filter((s) => r.steps[s].status === 'failed');
  const verdict = r.importable
    ? 'can be imported'
    : r.failed
      ? `cannot be imported: ${failedSteps.join(' and ')} failed`
      : "not decided: the check's deadline passed";
  const { listing, mapping, images } = r.steps;
  const sections = [
    `${r.operatorId} (dialect ${r.dialect}, ${r.baseUrl}): ${verdict}`,
    table(
      ['step', 'status', 'details'],
      CHECK_STEPS.map((s) => [s, r.steps[s].status, r.steps[s].message]),
    ),
  ];
  if (listing.pages.length)
    sections.push(
      table(
        ['page', 'entries', 'ms'],
        listing.pages.map((p) => [p.page, p.entries, p.ms]),
      ),
    );
  if (mapping.invalidTours.length)
    sections.push(
      table(
        ['invalid tour', 'field', 'reason'],
        mapping.invalidTours.map((t) => [t.externalId, t.field, t.reason]),
      ),
    );
  if (images.sampled.length)
    sections.push(
      table(
        ['image', 'tour', 'result', 'content type', 'bytes', 'pixels'],
        images.sampled.map((i) => [
          i.url,
          i.externalId,
          i.ok ? 'ok' : i.refusedBy,
          i.contentType,
          i.bytes,
          i.width === null ? null : `${i.width}×${i.height} ${i.format}`,
        ]),
      ),
    );
  return sections.join('\n\n');
}
