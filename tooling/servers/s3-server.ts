import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { config } from '../../src/config.js';
import { ensureBucket } from '../../src/storage/index.js';
import { freePort, stopChild } from './dev-server.js';
import { resolveGoBinary } from './go-binary.js';

const VERSITYGW_VERSION = 'v1.8.0';
const MODULE = `github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}`;

const HOW_TO_GET_ONE = [
  'No `versitygw` (the S3 server the tests run) was found. Any one of these fixes it:',
  '  1. build it once into the user cache: `npx tsx tooling/servers/versitygw-main.ts` (needs Go, takes minutes;',
  `     it runs go install ${MODULE});`,
  '  2. put a versitygw binary on PATH, or set VERSITYGW_PATH to one.',
].join('\n');

/**
 * Finds versitygw: VERSITYGW_PATH, else PATH, else the per-user cache, else builds it there once
 * (unless `build` is false: tests fail at once with how to get it, rather than wait minutes).
 */
export function resolveVersitygw(
  opts: { build?: boolean; log?: (line: string) => void } = {},
): Promise<string> {
  return resolveGoBinary(
    {
      name: 'versitygw',
      label: 'versitygw (S3 server)',
      module: MODULE,
      version: VERSITYGW_VERSION,
      explicit: { path: config().versitygwPath, variable: 'VERSITYGW_PATH' },
      cacheDir: config().temporal.cliCacheDir,
      howToGetOne: HOW_TO_GET_ONE,
      build: opts.build,
    },
    opts.log,
  );
}

export interface S3Server {
  /** http://host:port, for S3_ENDPOINT. */
  endpoint: string;
  region: string;
  bucket: string;
  /** The root user's keys (test keys, made up per server). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface S3ServerOptions {
  /** The versitygw binary (resolveVersitygw). */
  binary: string;
  /** Holds `data/` (buckets and objects) and `meta/` (the sidecar metadata). */
  dir: string;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Default: a free port. */
  port?: number;
  bucket?: string;
  /** Where the server's output goes; default /dev/null. */
  logFile?: string;
  readyTimeoutMs?: number;
  /** How to start the process (default: spawn); e.g. inside a network namespace in the hosts test. */
  spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
}

/**
 * Starts versitygw over a posix folder (metadata in a sidecar folder, so any filesystem works, xattrs or
 * not), waits until it answers, and creates the bucket.
 */
export async function startS3Server(o: S3ServerOptions): Promise<S3Server> {
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? (await freePort());
  const dataDir = path.join(o.dir, 'data');
  const metaDir = path.join(o.dir, 'meta');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(metaDir, { recursive: true });
  const credentials = { accessKeyId: 'tour-import-test', secretAccessKey: `secret-${port}-${process.pid}` };
  const region = 'us-east-1';
  const out = openSync(o.logFile ?? '/dev/null', 'a');
  const child = (o.spawn ?? spawn)(
    o.binary,
    ['--port', `${host}:${port}`, '--quiet', 'posix', '--sidecar', metaDir, dataDir],
    {
      // Keys through the environment, not argv, so `ps` does not show them.
      env: {
        PATH: '/usr/bin:/bin',
        ROOT_ACCESS_KEY_ID: credentials.accessKeyId,
        ROOT_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        VGW_REGION: region,
      },
      stdio: ['ignore', out, out],
    },
  );
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`versitygw exited with code ${code} before it was ready (port ${port} in use?)`)),
    ),
  );
  const endpoint = `http://${host}:${port}`;
  const bucket = o.bucket ?? 'tour-import';
  try {
    await Promise.race([
      ensureBucket({ endpoint, region, credentials, bucket, waitMs: o.readyTimeoutMs ?? 30_000 }),
      exited,
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  exited.catch(() => {}); // once ready, a later exit is stop()'s business
  return { endpoint, region, bucket, credentials, child, stop: () => stopChild(child) };
}
