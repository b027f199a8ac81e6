import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperatorSpecInput } from '../../tooling/simulator/types.js';
import type { ImportOperatorResult } from '../../src/workflows/types.js';
import { waitFor } from '../helpers/wait.js';
import { startCoreHost, type CoreHost } from './core-host.js';
import { assertCanMakeHosts, createNetwork, removeLeftovers, type Host, type Network } from './netns.js';

/**
 * Hosts that share nothing but the network (docs/operations.md "Scaling across hosts"): a core host (Temporal
 * server, PostgreSQL, S3, the operator simulator), one tour-import worker host and two image worker
 * hosts, each a network namespace with its own empty data folder; blobs go to S3. One host dies
 * (every process SIGKILLed) mid-import; the import completes on the others.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
/** Activities in flight per image host (each one tour's images): what a dying host can leave half-done. */
const IMAGE_SLOTS = 3;

const operators = (label: string): OperatorSpecInput[] =>
  [
    { id: `${label}-a`, dialect: 'A' as const, seed: 11 },
    { id: `${label}-c`, dialect: 'C' as const, seed: 12 },
  ].map((o) => ({
    ...o,
    tourCount: 10,
    imagesPerTour: { min: 2, max: 3 },
    imageWidth: 1200,
    imageHeight: 800,
    latency: { apiMs: 40, imageMs: 150, jitterMs: 0 },
  }));

interface WorkerHost {
  host: Host;
  kind: 'tour-import' | 'image-processing';
  logFile: string;
  metricsUrl: string;
}

describe('hosts that share only the network', () => {
  let net: Network;
  let dir: string;
  let core: CoreHost;
  let db: pg.Pool;
  let client: Client;
  let s3: S3Client;
  const secrets: Record<string, string> = {};
  let operatorsYaml = '';

  beforeAll(async () => {
    assertCanMakeHosts();
    removeLeftovers();
    dir = mkdtempSync(path.join(os.tmpdir(), 'hosts-'));
    net = createNetwork(['core', 'tours1', 'images1', 'images2']);
    const subnet = net.gatewayIp.split('.').slice(0, 3).join('.');
    core = await startCoreHost(net.hosts['core']!, path.join(dir, 'core'), subnet, [
      ...operators('imgdie'),
      ...operators('tourdie'),
    ]);
    db = new pg.Pool({ connectionString: core.databaseUrl, max: 4 });
    client = new Client({ connection: await Connection.connect({ address: core.temporalAddress }) });
    s3 = new S3Client({
      endpoint: core.s3.endpoint,
      region: core.s3.region,
      credentials: core.s3.credentials,
      forcePathStyle: true,
    });
    operatorsYaml = `operators:\n${core.simulator.operators
      .map((o) => {
        const env = `OP_${o.id.replace(/-/g, '_').toUpperCase()}_API_KEY`;
        secrets[env] = o.credentials.apiKey;
        const c =
          o.dialect === 'C'
            ? `\n    channelId: ${(o.credentials as { channelId?: string }).channelId}\n    marketplaceId: ${(o.credentials as { marketplaceId?: string }).marketplaceId}`
            : '';
        return `  - id: ${o.id}\n    name: ${o.id}\n    dialect: ${o.dialect}\n    baseUrl: ${o.baseUrl}${c}\n    apiKeyEnv: ${env}\n    rateLimit: { requestsPerSecond: 100 }\n    window: 6`;
      })
      .join('\n')}\n`;
  }, 600_000);

  afterAll(async () => {
    s3?.destroy();
    await client?.connection.close();
    await db?.end();
    net?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A worker host: its own empty data folder and copy of the operators file; only the network shared. */
  async function startWorkerHost(host: Host, kind: WorkerHost['kind']): Promise<WorkerHost> {
    const home = path.join(dir, host.name);
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, 'operators.yaml'), operatorsYaml);
    const logFile = path.join(home, `${kind}.log`);
    const out = openSync(logFile, 'a');
    const child = host.spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/workers', `${kind}.ts`)],
      {
        cwd: ROOT,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: home,
          NODE_ENV: 'production',
          ...secrets,
          TEMPORAL_ADDRESS: core.temporalAddress,
          DATABASE_URL: core.databaseUrl,
          TOUR_IMPORT_DATA_DIR: home,
          BLOB_DIR: path.join(home, 'blobs'),
          BLOB_STORE: 's3',
          S3_BUCKET: core.s3.bucket,
          S3_ENDPOINT: core.s3.endpoint,
          AWS_REGION: core.s3.region,
          AWS_ACCESS_KEY_ID: core.s3.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: core.s3.credentials.secretAccessKey,
          OPERATORS_FILE: path.join(home, 'operators.yaml'),
          ALLOW_PRIVATE_HOSTS: net.hosts['core']!.ip,
          WORKER_METRICS_BIND: `${host.ip}:9464`,
          IMAGE_WORKER_MAX_ACTIVITIES: String(IMAGE_SLOTS),
          IMAGE_WORKER_MAX_RESIZES: '1',
          UV_THREADPOOL_SIZE: '2',
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', out, out],
      },
    );
    await waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`${kind} on ${host.name} exited:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
        return readFileSync(logFile, 'utf8').includes(`${kind} worker started`) || undefined;
      },
      180_000,
      `${kind} worker on ${host.name}`,
    );
    return { host, kind, logFile, metricsUrl: `http://${host.ip}:9464/metrics` };
  }

  /** Activities this host's worker completed, from its Temporal SDK metrics. */
  async function activitiesDone(w: WorkerHost): Promise<number> {
    const text = await fetch(w.metricsUrl).then((r) => r.text());
    return text
      .split('\n')
      .filter((l) => l.startsWith('temporal_activity_execution_latency_count'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }

  const startImport = (operatorId: string) =>
    client.workflow.start('ImportOperator', {
      taskQueue: 'tour-import',
      workflowId: `import-${operatorId}-${Date.now()}`,
      args: [{ operatorId, mode: 'full' }],
    });

  async function imagesDone(prefix: string): Promise<number> {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id
        WHERE t.operator_id LIKE $1 AND ta.status = 'ready'`,
      [`${prefix}-%`],
    );
    return rows[0].n;
  }

  /** Every tour once, every image ready, and the bucket holds exactly the objects the rows reference. */
  async function expectConsistent(prefix: string): Promise<{ tours: number; images: number }> {
    let tours = 0;
    for (const op of core.simulator.operators.filter((o) => o.id.startsWith(`${prefix}-`))) {
      const expected = (await fetch(`${core.simulator.url}/admin/operators/${op.id}/tours`).then((r) =>
        r.json(),
      )) as {
        codes: (string | number)[];
      };
      const { rows } = await db.query(
        `SELECT external_id FROM tours WHERE operator_id = $1 AND status = 'active' ORDER BY 1`,
        [op.id],
      );
      expect(rows.map((r) => r.external_id)).toEqual(expected.codes.map(String).sort());
      tours += rows.length;
    }
    const assets = await db.query(
      `SELECT ta.status FROM tour_assets ta JOIN tours t ON t.id = ta.tour_id WHERE t.operator_id LIKE $1`,
      [`${prefix}-%`],
    );
    expect(assets.rows.filter((r) => r.status !== 'ready')).toEqual([]);
    const keys = (
      await db.query(`SELECT storage_key FROM assets UNION ALL SELECT storage_key FROM asset_variants`)
    ).rows.map((r) => r.storage_key as string);
    expect(new Set(keys).size).toBe(keys.length);
    const objects: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: core.s3.bucket, ContinuationToken: token }),
      );
      objects.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    expect(objects.sort()).toEqual(keys.sort());
    return { tours, images: assets.rows.length };
  }

  it('an image host dies mid-import: the other finishes, each tour, image and object once', async () => {
    const tours1 = await startWorkerHost(net.hosts['tours1']!, 'tour-import');
    const [images1, images2] = await Promise.all([
      startWorkerHost(net.hosts['images1']!, 'image-processing'),
      startWorkerHost(net.hosts['images2']!, 'image-processing'),
    ]);
    const started = Date.now();
    const handles = await Promise.all(operators('imgdie').map((o) => startImport(o.id)));
    await waitFor(
      async () => ((await imagesDone('imgdie')) >= 12 ? true : undefined),
      240_000,
      'a third of the images',
    );
    const doneByDead = await activitiesDone(images1);
    const killed = images1.host.kill();
    expect(killed).toBeGreaterThan(0);

    const results = (await Promise.all(handles.map((h) => h.result()))) as ImportOperatorResult[];
    const seconds = (Date.now() - started) / 1000;
    for (const r of results) expect(r).toMatchObject({ status: 'completed', progress: { failed: 0 } });
    const { tours, images } = await expectConsistent('imgdie');
    const doneBySurvivor = await activitiesDone(images2);
    // Both image hosts did part of the work.
    expect(doneByDead).toBeGreaterThan(0);
    expect(doneBySurvivor).toBeGreaterThan(0);
    // Nothing done twice beyond the dead host's in-flight activities, which Temporal retries elsewhere
    // (one importTourImages activity per tour; the dead host's count was read just before it died).
    expect(doneByDead + doneBySurvivor).toBeLessThanOrEqual(tours + IMAGE_SLOTS);
    console.log(
      `hosts: ${tours} tours, ${images} images in ${seconds.toFixed(1)} s (${(tours / seconds).toFixed(2)} tours/s); ` +
        `image activities: dead host ${doneByDead} before it died, survivor ${doneBySurvivor}; ` +
        `tour host ${await activitiesDone(tours1)} activities`,
    );
    tours1.host.kill();
    images2.host.kill();
  });

  it('the tour-import host dies mid-import: a host started afterwards resumes the workflows', async () => {
    const tours1 = await startWorkerHost(net.hosts['tours1']!, 'tour-import');
    const images2 = await startWorkerHost(net.hosts['images2']!, 'image-processing');
    const handles = await Promise.all(operators('tourdie').map((o) => startImport(o.id)));
    await waitFor(
      async () => ((await imagesDone('tourdie')) >= 12 ? true : undefined),
      240_000,
      'a third of the images',
    );
    expect(tours1.host.kill()).toBeGreaterThan(0);
    const tours2 = await startWorkerHost(net.addHost('tours2'), 'tour-import');
    const results = (await Promise.all(handles.map((h) => h.result()))) as ImportOperatorResult[];
    for (const r of results) expect(r).toMatchObject({ status: 'completed', progress: { failed: 0 } });
    await expectConsistent('tourdie');
    expect(await activitiesDone(tours2)).toBeGreaterThan(0);
    tours2.host.kill();
    images2.host.kill();
  });
});
