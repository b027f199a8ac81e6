import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { buildWorkflowBundle } from '../scripts/build-workflow-bundle.js';
import { migrate } from '../src/db/migrate.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { freePort, stopChild } from '../tooling/servers/dev-server.js';
import { openClusterFolder } from '../tooling/servers/private-postgres.js';
import { parseOperatorsYaml, type OperatorConfig } from '../src/operators/registry.js';
import { createS3BlobStore } from '../src/storage/s3-blob-store.js';
import type { BlobStore } from '../src/storage/blob-store.js';
import type { S3Server } from '../tooling/servers/s3-server.js';
import { startNotificationReceiver, type NotificationReceiver } from './notifications.js';
import { operatorSecrets, operatorsYaml, simulatorSpecs } from './operators.js';
import { isEnding, tracked, type Cleanup, type ExitReport, type Part } from './processes.js';
import { serverLogs, startPostgres, startS3, startTemporal } from './servers.js';
import {
  apiPart,
  startSimulatorProcess,
  workerPart,
  type ProcessSetting,
  type SimulatorProcess,
} from './services.js';

/** The production shape, started for one soak: every server and process, and the soak's own clients. */
export interface Stack {
  databaseUrl: string;
  pool: Pool;
  client: Client;
  store: BlobStore;
  sim: SimulatorProcess;
  api: { url: string; token: string };
  configs: OperatorConfig[];
  secrets: Record<string, string>;
  receiver: NotificationReceiver;
  /** Everything a fault can take down, by name. */
  parts: Map<string, Part>;
  workers: string[];
  /** Exits the soak did not cause (the part was started again). */
  unexpectedExits: ExitReport[];
}

const WORKERS_PER_KIND = 2;

export async function startStack(
  runDir: string,
  seed: number,
  cleanup: Cleanup,
  say: (line: string) => void,
): Promise<Stack> {
  for (const dir of ['logs', 'procs']) mkdirSync(path.join(runDir, dir), { recursive: true });
  const reg = registry(cleanup, say);
  const notifySecret = `whsec_${randomBytes(32).toString('base64')}`;
  // The cluster lives where the postgres system user can reach it; the run folder links to it.
  const cluster = openClusterFolder(`tour-import-soak-${path.basename(runDir)}-`);
  symlinkSync(cluster.parent, path.join(runDir, 'pg'));
  const postgres = await tracked(startPostgres(cluster.dir));
  reg.keep(postgres.part);
  await migrate(postgres.url, 'public');
  say(`PostgreSQL up (${postgres.url})`);
  const [temporal, s3, sim, bundle, receiver] = await Promise.all([
    startTemporal(postgres.url, serverLogs(runDir).temporal, reg.onExit).then((t) => (reg.keep(t.part), t)),
    startS3(path.join(runDir, 's3'), serverLogs(runDir).s3, reg.onExit).then((s) => (reg.keep(s.part), s)),
    freePort()
      .then((port) => tracked(startSimulatorProcess(runDir, port, simulatorSpecs(seed))))
      .then((sim) => (watchSimulator(sim, cleanup, reg.onExit), sim)),
    buildWorkflowBundle(path.join(runDir, 'workflow-bundle.js')),
    startNotificationReceiver(notifySecret).then(
      (r) => (cleanup.add('notification receiver', () => r.close()), r),
    ),
  ]);
  say(
    `Temporal server (${temporal.address}), versitygw (${s3.server.endpoint}) and simulator (${sim.url}) up`,
  );

  const operatorsFile = path.join(runDir, 'operators.yaml');
  const yaml = operatorsYaml(sim.operators);
  writeFileSync(operatorsFile, yaml);
  const secrets = operatorSecrets(sim.operators);
  const setting: ProcessSetting = {
    runDir,
    databaseUrl: postgres.url,
    temporalAddress: temporal.address,
    s3: s3.server,
    operatorsFile,
    secrets,
    notify: { url: receiver.url, secret: notifySecret },
  };
  const { workers, api } = await startProductProcesses(setting, bundle.path, reg);
  say(`${workers.length} workers and the API up`);
  return {
    ...(await soakClients(postgres.url, temporal.address, s3.server, runDir, cleanup)),
    sim,
    api,
    configs: parseOperatorsYaml(yaml, operatorsFile),
    secrets,
    receiver,
    parts: reg.parts,
    workers,
    unexpectedExits: reg.unexpectedExits,
  };
}

type Registry = ReturnType<typeof registry>;

/** The parts started so far, stopped by the cleanup; exits the soak did not cause, reported. */
function registry(cleanup: Cleanup, say: (line: string) => void) {
  const parts = new Map<string, Part>();
  const unexpectedExits: ExitReport[] = [];
  return {
    parts,
    unexpectedExits,
    keep<P extends Part>(p: P): P {
      parts.set(p.name, p);
      cleanup.add(p.name, () => p.stop());
      return p;
    },
    onExit(e: ExitReport) {
      unexpectedExits.push(e);
      const again = e.name === 'simulator' ? '' : '; starting it again';
      say(`!! ${e.name} exited on its own (${e.code ?? e.signal})${again}`);
    },
  };
}

/** Both worker kinds (WORKERS_PER_KIND each) and the API, each a process of its own. */
async function startProductProcesses(setting: ProcessSetting, bundlePath: string, reg: Registry) {
  const api = { port: await freePort(), token: randomBytes(16).toString('hex') };
  const workers = (['tour-import', 'image-processing'] as const).flatMap((kind) =>
    Array.from({ length: WORKERS_PER_KIND }, (_, i) =>
      reg.keep(workerPart(setting, { kind, index: i + 1, bundlePath }, reg.onExit)),
    ),
  );
  await Promise.all([...workers, reg.keep(apiPart(setting, api, reg.onExit))].map((p) => p.start()));
  return {
    workers: workers.map((w) => w.name),
    api: { url: `http://127.0.0.1:${api.port}`, token: api.token },
  };
}

/** The soak's own connections: PostgreSQL, Temporal and the bucket, as the checker reads them. */
async function soakClients(
  databaseUrl: string,
  temporalAddress: string,
  s3: S3Server,
  runDir: string,
  cleanup: Cleanup,
) {
  const pool = createPool(databaseUrl, 'public', 5);
  cleanup.add('the soak pool', () => pool.end());
  const connection = await Connection.connect({ address: temporalAddress });
  cleanup.add('the soak client', () => connection.close());
  const store = createS3BlobStore({ ...s3, stagingDir: path.join(runDir, 'procs', 'checker') });
  return { databaseUrl, pool, client: new Client({ connection, namespace: 'default' }), store };
}

/** The operators' catalogs live in the simulator's memory: an exit there is reported, never papered over. */
function watchSimulator(sim: SimulatorProcess, cleanup: Cleanup, onExit: (e: ExitReport) => void): void {
  let stopping = false;
  sim.child.once('exit', (code, signal) => {
    if (!stopping && !isEnding()) onExit({ name: 'simulator', code, signal, at: Date.now() });
  });
  cleanup.add('simulator', () => {
    stopping = true;
    return stopChild(sim.child);
  });
}
