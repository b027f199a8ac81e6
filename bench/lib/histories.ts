/** What the bench reads from workflow histories: where a small import's children and its parent spend their time. */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { ChildTimings, ImportTimeline } from '../report.js';
import { percentile } from './stats.js';

type Phase = 'waits' | 'runs' | 'activityWaits' | 'activityRuns' | 'closes' | 'totals';

/**
 * How the children of a small import spent their time, from their histories: waiting for their first
 * workflow task (task queue dispatch), running it (fetch and persist as local activities), their first
 * activity (a tour's images: waiting for an image worker, running), closing after it, in all.
 */
export async function childTimings(
  client: Client,
  children: { workflowId: string; runId: string }[],
): Promise<ChildTimings> {
  const { EventType } = proto.temporal.api.enums.v1;
  const phases: Record<Phase, number[]> = {
    waits: [],
    runs: [],
    activityWaits: [],
    activityRuns: [],
    closes: [],
    totals: [],
  };
  for (const wf of children) {
    const events = (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events ?? [];
    const at = (type: number) => eventMs(events.find((e) => e.eventType === type));
    const [scheduled, started, completed] = [
      at(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
      at(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED),
      at(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    ];
    const end = eventMs(events.at(-1));
    phases.waits.push(started - scheduled);
    phases.runs.push(completed - started);
    phases.totals.push(end - eventMs(events[0]));
    // A tour with no image to import runs no activity: its phases below are left out (NaN).
    const activity = [
      at(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      at(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED),
      at(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
    ];
    phases.activityWaits.push(activity[1] - activity[0]);
    phases.activityRuns.push(activity[2] - activity[1]);
    phases.closes.push(end - activity[2]);
  }
  const p = (all: number[]) => {
    const v = all.filter(Number.isFinite);
    return v.length ? { p50: percentile(v, 50), p95: percentile(v, 95) } : undefined;
  };
  return {
    firstTaskWait: p(phases.waits)!,
    firstTaskRun: p(phases.runs)!,
    activityWait: p(phases.activityWaits),
    activityRun: p(phases.activityRuns),
    afterActivity: p(phases.closes),
    total: p(phases.totals)!,
  };
}

function eventMs(e?: proto.temporal.api.history.v1.IHistoryEvent): number {
  return e ? Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6) : NaN;
}

/**
 * Where an import's wall time goes outside its tours, from the ImportOperator history (all runs): before
 * the first child is initiated, and after the last child has closed.
 */
export function parentTimeline(
  histories: proto.temporal.api.history.v1.IHistory[],
): ImportTimeline | undefined {
  const events = histories.flatMap((h) => h.events ?? []);
  const ms = eventMs;
  const { EventType } = proto.temporal.api.enums.v1;
  const times = (...types: number[]) => events.filter((e) => types.includes(e.eventType ?? 0)).map(ms);
  const all = events.map(ms);
  const childStarts = times(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED);
  const childEnds = times(
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
  );
  if (!all.length || !childStarts.length || !childEnds.length) return undefined;
  const [start, end] = [Math.min(...all), Math.max(...all)];
  return {
    beforeFirstChildMs: Math.min(...childStarts) - start,
    afterLastChildMs: end - Math.max(...childEnds),
    totalMs: end - start,
  };
}
