import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ApiOptions } from '../../src/api/app.js';
import { signWebhook } from '../../src/domain/webhook-signature.js';
import { TASK_QUEUES, importTourWorkflowId } from '../../src/constants.js';
import { freePort } from '../../src/infra/dev-server.js';
import { testLogFile } from '../helpers/data-dir.js';
import { createPipelineApi, startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/**
 * A webhook delivery on real servers is `duplicate` only once every one of its tours was started: a retry
 * while the first attempt is still starting them gets 409, and a delivery whose attempt failed or died
 * halfway is started again in full. Starting is made slow, or cut, by a real slow network in front of
 * Temporal, and an attempt dies by killing the API process.
 */
const OP = `dlv${randomBytes(3).toString('hex')}`;
const CRASH_OP = `crash${randomBytes(3).toString('hex')}`; // served by an API process that gets killed
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const SECRET_ENV = 'OP_WEBHOOK_SECRET';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LATENCY_MS = 250; // each way: one start takes at least 0.5 s through the slow link
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
  async function slowLink(): Promise<SlowLink> {
    const link = await startSlowLink(inject('temporalAddress'), LATENCY_MS);
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
    const app = await api(await clientThrough((await slowLink()).address));
    const tours = codes(OP, 4);
    const id = newId();
    let firstDone = false;
    const first = push(app, OP, id, tours).finally(() => (firstDone = true));
    await until(() => started(OP, tours[0]), 'the first tour started');

    const retry = await push(app, OP, id, tours);
    expect(firstDone, 'the first attempt ended before the retry: the slow link is not slow enough').toBe(
      false,
    );
    expect(retry.statusCode).toBe(409);
    expect(retry.json()).toMatchObject({ status: 'in_progress', webhookId: id });

    const accepted = await first;
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json().imports).toHaveLength(tours.length);
    const again = await push(app, OP, id, tours);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'duplicate', webhookId: id });
    await expectImported(tours);
  });

  it('a delivery that failed halfway (Temporal unreachable after its first tour) is started in full when sent again', async () => {
    const link = await slowLink();
    const app = await api(await clientThrough(link.address));
    const tours = codes(OP, 8).slice(4);
    const id = newId();
    const first = push(app, OP, id, tours);
    await until(() => started(OP, tours[0]), 'the first tour started');
    link.cut();
    expect((await first).statusCode).toBe(503);
    expect(await startedCount(OP, tours)).toBeLessThan(tours.length);

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
    const apiProcess = await spawnApi((await slowLink()).address);
    closers.push(() => apiProcess.kill());
    const id = newId();
    const { headers, payload } = signed(id, tours);
    const first = fetch(`${apiProcess.url}/webhooks/operators/${CRASH_OP}/tours`, {
      method: 'POST',
      headers,
      body: payload,
    }).catch(() => undefined);
    await until(() => started(CRASH_OP, tours[0]), 'the first tour started');
    await apiProcess.kill();
    await first;
    expect(await startedCount(CRASH_OP, tours)).toBeLessThan(tours.length);

    // The process's API as it comes back (same task queues as `npm run api`).
    const queues = { taskQueue: TASK_QUEUES.tourImport, imageTaskQueue: TASK_QUEUES.imageProcessing };
    const restarted = await api(p.env.client, queues);
    const early = await push(restarted, CRASH_OP, id, tours);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ status: 'in_progress' });

    // Once the dead attempt's claim is older than the takeover timeout (shortened here), a retry takes it.
    const takeoverMs = 500;
    await sleep(takeoverMs + 100);
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

interface SlowLink {
  address: string;
  /** Drops every connection and refuses new ones: Temporal is unreachable through this link. */
  cut(): void;
  close(): Promise<void>;
}

/**
 * A TCP relay in front of `target` that delays every chunk by `latencyMs` each way: a slow network, so a
 * delivery's tours are started slowly without touching the code under test.
 */
async function startSlowLink(target: string, latencyMs: number): Promise<SlowLink> {
  const at = target.lastIndexOf(':');
  const [host, port] = [target.slice(0, at), Number(target.slice(at + 1))];
  const sockets = new Set<net.Socket>();
  let down = false;
  const relay = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), latencyMs));
    from.on('end', () => setTimeout(() => to.end(), latencyMs));
  };
  const server = net.createServer((inbound) => {
    if (down) return inbound.destroy();
    const outbound = net.connect(port, host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => [inbound, outbound].forEach((x) => x.destroy()));
    }
    relay(inbound, outbound);
    relay(outbound, inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    down = true;
    for (const s of sockets) s.destroy();
  };
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut,
    close: () => {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
