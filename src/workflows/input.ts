import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import * as v from 'valibot';
import type { ImportOperatorInput, ImportTourInput } from './types.js';

/**
 * Workflow inputs are checked at the top of each workflow: anyone with access to the namespace can start
 * one from the `temporal` CLI or the Web UI, and a wrong input must end the run with a clear,
 * searchable failure (`InvalidImportInput`) before it touches an operator's catalog.
 *
 * valibot, not zod (which the rest of the project uses): the reusable V8 context evaluates a workflow's
 * modules afresh for every workflow it runs, and zod's module and schema set-up cost about 30 ms of CPU
 * per ImportTour there (bench/RESULTS.md, "Orchestration CPU per changed tour"); valibot's schemas are
 * plain objects built by small functions.
 */
const INVALID_INPUT = 'InvalidImportInput';

const int = (...checks: v.PipeItem<number, number, v.BaseIssue<unknown>>[]) =>
  v.optional(v.pipe(v.number(), v.integer(), ...checks));
const text = v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200)));
const operatorId = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be an operator id (a lowercase slug)'),
);
const retry = v.optional(
  v.strictObject({ initialIntervalMs: int(v.minValue(0)), maximumAttempts: int(v.minValue(0)) }),
);
const Settings = v.strictObject({
  window: int(v.minValue(1), v.maxValue(500)),
  pageSize: int(v.minValue(1), v.maxValue(500)),
  breaker: v.optional(
    v.strictObject({
      consecutiveFailures: int(v.minValue(1)),
      failureRatio: v.optional(v.pipe(v.number(), v.gtValue(0), v.maxValue(1))),
      overLast: int(v.minValue(1)),
      autoResume: v.optional(v.boolean()),
      cooldown: int(v.minValue(1)),
      maxCooldown: int(v.minValue(1)),
      probeTours: int(v.minValue(1)),
    }),
  ),
  toursPerRun: int(v.minValue(1)),
  imageTaskQueue: text,
  force: v.optional(v.boolean()),
  retry,
});

const ImportOperatorSchema = v.strictObject({
  operatorId,
  mode: v.picklist(['delta', 'full']),
  settings: v.optional(Settings),
  dryRun: v.optional(v.boolean()),
  // Its shape is the workflow's own; who may carry it is checked below.
  carried: v.optional(v.looseObject({ importRunId: v.pipe(v.number(), v.integer(), v.minValue(1)) })),
});

const ImportTourSchema = v.strictObject({
  operatorId,
  externalId: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  force: v.optional(v.boolean()),
  imageTaskQueue: text,
  retry,
  listed: v.optional(v.boolean()),
});

export function validateImportOperatorInput(input: unknown): ImportOperatorInput {
  const parsed = parse(ImportOperatorSchema, input, 'ImportOperator');
  // State is carried only from this workflow's previous run (continue-as-new). A start that brings its
  // own would skip the operator's lock and could pass off a forged listing as complete.
  if (parsed.carried && !workflowInfo().continuedFromExecutionRunId)
    throw ApplicationFailure.nonRetryable(
      'ImportOperator input: "carried" is set by the workflow when it continues as new; a new start must not set it',
      INVALID_INPUT,
    );
  return parsed as ImportOperatorInput;
}

export function validateImportTourInput(input: unknown): ImportTourInput {
  return parse(ImportTourSchema, input, 'ImportTour');
}

function parse<S extends v.GenericSchema>(schema: S, input: unknown, workflow: string): v.InferOutput<S> {
  const r = v.safeParse(schema, input);
  if (r.success) return r.output;
  const problems = r.issues.map((i) => `${v.getDotPath(i) ?? '(input)'}: ${i.message}`);
  throw ApplicationFailure.nonRetryable(`${workflow} input: ${problems.join('; ')}`, INVALID_INPUT);
}
