import type { ReceivedNotification } from '../notifications.js';
import type { PersonAction } from '../person.js';
import { verdict, type InvariantResult } from './types.js';

/** The notifications the team's endpoint received, held against what happened. */

/** A resume the API sends is in before the API answers; one the running import sends, within seconds. */
const TOLD_WITHIN_MS = 10_000;

/** Each notification once, in the order received (the same webhook-id twice is one notification retried). */
const distinct = (received: readonly ReceivedNotification[]) =>
  [...new Map(received.map((n) => [n.webhookId, n])).values()].sort((a, b) => a.receivedAt - b.receivedAt);

/**
 * No notification went out twice under different dedup keys (the webhook-id is one per sink and key).
 * "The same notification": a pause told again in the same words with no resume between (pause reasons
 * name their pause); a person's resume told again when the person resumed once in between; an import's
 * failure, cancellation or failing-runs alert told twice for one import; one stuck delta mark told twice.
 */
export function notificationsOnce(
  received: readonly ReceivedNotification[],
  actions: readonly PersonAction[],
): InvariantResult {
  const once = distinct(received);
  const rows: Record<string, unknown>[] = [];
  const twice = (a: ReceivedNotification, b: ReceivedNotification) =>
    rows.push({
      operatorId: b.operatorId,
      event: b.event,
      message: b.message.slice(0, 160),
      webhookIds: `${a.webhookId} ${b.webhookId}`,
      problem: 'told twice under different dedup keys',
    });
  const resumesBetween = (a: ReceivedNotification, b: ReceivedNotification) =>
    actions.filter(
      (x) =>
        x.action === 'resume' &&
        x.operatorId === b.operatorId &&
        x.at > a.receivedAt - TOLD_WITHIN_MS &&
        x.at <= b.receivedAt,
    ).length;
  const lastState = new Map<string, ReceivedNotification>();
  const seen = new Map<string, ReceivedNotification>();
  for (const n of once) {
    if (n.event === 'paused' || n.event === 'resumed') {
      const last = lastState.get(n.operatorId);
      lastState.set(n.operatorId, n);
      const same = last?.event === n.event && last.message === n.message && last.pausedBy === n.pausedBy;
      if (same && (n.event === 'paused' || resumesBetween(last, n) < 2)) twice(last, n);
      continue;
    }
    const key = `${n.operatorId}/${n.event}/${n.event === 'delta-mark-stale' ? n.message : n.workflowId}`;
    const earlier = seen.get(key);
    if (earlier) twice(earlier, n);
    else seen.set(key, n);
  }
  return verdict(
    'no notification went out twice under different dedup keys',
    `${once.length} notifications`,
    rows,
  );
}

/** Every pause a person made through the API was told to the team (a person's pause names itself: `#n`). */
export function personPausesTold(
  received: readonly ReceivedNotification[],
  actions: readonly PersonAction[],
): InvariantResult {
  const pauses = actions.filter((a) => a.action === 'pause');
  const told = new Set(
    distinct(received)
      .filter((n) => n.event === 'paused')
      .map((n) => `${n.operatorId}/${n.message}`),
  );
  const rows = pauses
    .filter((p) => !told.has(`${p.operatorId}/${p.reason}`))
    .map((p) => ({
      operatorId: p.operatorId,
      reason: p.reason,
      at: new Date(p.at).toISOString(),
      problem: 'paused through the API, but no "paused" notification was received',
    }));
  return verdict('every pause a person made was told to the team', `${pauses.length} pauses`, rows);
}
