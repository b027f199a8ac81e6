import { proxyActivities } from '@temporalio/workflow';
import type { NotifyActivities } from '../activities/notify.js';
import { operatorPriority } from '../constants.js';
import type { Notification, NotificationEvent, PausedBy } from '../domain/notifications.js';
import { activityProfiles } from './retry.js';

export interface Notifier {
  /**
   * Sends in the background: the import goes on while a sink is slow or down. Its dedup key is this run's
   * sequence number, unless `dedupKey` names a fact to tell once whichever import sees it.
   */
  send(event: NotificationEvent, message: string, o?: { pausedBy?: PausedBy; dedupKey?: string }): void;
  /** Waits for what was sent (bounded: the notify activity gives up on a sink after its attempts). */
  drain(): Promise<void>;
}

export function createNotifier(o: {
  operatorId: string;
  workflowId: string;
  runId: string;
  retry: { initialIntervalMs: number; maximumAttempts: number };
}): Notifier {
  const { notify } = proxyActivities<NotifyActivities>({
    ...activityProfiles(o.retry).notify,
    priority: operatorPriority(o.operatorId),
  });
  let sequence = 0;
  const pending: Promise<unknown>[] = [];
  return {
    send(event, message, extra = {}) {
      const n: Notification = {
        event,
        operatorId: o.operatorId,
        message,
        workflowId: o.workflowId,
        dedupKey: extra.dedupKey ?? `${o.workflowId}/${o.runId}/${++sequence}:${event}`,
        ...(extra.pausedBy && { pausedBy: extra.pausedBy }),
      };
      pending.push(notify(n).catch(() => undefined));
    },
    async drain() {
      await Promise.all(pending.splice(0));
    },
  };
}
