import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, WorkflowNotFoundError, type ClientInterceptors } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApi, type ApiOptions } from '../../src/api/app.js';
import { startSimulator, type Simulator } from '../../tooling/simulator/server.js';
import type { OperatorSpecInput } from '../../tooling/simulator/types.js';
import { parseOperatorsYaml, type OperatorConfig } from '../../src/operators/registry.js';
import { createAdapterResolver, syncOperators } from '../../src/operators/resolver.js';
import type { Sink } from '../../src/notify/sinks.js';
import { pauseOperatorSchedules, unpauseOperatorSchedules } from '../../src/schedules/apply.js';
import { createLocalBlobStore, type BlobStore } from '../../src/storage/index.js';
import { createImageWorker, createTourImportWorker } from '../../src/workers/create.js';
import { ImportOperator } from '../../src/workflows/import-operator.js';
import type { ImportMode, ImportSettings } from '../../src/workflows/types.js';
import { createTestDb, type TestDb } from './db.js';
import { connectTestEnv, uniqueName } from './temporal.js';

export interface Pipeline {
  sim: Simulator;
  db: TestDb;
  store: BlobStore;
  blobDir: string;
  env: TestWorkflowEnvironment;
  taskQueue: string;
  imageTaskQueue: string;
  configs: OperatorConfig[];
  /** Starts an import the way a user would, with this test's task queues. */
  startImport(
    operatorId: string,
    mode: ImportMode,
    settings?: ImportSettings,
    workflowId?: string,
  ): ReturnType<TestWorkflowEnvironment['client']['workflow']['start']>;
  /**
   * Stops the tour-import worker and starts another on the same task queue, running the workflow
   * bundle at `bundlePath` (a deploy of changed workflow code) or the current source.
   */
  replaceTourWorker(bundlePath?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The whole product for one test file: the simulator with the given operators, a migrated schema, a
 * blob folder, and both worker kinds running the real activities against the real Temporal server.
 */
export interface PipelineOptions {
  /** Extra YAML lines per operator id in the operators file, e.g. `timeoutMs: 2000`. */
  operatorYaml?: Record<string, string>;
  /** Operators served without a per-product endpoint whose file entry does not say so (the default applies). */
  detailEndpointUnsaid?: string[];
  /** Another PostgreSQL than the suite's (e.g. a private cluster a test restarts). */
  databaseUrl?: string;
  /** IMAGE_RECHECK_MINUTES in ms; unset: every image is asked for on every import. */
  imageRecheckMs?: number;
  /** Another blob store than the local folder (e.g. S3); it gets the blob folder for staging. */
  createStore?: (blobDir: string) => BlobStore;
  /** Notification sinks of the tour-import worker (src/notify/sinks.ts). */
  sinks?: Sink[];
  /** A prebuilt workflow bundle for the tour-import worker (a given release of the workflows). */
  tourWorkerBundle?: string;
  /** Interceptors of the client `startImport` uses (e.g. tracing's, as the CLI's client has them). */
  clientInterceptors?: ClientInterceptors;
  /** Operators served by something else than the simulator: their operators-file entries and secrets. */
  extraOperators?: { yaml: string; secrets: Record<string, string> }[];
}

/**
 * The HTTP API over this pipeline (its database, blob store, operators and task queues); `options`
 * adds or overrides what a test needs (credentials, webhook secrets, another client).
 */
export function createPipelineApi(p: Pipeline, options: Partial<ApiOptions> = {}) {
  return createApi({
    pool: p.db.pool,
    client: p.env.client,
    store: p.store,
    operators: p.configs,
    secret: () => undefined,
    taskQueue: p.taskQueue,
    imageTaskQueue: p.imageTaskQueue,
    temporalUiUrl: 'http://localhost:8233',
    ...options,
  });
}

export async function startPipeline(
  label: string,
  operators: OperatorSpecInput[],
  options: PipelineOptions = {},
): Promise<Pipeline> {
  const sim = await startSimulator({ port: 0, operators });
  const db = await createTestDb(label, options.databaseUrl);
  const blobDir = mkdtempSync(path.join(os.tmpdir(), `blobs-${label}-`));
  const store = (options.createStore ?? createLocalBlobStore)(blobDir);
  const secrets: Record<string, string> = {};
  const yaml = sim.operators().map((o) => {
    const env = `OP_${o.id.replace(/-/g, '_').toUpperCase()}_API_KEY`;
    secrets[env] = o.dialect === 'C' ? o.credentials.apiKey : o.credentials.apiKey;
    const c =
      o.dialect === 'C'
        ? `channelId: ${o.credentials.channelId}\n    marketplaceId: ${o.credentials.marketplaceId}\n    `
        : '';
    // An operator the simulator serves without its per-product endpoint is configured so, as a user would.
    const detail =
      o.detailEndpoint || options.detailEndpointUnsaid?.includes(o.id) ? '' : 'detailEndpoint: false\n    ';
    return `  - id: ${o.id}\n    name: ${o.id}\n    dialect: ${o.dialect}\n    baseUrl: ${o.baseUrl}\n    ${c}${detail}apiKeyEnv: ${env}\n    rateLimit: { requestsPerSecond: 200 }\n    window: 8${options.operatorYaml?.[o.id] ? `\n    ${options.operatorYaml[o.id]}` : ''}`;
  });
  for (const extra of options.extraOperators ?? []) {
    yaml.push(extra.yaml);
    Object.assign(secrets, extra.secrets);
  }
  const configs = parseOperatorsYaml(`operators:\n${yaml.join('\n')}\n`, `${label}.yaml`);
  await syncOperators(db.pool, configs);
  const env = await connectTestEnv();
  const taskQueue = uniqueName(`${label}-tours`);
  const starter = options.clientInterceptors
    ? new Client({ connection: env.connection, interceptors: options.clientInterceptors })
    : env.client;
  const imageTaskQueue = uniqueName(`${label}-images`);
  const images = {
    widths: [1200, 600, 200],
    formats: ['jpeg', 'webp'] as const,
    maxPixels: 100_000_000,
    maxBytes: 20 * 1024 * 1024,
    allowPrivateHosts: ['127.0.0.1'],
  };
  const deps = {
    connection: env.nativeConnection,
    namespace: 'default',
    pool: db.pool,
    store,
    images: { ...images, formats: [...images.formats], recheckAfterMs: options.imageRecheckMs },
    adapterFor: createAdapterResolver(configs, { pool: db.pool, secret: (n) => secrets[n] }),
    sinks: options.sinks,
    schedules: {
      pause: (operatorId: string, note: string) => pauseOperatorSchedules(env.client, operatorId, note),
      unpause: (operatorId: string, note: string) => unpauseOperatorSchedules(env.client, operatorId, note),
    },
    isWorkflowRunning: async (workflowId: string) => {
      try {
        return (await env.client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err; // unsure: never take over a lock on a transient error
      }
    },
  };
  const imageWorker = await createImageWorker(deps, { taskQueue: imageTaskQueue });
  const runs = [imageWorker.run()];
  let tourWorker = await createTourImportWorker(deps, { taskQueue, bundlePath: options.tourWorkerBundle });
  let tourRun = tourWorker.run();
  return {
    sim,
    db,
    store,
    blobDir,
    env,
    taskQueue,
    imageTaskQueue,
    configs,
    startImport(operatorId, mode, settings = {}, workflowId = uniqueName(`import-${operatorId}`)) {
      return starter.workflow.start(ImportOperator, {
        taskQueue,
        workflowId,
        args: [
          {
            operatorId,
            mode,
            settings: { imageTaskQueue, retry: { initialIntervalMs: 200, maximumAttempts: 3 }, ...settings },
          },
        ],
      });
    },
    async replaceTourWorker(bundlePath) {
      tourWorker.shutdown();
      await tourRun;
      tourWorker = await createTourImportWorker(deps, { taskQueue, bundlePath });
      tourRun = tourWorker.run();
    },
    async close() {
      for (const w of [tourWorker, imageWorker]) w.shutdown();
      await Promise.allSettled([...runs, tourRun]);
      await env.teardown();
      await sim.close();
      await db.drop();
      rmSync(blobDir, { recursive: true, force: true });
    },
  };
}
