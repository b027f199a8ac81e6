import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { config } from '../../src/config.js';
import { resolveGoBinary } from './go-binary.js';

/** v1.5.1 is the newest tag whose go.mod has no replace directive, so `go install` works. */
const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

const HOW_TO_GET_ONE = [
  'No `temporal` CLI was found and it could not be built. Any one of these fixes it:',
  '  1. run the stack with Docker instead: `docker compose up` (see docker-compose.yml);',
  '  2. install the Temporal CLI (https://docs.temporal.io/cli) so `temporal` is on PATH, or install Go',
  `     so this project can build it (go install ${MODULE});`,
  '  3. set TEMPORAL_CLI_PATH to an existing temporal binary.',
].join('\n');

/**
 * Finds the `temporal` binary: TEMPORAL_CLI_PATH, else PATH, else the per-user cache, else builds it
 * into the cache once with `go install` (takes a few minutes the first time).
 */
export function resolveTemporalCli(log?: (line: string) => void): Promise<string> {
  return resolveGoBinary(
    {
      name: 'temporal',
      label: 'the Temporal CLI',
      module: MODULE,
      version: TEMPORAL_CLI_VERSION,
      explicit: { path: config().temporal.cliPath, variable: 'TEMPORAL_CLI_PATH' },
      cacheDir: config().temporal.cliCacheDir,
      howToGetOne: HOW_TO_GET_ONE,
    },
    log,
  );
}

export async function temporalCliVersion(cli: string): Promise<string> {
  const { stdout } = await promisify(execFile)(cli, ['--version']);
  return stdout.trim();
}
