import type { Client } from '@temporalio/client';
import { TASK_QUEUES, WORKFLOW_TYPES, importOperatorWorkflowId, operatorPriority } from '../src/constants.js';
import { listOperators } from '../src/db/operators.js';
import type { Pool } from '../src/db/pool.js';
import { ignoreMissing, scheduleId } from '../src/schedules/apply.js';
import { HOUSEKEEPING_SCHEDULE_ID } from '../src/schedules/housekeeping.js';
import type { ImportOperatorResult } from '../src/workflows/types.js';
import { runningImports } from './checker/quiet.js';
import type { SimAdmin } from './http.js';
import type { Person } from './person.js';
import type { Part } from './processes.js';

/**
 * After the faults: every fault undone and every part up, the schedules gone (no more imports start on
 * their own), every paused operator resumed as a person would, then — once nothing runs — one full
 * import of every operator. Nothing here retries an import until things look right: an import that does
 * not finish, or does not complete, is what the checker reports.
 */
export interface SettleDeps {
  client: Client;
  pool: Pool;
  sim: SimAdmin;
  person: Person;
  parts: Map<string, Part>;
  operatorIds: string[];
  seed: number;
  say: (line: string) => void;
}

export interface FinalImport {
  operatorId: string;
  status: string;
  message: string;
}

const QUIET_TIMEOUT_MS = 4 * 60_000;
const FINAL_IMPORT_TIMEOUT_MS = 5 * 60_000;
const LOOK_EVERY_MS = 2_000;
const ALL_TYPES = [WORKFLOW_TYPES.importOperator, WORKFLOW_TYPES.importTour, WORKFLOW_TYPES.housekeeping];

export async function settle(d: SettleDeps): Promise<FinalImport[]> {
  for (const op of d.operatorIds) await d.sim.clearFaults(op);
  for (const part of d.parts.values()) if (!part.up()) await part.start();
  for (const op of d.operatorIds)
    for (const mode of ['delta', 'full'] as const)
      await ignoreMissing(d.client.schedule.getHandle(scheduleId(op, mode)).delete());
  await ignoreMissing(d.client.schedule.getHandle(HOUSEKEEPING_SCHEDULE_ID).delete());
  d.say('settle: faults stopped, every part up, schedules deleted; resuming paused operators');
  const quiet = await waitUntilQuiet(d, { resume: true });
  d.say(quiet ? 'settle: nothing running, nothing paused' : 'settle: still not quiet; going on regardless');
  const finals = await fullImportOfEach(d.client, d.operatorIds, `soak-${d.seed}-final`);
  for (const f of finals) d.say(`settle: final full import of ${f.operatorId}: ${f.status} (${f.message})`);
  await waitUntilQuiet(d, { resume: false });
  return finals;
}

/** Waits until no import or Housekeeping runs (and, resuming, no operator is paused); false on timeout. */
async function waitUntilQuiet(d: SettleDeps, o: { resume: boolean }): Promise<boolean> {
  const deadline = Date.now() + QUIET_TIMEOUT_MS;
  for (;;) {
    if (o.resume) for (const line of await d.person.resumeAll()) d.say(`person: ${line}`);
    const running = await runningImports(d.client, TASK_QUEUES.tourImport, ALL_TYPES);
    const paused = o.resume ? (await listOperators(d.pool)).filter((op) => op.paused) : [];
    if (!running.length && !paused.length) return true;
    if (Date.now() > deadline) {
      for (const w of running) d.say(`settle: still running: ${w.type} ${w.workflowId}`);
      return false;
    }
    await new Promise((r) => setTimeout(r, LOOK_EVERY_MS));
  }
}

/** One full import of every operator, as its full schedule would start it; waited for, never repeated. */
export async function fullImportOfEach(
  client: Client,
  operatorIds: string[],
  label: string,
): Promise<FinalImport[]> {
  return Promise.all(
    operatorIds.map(async (operatorId): Promise<FinalImport> => {
      const handle = await client.workflow.start(WORKFLOW_TYPES.importOperator, {
        taskQueue: TASK_QUEUES.tourImport,
        workflowId: `${importOperatorWorkflowId(operatorId)}:${label}`,
        args: [{ operatorId, mode: 'full' }],
        priority: operatorPriority(operatorId),
      });
      const timeout = new Promise<FinalImport>((resolve) =>
        setTimeout(
          () =>
            resolve({
              operatorId,
              status: 'not finished',
              message: `after ${FINAL_IMPORT_TIMEOUT_MS / 1000} s`,
            }),
          FINAL_IMPORT_TIMEOUT_MS,
        ).unref(),
      );
      const result = (handle.result() as Promise<ImportOperatorResult>).then(
        (r) => ({ operatorId, status: r.status, message: r.message }),
        (err: Error) => ({ operatorId, status: 'failed', message: err.message }),
      );
      return Promise.race([result, timeout]);
    }),
  );
}
