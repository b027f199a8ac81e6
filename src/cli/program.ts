import type { Client } from '@temporalio/client';
import { Command, InvalidArgumentError, Option } from 'commander';
import { config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { listSchedules } from '../schedules/apply.js';
import {
  importExitCode,
  startImport,
  startTourImport,
  waitForImport,
  waitForTourImport,
} from './commands/import.js';
import { checkCommand, checkDeps, checkExitCode } from './commands/check.js';
import { requireOperator } from '../operations/operators.js';
import { listOperatorsCommand, syncOperatorsCommand } from './commands/operators.js';
import { pauseOperator, resumeOperator, type PauseResult } from '../operations/pause.js';
import { applySchedulesCommand, setSchedulesPaused, triggerSchedule } from './commands/schedules.js';
import { failuresCommand, operatorStatus, runsCommand } from './commands/status.js';
import type { CliContext } from './context.js';
import { dryRunText } from './dry-run-text.js';
import { dryRunImport } from '../operations/dry-run.js';
import { DEFAULT_SAMPLE_IMAGES } from '../operations/check.js';
import { checkText, runsTable, statusText, table, when } from './format.js';
import { createProgressBar } from './progress-bar.js';

type Opts = { json?: boolean };
export interface Io {
  out(text: string): void;
  err(text: string): void;
  setExitCode(code: number): void;
}

/** What every command group needs: the lazy dependencies, the output, and the JSON/human switch. */
interface Cli {
  ctx: CliContext;
  io: Io;
  print(o: Opts, data: unknown, human: () => string): void;
  deps(): Promise<{ pool: Pool; client: Client }>;
}

type QueueOpts = { taskQueue?: string; imageTaskQueue?: string };
const withQueues = (c: Command) =>
  c
    .addOption(new Option('--task-queue <name>', 'task queue of the tour-import workers'))
    .addOption(new Option('--image-task-queue <name>', 'task queue of the image-processing workers'));

/** The commands: each parses its arguments, calls one function from ./commands and prints the result. */
export function buildProgram(ctx: CliContext, io: Io): Command {
  const cli: Cli = {
    ctx,
    io,
    print: (o, data, human) => io.out(o.json ? JSON.stringify(data, null, 2) : human()),
    deps: async () => ({ pool: await ctx.pool(), client: await ctx.client() }),
  };
  const program = new Command('tour-import')
    .description("Operate the import of tour operators' catalogs (Temporal + PostgreSQL)")
    .exitOverride()
    .showSuggestionAfterError();
  addOperatorCommands(program, cli);
  addCheckCommand(program, cli);
  addImportCommands(program, cli);
  addPauseCommands(program, cli);
  addReadCommands(program, cli);
  addScheduleCommands(program, cli);
  return program;
}

function addOperatorCommands(program: Command, { ctx, print }: Cli) {
  const ops = program.command('operators').description('operators known to the pipeline');
  ops
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: Opts) => {
      const rows = await listOperatorsCommand({ pool: await ctx.pool() });
      print(o, rows, () =>
        table(
          ['id', 'name', 'dialect', 'state', 'pause reason / running import'],
          rows.map((r) => [r.id, r.name, r.dialect, r.state, r.pauseReason ?? r.runningWorkflowId]),
        ),
      );
    });
  ops
    .command('sync')
    .description('write the operators file into PostgreSQL (pause state and delta marks are kept)')
    .option('--json', 'print JSON')
    .action(async (o: Opts) => {
      const r = await syncOperatorsCommand({ pool: await ctx.pool() }, await ctx.configs());
      print(o, r, () => `synced ${r.synced.length} operators: ${r.synced.join(', ')}`);
    });
}

function addCheckCommand(program: Command, { ctx, io, print }: Cli) {
  program
    .command('check <operator>')
    .description(
      'can the operator be imported? credentials, listing, mapping, images, rate limits, delta; writes nothing',
    )
    .option('--all', 'list and map every page (default: the first; for dialect C, 20 tours)')
    .option('--images <n>', 'image URLs to download and decode', parseCount, DEFAULT_SAMPLE_IMAGES)
    .option('--json', 'print JSON')
    .action(async (operator: string, o: Opts & { all?: boolean; images: number }) => {
      const options = { allPages: o.all, sampleImages: o.images };
      const r = await checkCommand(await checkDeps(ctx), operator, options);
      io.setExitCode(checkExitCode(r));
      print(o, r, () => checkText(r));
    });
}

function addImportCommands(program: Command, { io, print, deps }: Cli) {
  withQueues(
    program
      .command('import <operator>')
      .description('start an import of one operator (delta unless --full)')
      .option('--full', 'list the whole catalog (marks tours that vanished as removed)')
      .option('--wait', 'show live progress and wait for the result')
      .option('--dry-run', 'list and decide as an import would, write nothing, and say what it would do')
      .option('--json', 'print JSON'),
  ).action(
    async (operator: string, o: Opts & QueueOpts & { full?: boolean; wait?: boolean; dryRun?: boolean }) => {
      const d = await deps();
      if (o.dryRun) {
        await requireOperator(d.pool, operator);
        const r = await dryRunImport(d, operator, o);
        io.setExitCode(importExitCode(r.status));
        return print(o, r, () => dryRunText(r));
      }
      const started = await startImport(d, operator, o);
      if (!o.wait) return print(o, started, () => `started ${started.mode} import ${started.workflowId}`);
      const bar = o.json ? undefined : createProgressBar(operator);
      const outcome = await waitForImport(d.client, started.workflowId, (p) => bar?.update(p)).finally(() =>
        bar?.stop(),
      );
      io.setExitCode(importExitCode(outcome.status));
      print(o, outcome, () =>
        outcome.status === 'paused'
          ? `${outcome.workflowId} ${outcome.message} (the import waits; run \`tour-import resume ${operator}\`)`
          : `${outcome.workflowId} ${outcome.status}: ${outcome.message}`,
      );
    },
  );

  withQueues(
    program
      .command('import-tour <operator> <externalId>')
      .description('import one tour now (a running import of it gets another pass)')
      .option('--force', 're-import even when its content is unchanged')
      .option('--wait', 'wait for the result')
      .option('--json', 'print JSON'),
  ).action(
    async (
      operator: string,
      externalId: string,
      o: Opts & QueueOpts & { force?: boolean; wait?: boolean },
    ) => {
      const d = await deps();
      const started = await startTourImport(d, operator, externalId, o);
      if (!o.wait) return print(o, started, () => `started or refreshed ${started.workflowId}`);
      const r = await waitForTourImport(d.client, started.workflowId);
      io.setExitCode(importExitCode(r.status));
      print(o, { ...started, ...r }, () => `${started.workflowId} ${r.status}: ${r.message}`);
    },
  );
}

function addPauseCommands(program: Command, { ctx, print, deps }: Cli) {
  program
    .command('pause <operator>')
    .description('pause an operator: its running import, new imports and its schedules')
    .option('--reason <text>', 'shown in status and on the catalog page')
    .option('--json', 'print JSON')
    .action(async (operator: string, o: Opts & { reason?: string }) => {
      // Before anything changes: a bad sink (a weak secret) refuses the command, not its second half.
      const sinks = await ctx.sinks();
      const r = await pauseOperator({ ...(await deps()), sinks: async () => sinks }, operator, o.reason);
      print(o, r, () => pauseText(r));
    });
  program
    .command('resume <operator>')
    .description(
      'resume a paused operator (also after its circuit breaker tripped or its removal guard held removals)',
    )
    .option('--apply-removals', 'remove the tours whose removal the removal guard held (else they stay)')
    .option('--json', 'print JSON')
    .action(async (operator: string, o: Opts & { applyRemovals?: boolean }) => {
      const sinks = await ctx.sinks();
      const r = await resumeOperator({ ...(await deps()), sinks: async () => sinks }, operator, {
        applyRemovals: o.applyRemovals,
      });
      print(o, r, () => pauseText(r));
    });
}

function addReadCommands(program: Command, { ctx, io, print }: Cli) {
  program
    .command('status [operator]')
    .description('state, pause reason, running import with live progress, last runs')
    .option('--json', 'print JSON')
    .action(async (operator: string | undefined, o: Opts) => {
      const r = await operatorStatus(
        { pool: await ctx.pool(), client: await ctx.clientOrReason() },
        operator,
      );
      if (r.warning && !o.json) io.err(`warning: ${r.warning}`);
      print(
        o,
        r,
        () => r.operators.map(statusText).join('\n\n') || '(no operators; run `tour-import operators sync`)',
      );
    });
  program
    .command('runs <operator>')
    .description('import runs of an operator, newest first')
    .option('--limit <n>', 'how many', parsePositive, 20)
    .option('--json', 'print JSON')
    .action(async (operator: string, o: Opts & { limit: number }) => {
      const runs = await runsCommand({ pool: await ctx.pool() }, operator, o.limit);
      print(o, runs, () => runsTable(runs));
    });
  program
    .command('failures <operator>')
    .description('tours of an operator that failed to import, newest first')
    .option('--limit <n>', 'how many', parsePositive, 50)
    .option('--json', 'print JSON')
    .action(async (operator: string, o: Opts & { limit: number }) => {
      const rows = await failuresCommand({ pool: await ctx.pool() }, operator, o.limit);
      print(o, rows, () =>
        rows.length
          ? table(
              ['when', 'tour', 'kind', 'message'],
              rows.map((f) => [when(f.occurredAt), f.externalId, f.kind, f.message]),
            )
          : '(no failures)',
      );
    });
}

function addScheduleCommands(program: Command, { ctx, print }: Cli) {
  const sch = program
    .command('schedules')
    .description('Temporal Schedules, one per operator (id import-schedule:<operator>)');
  sch
    .command('apply')
    .description(
      "create or update schedules from the operators file (and Housekeeping's); delete those of removed operators",
    )
    .option('--task-queue <name>', 'task queue of the tour-import workers')
    .option('--image-task-queue <name>', 'task queue of the image-processing workers')
    .option('--json', 'print JSON')
    .action(async (o: Opts & QueueOpts) => {
      const deps = { client: await ctx.client(), pool: await ctx.pool() };
      const r = await applySchedulesCommand(deps, await ctx.configs(), {
        ...o,
        housekeepingEveryMs: config().housekeeping.everyMs,
      });
      print(o, r, () => appliedText(r));
    });
  sch
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: Opts) => {
      const rows = await listSchedules(await ctx.client());
      print(o, rows, () => schedulesText(rows));
    });
  for (const paused of [true, false]) {
    sch
      .command(`${paused ? 'pause' : 'unpause'} <operator>`)
      .description(`${paused ? 'pause' : 'unpause'} only the schedules of an operator`)
      .option('--note <text>', 'kept on the schedule')
      .option('--json', 'print JSON')
      .action(async (operator: string, o: Opts & { note?: string }) => {
        const r = await setSchedulesPaused(
          { client: await ctx.client() },
          await ctx.configs(),
          operator,
          paused,
          o.note,
        );
        print(o, r, () => `${paused ? 'paused' : 'unpaused'}: ${r.schedules.join(', ')}`);
      });
  }
  sch
    .command('trigger <operator>')
    .description("run an operator's scheduled import now (overlap SKIP still applies)")
    .option('--full', 'trigger the full-import schedule')
    .option('--json', 'print JSON')
    .action(async (operator: string, o: Opts & { full?: boolean }) => {
      const r = await triggerSchedule(
        { client: await ctx.client() },
        await ctx.configs(),
        operator,
        o.full ? 'full' : 'delta',
      );
      print(o, r, () => `triggered ${r.scheduleId}`);
    });
}

function appliedText(r: Awaited<ReturnType<typeof applySchedulesCommand>>) {
  return [
    `created: ${r.created.join(', ') || '-'}`,
    `updated: ${r.updated.join(', ') || '-'}`,
    `deleted: ${r.deleted.join(', ') || '-'}`,
    ...r.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}

function schedulesText(rows: Awaited<ReturnType<typeof listSchedules>>) {
  if (!rows.length) return '(no schedules; run `tour-import schedules apply`)';
  return table(
    ['schedule', 'mode', 'state', 'next run', 'last run', 'note'],
    rows.map((s) => [
      s.scheduleId,
      s.mode,
      s.paused ? 'paused' : 'active',
      when(s.nextRunAt),
      when(s.lastRunAt),
      s.note,
    ]),
  );
}

function pauseText(r: PauseResult) {
  const held = r.removals;
  return [
    `${r.operatorId} ${r.paused ? `paused (${r.reason})` : 'resumed'}`,
    `  running import signalled: ${r.signalled ?? 'none running'}`,
    `  schedules: ${r.schedules.join(', ') || 'none (run `tour-import schedules apply`)'}`,
    ...(held?.applied ? [`  held removals applied: ${held.applied} tours removed`] : []),
    ...(held?.discarded ? [`  held removals discarded: ${held.discarded} tours stay`] : []),
  ].join('\n');
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number, 0 or more');
  return n;
}

function parsePositive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}
