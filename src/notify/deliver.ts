import * as deliveries from '../db/notifications.js';
import type { Queryable } from '../db/pool.js';
import type { Notification } from '../domain/notifications.js';
import { send } from './send.js';
import { sinkWants, type Sink } from './sinks.js';

export interface NotifyDeps {
  pool: Queryable;
  sinks: Sink[];
}

export interface DeliveryOutcome {
  delivered: string[];
  /** Sinks that failed this attempt and will be tried again. */
  retrying: string[];
  /** Sinks given up on: recorded as failed. */
  failed: string[];
}

/**
 * One attempt to deliver `n` to every sink that wants it and has not had it yet. A sink that is down
 * never throws here: it is recorded, and given up on (status 'failed') once `final`.
 */
export async function deliver(deps: NotifyDeps, n: Notification, final: boolean): Promise<DeliveryOutcome> {
  const outcome: DeliveryOutcome = { delivered: [], retrying: [], failed: [] };
  await Promise.all(
    deps.sinks
      .filter((sink) => sinkWants(sink, n.event, n.operatorId))
      .map(async (sink) => {
        const open = await deliveries.openDelivery(deps.pool, n, sink.name);
        if (open.status !== 'sending') return; // sent (or given up) by an earlier attempt
        const r = await send(n, sink);
        await deliveries.recordAttempt(deps.pool, {
          dedupKey: n.dedupKey,
          sink: sink.name,
          ok: r.ok,
          final,
          httpStatus: r.status,
          error: r.ok ? undefined : r.error,
        });
        (r.ok ? outcome.delivered : final ? outcome.failed : outcome.retrying).push(sink.name);
      }),
  );
  return outcome;
}
