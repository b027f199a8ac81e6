import type { Client } from '@temporalio/client';
import { QUERIES } from '../../constants.js';
import { listOperators, type OperatorRow } from '../../db/operators.js';
import type { Pool } from '../../db/pool.js';
import type { ImportRunRow } from '../../db/runs.js';
import { progressRatio, type Progress } from '../../domain/operator-import.js';
import { withTimeout } from '../timeout.js';
import { html, page, when, type Html } from './html.js';
import { recentRuns, tourCounts } from '../../db/catalog-pages.js';
import { listHeld, type HeldRemoval } from '../../db/removals.js';
import { recentDeliveries } from '../../db/notifications.js';
import { notificationsSection } from './notifications-section.js';

const QUERY_TIMEOUT_MS = 2_000;
const HELD_SHOWN = 50;
const NOTIFICATIONS_SHOWN = 20;
/** While anything imports, the page reloads itself: live enough, and no script to maintain. */
const REFRESH_SECONDS = 5;

export interface OperatorsPageDeps {
  pool: Pool;
  client: Client;
  temporalUiUrl: string;
  namespace: string;
}

type LiveState =
  | { kind: 'idle' }
  | { kind: 'paused'; reason: string | null; progress?: Progress; resumeAt?: Date | null }
  | { kind: 'importing'; workflowId: string; progress?: Progress; note?: string };

export async function renderOperatorsPage(deps: OperatorsPageDeps): Promise<string> {
  const [operators, runs, counts, deliveries] = await Promise.all([
    listOperators(deps.pool),
    recentRuns(deps.pool),
    tourCounts(deps.pool),
    recentDeliveries(deps.pool, { limit: NOTIFICATIONS_SHOWN }),
  ]);
  const states = await Promise.all(operators.map((op) => liveState(deps.client, op)));
  const held = await Promise.all(operators.map((op) => listHeld(deps.pool, op.id, HELD_SHOWN)));
  const ui = (workflowId: string, runId?: string) =>
    `${deps.temporalUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/` +
    `${encodeURIComponent(workflowId)}${runId ? `/${encodeURIComponent(runId)}/history` : ''}`;

  const rows = operators.map((op, i) => {
    const c = counts.get(op.id) ?? { active: 0, removed: 0 };
    return html`<tr data-operator="${op.id}">
      <td>
        <strong>${op.name}</strong>
        <div class="muted">${op.id} · dialect ${op.dialect}</div>
      </td>
      <td class="state">${stateCell(states[i], ui)} ${heldCell(op.id, held[i])}</td>
      <td>
        ${c.active}
        <div class="muted">${c.removed} removed</div>
      </td>
      <td>${runList(runs.get(op.id) ?? [], ui)}</td>
    </tr>`;
  });
  const body = html`<h1>Operators</h1>
    <table class="operators">
      <thead>
        <tr>
          <th>Operator</th>
          <th>State</th>
          <th>Tours</th>
          <th>Last runs</th>
        </tr>
      </thead>
      <tbody>
        ${
          rows.length
            ? rows
            : html`<tr>
                <td colspan="4" class="muted">No operators configured yet.</td>
              </tr>`
        }
      </tbody>
    </table>
    <p class="muted"><a href="/tours">Browse and search all tours →</a></p>
    ${notificationsSection(deliveries)}`;
  const busy = states.some((s) => s.kind === 'importing');
  return page('Operators', body, { refreshSeconds: busy ? REFRESH_SECONDS : undefined });
}

/** Paused wins over importing: a paused import holds its lock but does no work. */
async function liveState(client: Client, op: OperatorRow): Promise<LiveState> {
  const progress = op.runningWorkflowId ? await queryProgress(client, op.runningWorkflowId) : undefined;
  if (op.paused)
    return { kind: 'paused', reason: op.pauseReason, progress: progress?.value, resumeAt: op.resumeAt };
  if (!op.runningWorkflowId) return { kind: 'idle' };
  return {
    kind: 'importing',
    workflowId: op.runningWorkflowId,
    progress: progress?.value,
    note: progress?.error,
  };
}

async function queryProgress(
  client: Client,
  workflowId: string,
): Promise<{ value?: Progress; error?: string }> {
  try {
    const handle = client.workflow.getHandle(workflowId);
    return {
      value: await withTimeout(handle.query<Progress>(QUERIES.progress), QUERY_TIMEOUT_MS, 'progress'),
    };
  } catch (err) {
    // No worker, or the workflow is gone: the page still renders, saying so.
    return { error: `progress unavailable (${(err as Error).message.slice(0, 120)})` };
  }
}

function stateCell(s: LiveState, ui: (wf: string) => string): Html {
  if (s.kind === 'idle') return html`<span class="badge idle">idle</span>`;
  if (s.kind === 'paused')
    return html`<span class="badge paused">paused</span>
      <div class="muted">${s.reason ?? 'no reason given'}</div>
      ${s.resumeAt ? html`<div class="muted">resumes on its own with a probe at ${when(s.resumeAt)}</div>` : ''}
      ${s.progress ? progressBar(s.progress) : ''}`;
  return html`<span class="badge importing">importing</span>
    <a class="muted" href="${ui(s.workflowId)}">${s.workflowId}</a>
    ${s.progress ? progressBar(s.progress) : html`<div class="muted">${s.note}</div>`}`;
}

/** Removals the removal guard held: the tours stay listed until a person decides. */
function heldCell(operatorId: string, held: HeldRemoval[]): Html | string {
  if (!held.length) return '';
  const more = held.length >= HELD_SHOWN ? ' (first shown)' : '';
  return html`<details class="held-removals">
    <summary>${held.length} removals held for review${more}</summary>
    <ul>
      ${held.map((t) => html`<li>${t.externalId} ${t.title ?? ''} <span class="muted">(${t.evidence})</span></li>`)}
    </ul>
    <div class="muted">
      <code>tour-import resume ${operatorId} --apply-removals</code> removes them;
      <code>tour-import resume ${operatorId}</code> keeps the tours.
    </div>
  </details>`;
}

function progressBar(p: Progress): Html {
  const { value: handled, total } = progressRatio(p);
  return html`<div>
    <progress max="${total || 1}" value="${handled}"></progress>
    <span class="muted"
      >${handled}/${total} · ${p.done} imported · ${p.unchanged} unchanged · ${p.failed} failed · ${p.running}
      running</span
    >
  </div>`;
}

function runList(runs: ImportRunRow[], ui: (wf: string, run?: string) => string): Html {
  if (!runs.length) return html`<span class="muted">no runs yet</span>`;
  const items = runs.map((r) => {
    const c = r.counts;
    return html`<li>
      <span class="badge ${r.status === 'completed' ? 'idle' : r.status}">${r.status}</span> ${r.mode} ·
      <a class="run-link" href="${ui(r.workflowId, r.runId)}">${when(r.startedAt)}</a>
      <div class="muted">
        listed ${c.listed ?? 0} · imported ${c.done ?? 0} · unchanged ${c.unchanged ?? 0} · removed
        ${c.removed ?? 0} · failed ${c.failed ?? 0}
      </div>
    </li>`;
  });
  return html`<ul style="margin:0;padding-left:16px">
    ${items}
  </ul>`;
}
