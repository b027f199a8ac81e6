/**
 * The orchestration floor (bench/floor.ts): the least a parent with one child per item, and one
 * activity on another queue per child, costs the Temporal server and the workflow worker, with no work
 * in the activities. ImportOperator and ImportTour have this shape, plus their own steps.
 */
import {
  condition,
  executeChild,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';

interface FloorActivities {
  noop(a: { n: number; heartbeat?: boolean }): Promise<number>;
}

export interface FloorShape {
  /** Local activities before and after the remote one (ImportTour today: fetch, then persist). */
  localActivities: 0 | 2;
  /** The remote activity heartbeats once (as an image download's first progress does). */
  heartbeat?: boolean;
  /** Children and activities carry a priority and fairness key (as ImportTour's do). */
  fairness?: boolean;
}

export async function FloorParent(o: {
  children: number;
  window: number;
  shape: FloorShape;
}): Promise<number> {
  let running = 0;
  let done = 0;
  for (let i = 0; i < o.children; i++) {
    await condition(() => running < o.window);
    running++;
    void executeChild(FloorChild, { workflowId: `${workflowInfo().workflowId}-${i}`, args: [o.shape] }).then(
      () => {
        running--;
        done++;
      },
    );
  }
  await condition(() => running === 0);
  return done;
}

export async function FloorChild(shape: FloorShape): Promise<number> {
  const local = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '10s' });
  const remote = proxyActivities<FloorActivities>({
    startToCloseTimeout: '10s',
    heartbeatTimeout: '15s',
    taskQueue: 'floor-remote',
    ...(shape.fairness ? { priority: { priorityKey: 3, fairnessKey: 'op', fairnessWeight: 1 } } : {}),
  });
  if (shape.localActivities) await local.noop({ n: 1 });
  const n = await remote.noop({ n: 2, heartbeat: shape.heartbeat });
  if (shape.localActivities) await local.noop({ n: 3 });
  return n;
}
