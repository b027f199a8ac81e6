import { defineQuery, defineSignal } from '@temporalio/workflow';
import { QUERIES, SIGNALS } from '../../constants.js';
import type { Progress } from '../types.js';

/** What an import has done so far (the CLI's progress bar, the operators page). */
export const progressQuery = defineQuery<Progress>(QUERIES.progress);
/**
 * Pauses the import (a person: Web UI, CLI); it waits durably until resumed. `told`: the sender tells the
 * team itself (the CLI and the API do, whether or not an import is running, so a pause that reaches an
 * import as it ends is still told once); the import then records the pause without telling it again.
 */
export const pauseSignal = defineSignal<[{ reason?: string; told?: boolean }?]>(SIGNALS.pause);
/** Resumes the import; `told` as for the pause. */
export const resumeSignal = defineSignal<[{ told?: boolean }?]>(SIGNALS.resume);
