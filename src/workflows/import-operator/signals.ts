import { defineQuery, defineSignal } from '@temporalio/workflow';
import { QUERIES, SIGNALS } from '../../constants.js';
import type { Progress } from '../types.js';

/** What an import has done so far (the CLI's progress bar, the operators page). */
export const progressQuery = defineQuery<Progress>(QUERIES.progress);
/** Pauses the import (a person: Web UI, CLI); it waits durably until resumed. */
export const pauseSignal = defineSignal<[{ reason?: string }?]>(SIGNALS.pause);
export const resumeSignal = defineSignal(SIGNALS.resume);
