import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { config } from '../config.js';

/** v1.5.1 is the newest tag whose go.mod has no replace directive, so `go install` works. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter); // eslint-disable-line no-restricted-properties -- PATH lookup
  return dirs.map((d) => path.join(d, name)).find(isExecutable);
}

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
export async function resolveTemporalCli(log: (line: string) => void = console.error): Promise<string> {
  const explicit = config().temporal.cliPath;
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`TEMPORAL_CLI_PATH=${explicit} is not an executable file.`);
    return explicit;
  }
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  const cached = path.join(config().temporal.cliCacheDir, `temporal-${TEMPORAL_CLI_VERSION}`);
  if (isExecutable(cached)) return cached;
  const go = onPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) throw new Error(HOW_TO_GET_ONE);
  await buildWithGo(go, cached, log);
  return cached;
}

async function buildWithGo(go: string, target: string, log: (line: string) => void): Promise<void> {
  mkdirSync(path.dirname(target), { recursive: true });
  // Build into a private folder and rename, so two processes building at once never see half a binary.
  const gobin = mkdtempSync(path.join(path.dirname(target), '.build-'));
  log(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${path.dirname(target)} (first run only, takes a few minutes)…`,
  );
  const started = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(go, ['install', MODULE], {
        env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' }, // eslint-disable-line no-restricted-properties -- child env
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`go install ${MODULE} failed with exit code ${code}.\n${HOW_TO_GET_ONE}`)),
      );
    });
    renameSync(path.join(gobin, 'temporal'), target);
    log(`Built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
}

export async function temporalCliVersion(cli: string): Promise<string> {
  const { stdout } = await promisify(execFile)(cli, ['--version']);
  return stdout.trim();
}
