import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { ImportOperatorInput, ImportTourInput } from './types.js';

/**
 * Workflow inputs are checked at the top of each workflow: anyone with access to the namespace can start
 * one from the `temporal` CLI or the Web UI, and a wrong input must end the run with a clear,
 * searchable failure (`InvalidImportInput`) before it touches an operator's catalog.
 */
export const INVALID_INPUT = 'InvalidImportInput';

const operatorId = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be an operator id (a lowercase slug)');
const retry = z.strictObject({
  initialIntervalMs: z.number().int().nonnegative().optional(),
  maximumAttempts: z.number().int().nonnegative().optional(),
});
const Settings = z.strictObject({
  window: z.number().int().min(1).max(500).optional(),
  pageSize: z.number().int().min(1).max(500).optional(),
  breaker: z
    .strictObject({
      consecutiveFailures: z.number().int().positive().optional(),
      failureRatio: z.number().gt(0).max(1).optional(),
      overLast: z.number().int().positive().optional(),
      autoResume: z.boolean().optional(),
      cooldown: z.number().int().positive().optional(),
      maxCooldown: z.number().int().positive().optional(),
      probeTours: z.number().int().positive().optional(),
    })
    .optional(),
  toursPerRun: z.number().int().positive().optional(),
  imageTaskQueue: z.string().min(1).max(200).optional(),
  force: z.boolean().optional(),
  retry: retry.optional(),
});

const ImportOperatorSchema = z.strictObject({
  operatorId,
  mode: z.enum(['delta', 'full']),
  settings: Settings.optional(),
  // Its shape is the workflow's own; who may carry it is checked below.
  // (Runs begun before #14 carry the run's id as a string: pg's int8.)
  carried: z.looseObject({ importRunId: z.coerce.number().int().positive() }).optional(),
});

const ImportTourSchema = z.strictObject({
  operatorId,
  externalId: z.string().min(1).max(200),
  force: z.boolean().optional(),
  imageTaskQueue: z.string().min(1).max(200).optional(),
  retry: retry.optional(),
  listed: z.boolean().optional(),
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

function parse<T>(schema: z.ZodType<T>, input: unknown, workflow: string): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
  throw ApplicationFailure.nonRetryable(`${workflow} input: ${problems.join('; ')}`, INVALID_INPUT);
}
