import { ApplicationFailure, TemporalFailure } from '@temporalio/workflow';

/** The innermost application failure of a chain (child → activity → application), for recording. */
export function rootFailure(err: unknown): { type: string; message: string } {
  let current: unknown = err;
  let found: { type: string; message: string } | undefined;
  while (current instanceof Error) {
    if (current instanceof ApplicationFailure)
      found = { type: current.type ?? 'Error', message: current.message };
    current = current instanceof TemporalFailure ? current.cause : undefined;
  }
  return found ?? { type: 'Error', message: err instanceof Error ? err.message : String(err) };
}
