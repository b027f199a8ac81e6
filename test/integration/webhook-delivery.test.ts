import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ApiOptions } from '../../src/api/app.js';
import { signWebhook } from '../../src/domain/webhook-signature.js';
import { TASK_QUEUES, importTourWorkflowId } from '../../src/constants.js';
import { freePort } from '../../tooling/servers/dev-server.js';
import { testLogFile } from '../helpers/data-dir.js';
import { createPipelineApi, startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/**
 * A webhook delivery on real servers is `duplicate` only once every one of its tours was started: a retry
 * while the first attempt is still starting them gets 409, and a delivery whose attempt failed or died
 * halfway is started again in full. An attempt is caught mid-way by a real network link in front of
 * Temporal that holds back Temporal's answers: its first tour is started on the server while the API still
 * waits for the answer. Then the link is cut, or the API process is killed, or the answers are let through.
 */
const OP = `dlv${randomBytes(3).toString('hex')}`;
const CRASH_OP = `crash${randomBytes(3).toString('hex')}`; // served by an API process that gets killed
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const SECRET_ENV = 'OP_WEBHOOK_SECRET';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const catalog = { tourCount: 10, imagesPerTour: { min: 1, max: 1 }, imageWidth: 400, imageHeight: 267 };

describe('webhook deliveries: duplicate only once every tour was started', () => {
  let p: Pipeline;
  let tmp: string;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    p = await startPipeline('webhook', [
      { id: OP, dialect: 'A', seed: 11, ...catalog },
      { id: CRASH_OP, dialect: 'A', seed: 12, ...catalog },
    ]);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'webhook-delivery-'));
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await p?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const codes = (operatorId: string, n: number) => p.sim.operator(operatorId).activeCodes().slice(0, n);
  const newId = () => `msg_${randomBytes(8).toString('hex')}`;
  function signed(webhookId: string, tours: string[]) {
    const payload = JSON.stringify({ tours });
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = {
      'content-type': 'application/json',
      'webhook-id': webhookId,
      'webhook-timestamp': ts,
      'webhook-signature': signWebhook(SECRET, webhookId, ts, payload),
    };
    return { headers, payload };
  }
  const push = (app: FastifyInstance, operatorId: string, webhookId: string, tours: string[]) =>
    app.inject({
      method: 'POST',
      url: `/webhooks/operators/${operatorId}/tours`,
      ...signed(webhookId, tours),
    });

  async function api(client: Client, o: Partial<ApiOptions> = {}): Promise<FastifyInstance> {
    const app = await createPipelineApi(p, {
      client,
      operators: p.configs.map((c) => ({ ...c, webhookSecretEnv: SECRET_ENV })),
      secret: (name) => (name === SECRET_ENV ? SECRET : undefined),
      ...o,
    });
    closers.push(() => app.close());
    return app;
  }
  async function clientThrough(address: string): Promise<Client> {
    const client = new Client({ connection: await Connection.connect({ address }) });
    closers.push(() => client.connection.close());
    return client;
  }
  async function openLink(): Promise<TemporalLink> {
    const link = await startLink(inject('temporalAddress'));
    closers.push(() => link.close());
    return link;
  }
  async function started(operatorId: string, externalId: string): Promise<boolean> {
    try {
      await p.env.client.workflow.getHandle(importTourWorkflowId(operatorId, externalId)).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }
  /** Asked of PostgreSQL's clock, the one a claim's age is judged by (claimWebhookDelivery). */
  async function claimOlderThan(operatorId: string, webhookId: string, ms: number): Promise<boolean> {
    const { rows } = await p.db.pool.query(
      `SELECT claimed_at < now() - make_interval(secs => $3 / 1000.0) AS stale
         FROM webhook_deliveries WHERE operator_id = $1 AND webhook_id = $2 AND status = 'starting'`,
      [operatorId, webhookId, ms],
    );
    return rows[0]?.stale === true;
  }
  const startedCount = async (operatorId: string, tours: string[]) =>
    (await Promise.all(tours.map((t) => started(operatorId, t)))).filter(Boolean).length;
  async function expectImported(tours: string[]) {
    for (const ext of tours) {
      const result = await p.env.client.workflow.getHandle(importTourWorkflowId(OP, ext)).result();
      // A tour started before a failure may have been imported already, and is `unchanged` by the retry's run.
      expect(['imported', 'unchanged']).toContain(result.outcome);
    }
    const { rows } = await p.db.pool.query(
      `SELECT external_id FROM tours WHERE operator_id = $1 AND status = 'active' AND external_id = ANY($2)`,
      [OP, tours],
    );
    expect(rows.map((r) => r.external_id).sort()).toEqual([...tours].sort());
  }

  it('a retry while the first attempt is still starting its tours gets 409 in progress, then duplicate once all were started', async () => {
    const link = await openLink();
    const app = await api(await clientThrough(link.address));
    const tours = codes(OP, 4);
    const id = newId();
    let firstDone = false;
    link.hold();
    const first = push(app, OP, id, tours).finally(() => (firstDone = true));
    await until(() => started(OP, tours[0]), 'the first tour started');

    // The first attempt waits for the answer to its first start, which the link holds back.
    const retry = await push(app, OP, id, tours);
    expect(firstDone).toBe(false);
    expect(retry.statusCode).toBe(409);
    expect(retry.json()).toMatchObject({ status: 'in_progress', webhookId: id });

    link.release();
    const accepted = await first;
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json().imports).toHaveLength(tours.length);
    const again = await push(app, OP, id, tours);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'duplicate', webhookId: id });
    await expectImported(tours);
  });

  it('a delivery that failed halfway (Temporal unreachable after its first tour) is started in full when sent again', async () => {
    const link = await openLink();
    const app = await api(await clientThrough(link.address));
    const tours = codes(OP, 8).slice(4);
    const id = newId();
    link.hold();
    const first = push(app, OP, id, tours);
    await until(() => started(OP, tours[0]), 'the first tour started');
    link.cut();
    expect((await first).statusCode).toBe(503);
    expect(await startedCount(OP, tours)).toBe(1);

    // The sender retries (here through an API that reaches Temporal again): not a duplicate, every tour.
    const retry = await push(await api(p.env.client), OP, id, tours);
    expect(retry.statusCode).toBe(202);
    expect(retry.json().imports.map((i: { externalId: string }) => i.externalId)).toEqual(tours);
    await expectImported(tours);
  });

  it('a delivery whose API process was killed while starting its tours is taken over and started in full', async () => {
    const tours = codes(CRASH_OP, 5);
    const workflowIds = tours.map((t) => importTourWorkflowId(CRASH_OP, t));
    closers.push(() => Promise.all(workflowIds.map((w) => terminate(p.env.client, w))));
    const link = await openLink();
    const apiProcess = await spawnApi(link.address);
    closers.push(() => apiProcess.kill());
    const id = newId();
    link.hold(); // the process is connected already: it listens only after connecting to Temporal
    const { headers, payload } = signed(id, tours);
    const first = fetch(`${apiProcess.url}/webhooks/operators/${CRASH_OP}/tours`, {
      method: 'POST',
      headers,
      body: payload,
    }).catch(() => undefined);
    await until(() => started(CRASH_OP, tours[0]), 'the first tour started');
    await apiProcess.kill();
    await first;
    expect(await startedCount(CRASH_OP, tours)).toBe(1);

    // The process's API as it comes back (same task queues as `npm run api`).
    const queues = { taskQueue: TASK_QUEUES.tourImport, imageTaskQueue: TASK_QUEUES.imageProcessing };
    const restarted = await api(p.env.client, queues);
    const early = await push(restarted, CRASH_OP, id, tours);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ status: 'in_progress' });

    // Once the dead attempt's claim is older than the takeover timeout (shortened here), a retry takes it.
    const takeoverMs = 500;
    await until(
      () => claimOlderThan(CRASH_OP, id, takeoverMs),
      "the dead attempt's claim outlived the takeover",
    );
    const restartedLater = await api(p.env.client, { ...queues, deliveryTakeoverMs: takeoverMs });
    const retry = await push(restartedLater, CRASH_OP, id, tours);
    expect(retry.statusCode).toBe(202);
    expect(await startedCount(CRASH_OP, tours)).toBe(tours.length);
    expect((await push(restartedLater, CRASH_OP, id, tours)).json()).toMatchObject({ status: 'duplicate' });
  });

  /** `npm run api` as its own process, reaching Temporal at `temporalAddress`; its log goes to a file. */
  async function spawnApi(temporalAddress: string) {
    const port = await freePort();
    const operatorsFile = path.join(tmp, 'operators.yaml');
    const { baseUrl } = p.configs.find((c) => c.id === CRASH_OP)!;
    writeFileSync(
      operatorsFile,
      `operators:\n  - id: ${CRASH_OP}\n    name: ${CRASH_OP}\n    dialect: A\n    baseUrl: ${baseUrl}\n` +
        `    apiKeyEnv: OP_CRASH_API_KEY\n    webhookSecretEnv: ${SECRET_ENV}\n    rateLimit: { requestsPerSecond: 200 }\n    window: 8\n`,
    );
    const logFile = testLogFile('api.log');
    const fd = openSync(logFile, 'a');
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/api/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        DATABASE_URL: p.db.url,
        DATABASE_SCHEMA: p.db.schema,
        TEMPORAL_ADDRESS: temporalAddress,
        OPERATORS_FILE: operatorsFile,
        [SECRET_ENV]: SECRET,
        API_PORT: String(port),
        // A guarded API, as in production: webhooks still need only their signature.
        API_TOKEN: 'webhook-delivery-test-token',
        BLOB_DIR: p.blobDir,
        TOUR_IMPORT_DATA_DIR: tmp,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`the API exited:\n${readFileSync(logFile, 'utf8')}`);
      return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok ?? false;
    }, `API process listening (log: ${logFile})`);
    return {
      url,
      async kill() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    };
  }
});

async function terminate(client: Client, workflowId: string) {
  await client.workflow
    .getHandle(workflowId)
    .terminate('test cleanup')
    .catch(() => undefined);
}

interface TemporalLink {
  address: string;
  /**
   * Holds back what Temporal sends, in order, until release(): requests still reach it, so a start is
   * made on the server while its caller waits for the answer.
   */
  hold(): void;
  release(): void;
  /** Drops every connection and refuses new ones: Temporal is unreachable through this link. */
  cut(): void;
  close(): Promise<void>;
}

/** A TCP relay in front of `target`: a network between the code under test and Temporal that a test controls. */
async function startLink(target: string): Promise<TemporalLink> {
  const at = target.lastIndexOf(':');
  const [host, port] = [target.slice(0, at), Number(target.slice(at + 1))];
  const sockets = new Set<net.Socket>();
  let down = false;
  let held: (() => void)[] | undefined;
  const answer = (deliver: () => void) => (held ? held.push(deliver) : deliver());
  const server = net.createServer((inbound) => {
    if (down) return inbound.destroy();
    const outbound = net.connect(port, host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => [inbound, outbound].forEach((x) => x.destroy()));
    }
    inbound.on('data', (chunk) => outbound.destroyed || outbound.write(chunk));
    inbound.on('end', () => outbound.end());
    outbound.on('data', (chunk) => answer(() => inbound.destroyed || inbound.write(chunk)));
    outbound.on('end', () => answer(() => inbound.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    down = true;
    held = undefined;
    for (const s of sockets) s.destroy();
  };
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: () => {
      held ??= [];
    },
    release: () => {
      const queued = held ?? [];
      held = undefined;
      for (const deliver of queued) deliver();
    },
    cut,
    close: () => {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
