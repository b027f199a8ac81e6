import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { MAX_SEED } from './prng.js';

export interface SoakArgs {
  minutes: number;
  seed: number;
  /** Whether the seed was drawn here (printed so the run can be repeated). */
  seedDrawn: boolean;
  /** Keep the run's data (PostgreSQL, blobs) even when every invariant held. */
  keep: boolean;
}

export const USAGE = `usage: npm run soak -- [--minutes N] [--seed S] [--keep]
  --minutes N  minutes of workload under faults (fractions allowed; default 2.5)
  --seed S     integer 0..${MAX_SEED} that fixes the fault schedule (default: drawn at random and printed)
  --keep       keep the run folder's data (PostgreSQL, blobs) also when every invariant held`;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** argv → the soak's options; a bad value is a UsageError naming the flag and what it got. */
export function parseSoakArgs(argv: string[]): SoakArgs | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        minutes: { type: 'string' },
        seed: { type: 'string' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const minutes = values.minutes === undefined ? 2.5 : Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60)
    throw new UsageError(
      `--minutes must be a number of minutes above 0 and at most 1440 (got "${values.minutes}")`,
    );
  if (values.seed === undefined)
    return { minutes, seed: randomInt(0, MAX_SEED), seedDrawn: true, keep: values.keep };
  const seed = Number(values.seed);
  if (!/^\d+$/.test(values.seed) || seed > MAX_SEED)
    throw new UsageError(`--seed must be an integer from 0 to ${MAX_SEED} (got "${values.seed}")`);
  return { minutes, seed, seedDrawn: false, keep: values.keep };
}
