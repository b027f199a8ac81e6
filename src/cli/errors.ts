import { CONFIG_EXIT_CODE } from '../config.js';

/** Exit codes scripts can rely on. Documented in docs/operations.md (Command line); change them only there too. */
export const EXIT = {
  ok: 0,
  /** Anything unexpected (the message is still one sentence; a stack trace only with DEBUG output). */
  error: 1,
  /** Bad usage: unknown command or option, unknown operator, unknown schedule. */
  usage: 2,
  /** `import --wait`: the import was skipped (another import of the operator runs, or it is paused). */
  skipped: 3,
  /** `import --wait`: the import paused itself (circuit breaker, listing failed) or was paused. */
  paused: 4,
  /** `import --wait` / `import-tour --wait`: the workflow failed, was cancelled or terminated. */
  failed: 5,
  /** Temporal is not reachable at the address tried. */
  temporalUnreachable: 6,
  /** PostgreSQL is not reachable. */
  databaseUnreachable: 7,
  /** The operators file, or the environment (src/config.ts), is missing or invalid. */
  config: CONFIG_EXIT_CODE,
  /**
   * `check`: the operator cannot be imported, by the first class that failed in the order auth, listing,
   * mapping, images (an earlier step's failure makes the later ones meaningless).
   */
  checkAuth: 9,
  checkListing: 10,
  checkMapping: 11,
  checkImages: 12,
} as const;

/** An error whose message is meant for the user as is, with the exit code it maps to. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
