import type { DryRunReport } from '../activities/operator-import/index.js';
import type { ImportOperatorResult } from '../workflows/types.js';
import { table } from './format.js';

/** A dry run's report as a table: what an import would do, with a few examples of each. */
export function dryRunText(r: ImportOperatorResult & { workflowId: string }): string {
  const d = r.dryRun;
  if (!d) return `${r.workflowId} ${r.status}: ${r.message}`;
  const examples = (xs: string[], count: number) => (xs.length < count ? xs : [...xs, '…']).join(', ');
  const row = (what: string, c: DryRunReport['added']) => [what, c.count, examples(c.examples, c.count)];
  const listing = d.fullListing ? 'a full listing' : 'a delta listing';
  const held = d.removalsHeld ? `\nThe removal guard would hold the removals: ${d.removalsReason}` : '';
  return [
    `Dry run of ${d.operatorId}, ${listing}: ${d.pages} page(s), ${d.listed} listed; nothing was written.`,
    table(
      ['would', 'tours', 'examples'],
      [
        row('add', d.added),
        row('change', d.changed),
        ['leave unchanged', d.unchanged, ''],
        row('remove', d.removed),
        row('record as invalid', d.invalid),
        row('fail to fetch', d.failed),
        row('download (new images)', d.newImages),
        ...(d.imageRetries ? [['retry images of', d.imageRetries, '']] : []),
      ],
    ) + held,
    `workflow ${r.workflowId}`,
  ].join('\n');
}
