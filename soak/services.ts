import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { S3Server } from '../tooling/servers/s3-server.js';
import type { OperatorInfo } from '../tooling/simulator/operator.js';
import type { OperatorSpecInput } from '../tooling/simulator/types.js';
import { launchNode, Supervised, type ExitReport } from './processes.js';

/** The project's own processes in the soak: the simulator, both worker kinds and the API. */

/** Housekeeping every few seconds, with a GC grace of seconds: the sweep runs against live imports. */
export const HOUSEKEEPING_EVERY_MS = 6_000;
const BLOB_GC_GRACE_MS = 5_000;
export const IMAGE_SIZES = { widths: [1200, 600, 200], formats: ['jpeg', 'webp'] };

export interface ProcessSetting {
  runDir: string;
  databaseUrl: string;
  temporalAddress: string;
  s3: Pick<S3Server, 'endpoint' | 'region' | 'bucket' | 'credentials'>;
  operatorsFile: string;
  secrets: Record<string, string>;
  notify: { url: string; secret: string };
}

/**
 * What every process of the product gets: the servers named (nothing discovered), blobs in S3, its own
 * data folder as a host would have. Not NODE_ENV=production: that refuses a GC grace under an hour.
 */
function processEnv(s: ProcessSetting, name: string): NodeJS.ProcessEnv {
  const home = path.join(s.runDir, 'procs', name);
  mkdirSync(home, { recursive: true });
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? home,
    NODE_ENV: 'development',
    TEMPORAL_ADDRESS: s.temporalAddress,
    DATABASE_URL: s.databaseUrl,
    TOUR_IMPORT_DATA_DIR: home,
    BLOB_DIR: path.join(home, 'blobs'),
    BLOB_STORE: 's3',
    S3_BUCKET: s.s3.bucket,
    S3_ENDPOINT: s.s3.endpoint,
    AWS_REGION: s.s3.region,
    AWS_ACCESS_KEY_ID: s.s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s.s3.credentials.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    OPERATORS_FILE: s.operatorsFile,
    ...s.secrets,
    ALLOW_PRIVATE_HOSTS: '127.0.0.1',
    NOTIFY_WEBHOOK_URL: s.notify.url,
    NOTIFY_WEBHOOK_SECRET: s.notify.secret,
    HOUSEKEEPING_EVERY_MINUTES: String(HOUSEKEEPING_EVERY_MS / 60_000),
    BLOB_GC_GRACE_HOURS: String(BLOB_GC_GRACE_MS / 3_600_000),
    // Short, so the sweep's in-use window (checked since the mark, less this) leaves live imports exposed too.
    IMAGE_RECHECK_MINUTES: '0.1',
    IMAGE_SIZES: IMAGE_SIZES.widths.join(','),
    IMAGE_FORMATS: IMAGE_SIZES.formats.join(','),
    LOG_LEVEL: 'info',
    MALLOC_ARENA_MAX: '2',
  };
}

export type WorkerKind = 'tour-import' | 'image-processing';

export function workerPart(
  s: ProcessSetting,
  o: { kind: WorkerKind; index: number; bundlePath: string },
  onExit: (e: ExitReport) => void,
): Supervised {
  const name = `${o.kind}-${o.index}`;
  const env = {
    ...processEnv(s, name),
    ...(o.kind === 'tour-import'
      ? { WORKFLOW_BUNDLE_PATH: o.bundlePath }
      : // Set, so the image worker runs as this process (a relaunch would put a launcher between it and SIGKILL).
        { UV_THREADPOOL_SIZE: '2', IMAGE_WORKER_MAX_ACTIVITIES: '4', IMAGE_WORKER_MAX_RESIZES: '1' }),
  };
  const logFile = path.join(s.runDir, 'logs', `${name}.log`);
  return new Supervised(
    name,
    () =>
      launchNode({
        script: `src/workers/${o.kind}.ts`,
        env,
        logFile,
        ready: (log) => log.includes(`${o.kind} worker started`),
      }),
    onExit,
  );
}

export function apiPart(
  s: ProcessSetting,
  o: { port: number; token: string },
  onExit: (e: ExitReport) => void,
): Supervised {
  const env = { ...processEnv(s, 'api'), API_PORT: String(o.port), API_TOKEN: o.token };
  return new Supervised(
    'api',
    () =>
      launchNode({
        script: 'src/api/main.ts',
        env,
        logFile: path.join(s.runDir, 'logs', 'api.log'),
        ready: async () => (await fetch(`http://127.0.0.1:${o.port}/healthz`)).ok,
      }),
    onExit,
  );
}

export interface SimulatorProcess {
  url: string;
  operators: OperatorInfo[];
  child: ChildProcess;
}

/** The simulator holds the operators' catalogs in memory: it is never a fault target. */
export async function startSimulatorProcess(
  runDir: string,
  port: number,
  specs: OperatorSpecInput[],
): Promise<SimulatorProcess> {
  let info: Omit<SimulatorProcess, 'child'> | undefined;
  const child = await launchNode({
    script: 'soak/simulator-process.ts',
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? runDir,
      SIM_PORT: String(port),
      SIM_OPERATORS: JSON.stringify(specs),
      SIM_IMAGE_CACHE: path.join(runDir, 'procs', 'simulator-images'),
    },
    logFile: path.join(runDir, 'logs', 'simulator.log'),
    ready: (log) => {
      const line = log.split('\n').find((l) => l.startsWith('{'));
      if (line) info = JSON.parse(line) as Omit<SimulatorProcess, 'child'>;
      return info !== undefined;
    },
  });
  return { ...info!, child };
}
