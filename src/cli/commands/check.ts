import { config } from '../../config.js';
import type { Pool } from '../../db/pool.js';
import type { OperatorConfig } from '../../operators/registry.js';
import {
  checkOperator,
  type CheckClass,
  type CheckOptions,
  type CheckReport,
  type ImageLimits,
} from '../../operations/check.js';
import type { CliContext } from '../context.js';
import { UnknownOperatorError } from '../../operations/operators.js';
import { EXIT } from '../errors.js';

export interface CheckCommandDeps {
  /** The operators file: the operator is checked from there, synced or not. */
  configs: OperatorConfig[];
  secret: (envName: string) => string | undefined;
  pool: Pool;
  images: ImageLimits;
}

/**
 * The operators file, the environment's secrets and the image workers' limits (a sample refused here is
 * refused by an import); PostgreSQL for the operator's shared rate-limit slots.
 */
export async function checkDeps(ctx: CliContext): Promise<CheckCommandDeps> {
  const { images, allowPrivateHosts, secret } = config();
  return {
    configs: await ctx.configs(),
    secret,
    pool: await ctx.pool(),
    images: { maxBytes: images.maxBytes, maxPixels: images.maxPixels, allowPrivateHosts },
  };
}

/** `tour-import check <operator>`: the operator must be in the operators file. */
export function checkCommand(
  deps: CheckCommandDeps,
  operatorId: string,
  options: Omit<CheckOptions, 'deadlineMs'>,
): Promise<CheckReport> {
  if (!deps.configs.some((c) => c.id === operatorId))
    throw new UnknownOperatorError(
      operatorId,
      deps.configs.map((c) => c.id),
    );
  return checkOperator({ ...deps, operators: deps.configs }, operatorId, options);
}

const EXIT_OF: Record<CheckClass, number> = {
  auth: EXIT.checkAuth,
  listing: EXIT.checkListing,
  mapping: EXIT.checkMapping,
  images: EXIT.checkImages,
};

/** 0 only when the operator can be imported; else the code of the class that decides (see EXIT). */
export function checkExitCode(r: CheckReport): number {
  if (r.failed) return EXIT_OF[r.failed];
  return r.cutShort ? EXIT.error : EXIT.ok;
}
