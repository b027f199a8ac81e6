import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { config } from '../../src/config.js';
import { stopChild } from './dev-server.js';
import { resolveGoBinary } from './go-binary.js';

/**
 * The Temporal Web UI for the server `npm run temporal:server` runs: the dev server has it built in, the
 * real server does not, so the project builds the UI server (the same Go module the CLI embeds, with
 * its assets) once into the user cache and points it at the frontend.
 */
const TEMPORAL_UI_VERSION = 'v2.42.1';
const MODULE = `github.com/temporalio/ui-server/v2/cmd/server@${TEMPORAL_UI_VERSION}`;

export function resolveTemporalUi(log?: (line: string) => void): Promise<string> {
  return resolveGoBinary(
    {
      name: 'server',
      cacheName: 'temporal-ui-server',
      searchPath: false,
      label: 'the Temporal Web UI server',
      module: MODULE,
      version: TEMPORAL_UI_VERSION,
      cacheDir: config().temporal.cliCacheDir,
      howToGetOne:
        `No Temporal Web UI server was found and Go is missing to build it (go install ${MODULE}). ` +
        'The server runs without it; `temporal workflow list` and `npm run cli` work as usual.',
    },
    log,
  );
}

export interface TemporalUi {
  url: string;
  stop(): Promise<void>;
}

/** Starts the UI on 127.0.0.1:<port> against the frontend; its config is written under dataDir. */
export async function startTemporalUi(o: {
  binary: string;
  frontend: string;
  port: number;
  namespace: string;
  dataDir: string;
  logFile?: string;
}): Promise<TemporalUi> {
  const dir = path.join(o.dataDir, 'temporal-ui');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'base.yaml'),
    [
      `temporalGrpcAddress: ${o.frontend}`,
      'host: 127.0.0.1',
      `port: ${o.port}`,
      'enableUi: true',
      `defaultNamespace: ${o.namespace}`,
      'cors:',
      '  cookieInsecure: true',
      '',
    ].join('\n'),
  );
  const out = o.logFile ? openSync(o.logFile, 'a') : 'inherit';
  const child = spawn(o.binary, ['--root', o.dataDir, '--config', 'temporal-ui', 'start'], {
    stdio: ['ignore', out, out],
  });
  const url = `http://127.0.0.1:${o.port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`The Temporal Web UI exited with code ${child.exitCode}.`);
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, stop: () => stopChild(child) };
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`The Temporal Web UI did not answer at ${url} within 30 s.`);
}
