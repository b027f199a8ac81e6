import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOperatorsYaml, type OperatorConfig } from '../../src/operators/registry.js';
import { syncOperators } from '../../src/operators/resolver.js';
import { startSimulator, type Simulator } from '../../tooling/simulator/server.js';
import { createLocalBlobStore, originalKey, variantKey, type BlobStore } from '../../src/storage/index.js';
import { readyAssetsStored, variantRowsStored } from '../../soak/checker/blobs.js';
import { listedToursCurrent, removedToursGone, unlistedToursRemoved } from '../../soak/checker/catalog.js';
import {
  checkInvariants,
  finalImportsCompleted,
  heldRemovalsCaused,
  noProjectProcessDied,
  readOperatorTruth,
  type CheckInput,
  type OperatorTruth,
} from '../../soak/checker/index.js';
import { notificationsOnce, personPausesTold } from '../../soak/checker/notifications.js';
import { pushesImported, pushesStartedOnce } from '../../soak/checker/pushes.js';
import { noImportRunning, noLockHeld, pausesExplained } from '../../soak/checker/quiet.js';
import type { ReceivedNotification } from '../../soak/notifications.js';
import { operatorSecrets, operatorsYaml } from '../../soak/operators.js';
import { settleHeld } from '../../soak/person.js';
import type { DeliveryAttempt } from '../../soak/pushes.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { connectTestEnv, uniqueName } from '../helpers/temporal.js';

/**
 * The soak's checker can fail: each invariant, given a final state that breaks it (a real PostgreSQL
 * schema, a local blob store, the real simulator read through the product's adapters, the suite's
 * Temporal server), fails and names the rows; given a consistent state, every invariant passes.
 */
const IMAGES = { widths: [200], formats: ['jpeg'] };
const SHA = 'ab'.repeat(32);

describe('the soak checker', () => {
  let sim: Simulator;
  let db: TestDb;
  let env: TestWorkflowEnvironment;
  let store: BlobStore;
  let blobDir: string;
  let configs: OperatorConfig[];
  let secrets: Record<string, string>;
  /** A task queue no worker polls: workflows started on it stay running. */
  const idleQueue = uniqueName('soak-checker-idle');

  const truth = () => readOperatorTruth(configs, (name) => secrets[name]);
  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);

  beforeAll(async () => {
    sim = await startSimulator({
      operators: [
        { id: 'chk-a', dialect: 'A', seed: 1, tourCount: 10, imagesPerTour: { min: 0, max: 0 } },
        { id: 'chk-c', dialect: 'C', seed: 2, tourCount: 10, imagesPerTour: { min: 0, max: 0 } },
      ],
    });
    configs = parseOperatorsYaml(operatorsYaml(sim.operators()), 'soak operators');
    secrets = operatorSecrets(sim.operators());
    db = await createTestDb('soakcheck');
    await syncOperators(db.pool, configs);
    env = await connectTestEnv();
    blobDir = mkdtempSync(path.join(os.tmpdir(), 'soak-checker-blobs-'));
    store = createLocalBlobStore(blobDir);
    await consistentCatalog(await truth());
  });

  afterAll(async () => {
    await env?.teardown();
    await db?.drop();
    await sim?.close();
    if (blobDir) rmSync(blobDir, { recursive: true, force: true });
  });

  /** Every listed tour stored with its current hash; the last one (no test removes it) has a ready image with all its blobs. */
  async function consistentCatalog(t: OperatorTruth[]) {
    for (const op of t)
      for (const [externalId, hash] of op.active)
        await q(
          `INSERT INTO tours (operator_id, external_id, status, title, content_hash, fetched_at)
           VALUES ($1, $2, 'active', 'a tour', $3, now())`,
          [op.operatorId, externalId, hash],
        );
    await store.put(originalKey(SHA), Buffer.from('original'));
    await store.put(variantKey(SHA, 200, 'jpeg'), Buffer.from('variant'));
    await q(`INSERT INTO assets (sha256, storage_key, bytes) VALUES ($1, $2, 8)`, [SHA, originalKey(SHA)]);
    await q(
      `INSERT INTO asset_variants (sha256, width, format, storage_key, actual_width, actual_height, bytes)
       VALUES ($1, 200, 'jpeg', $2, 200, 133, 7)`,
      [SHA, variantKey(SHA, 200, 'jpeg')],
    );
    await q(
      `INSERT INTO tour_assets (tour_id, position, source_url, sha256, status)
       SELECT id, 0, 'http://operator/img.jpg', $1, 'ready' FROM tours ORDER BY id DESC LIMIT 1`,
      [SHA],
    );
  }

  function input(t: OperatorTruth[], more: Partial<CheckInput> = {}): CheckInput {
    return {
      pool: db.pool,
      store,
      client: env.client,
      taskQueue: idleQueue,
      images: IMAGES,
      truth: t,
      deliveries: [],
      notifications: [],
      wrongHolds: [],
      personActions: [],
      unexpectedExits: [],
      finalImports: configs.map((c) => ({ operatorId: c.id, status: 'completed', message: 'ok' })),
      ...more,
    };
  }

  it('a consistent final state passes every invariant', async () => {
    const results = await checkInvariants(input(await truth()));
    expect(results.filter((r) => !r.passed)).toEqual([]);
    expect(results).toHaveLength(15);
  });

  it('a listed tour missing, stale or removed fails, naming each', async () => {
    const t = await truth();
    const [missing, stale, removed] = [...t[0]!.active.keys()];
    await q(`DELETE FROM tours WHERE operator_id = 'chk-a' AND external_id = $1`, [missing]);
    await q(`UPDATE tours SET content_hash = 'old' WHERE operator_id = 'chk-a' AND external_id = $1`, [
      stale,
    ]);
    await q(`UPDATE tours SET status = 'removed' WHERE operator_id = 'chk-a' AND external_id = $1`, [
      removed,
    ]);

    const current = await listedToursCurrent(db.pool, t);
    expect(current.passed).toBe(false);
    expect(current.rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          operatorId: 'chk-a',
          externalId: missing,
          problem: 'missing from the catalog',
        }),
        expect.objectContaining({ externalId: stale, problem: 'stale content', stored: 'old' }),
        expect.objectContaining({ externalId: removed, problem: 'removed in the catalog' }),
      ]),
    );
    expect(current.rows).toHaveLength(3);
    const wrongly = await removedToursGone(db.pool, t);
    expect(wrongly.rows).toEqual([
      { operatorId: 'chk-a', externalId: removed, problem: 'removed, but the operator lists it as active' },
    ]);

    await q(
      `INSERT INTO tours (operator_id, external_id, status, content_hash, fetched_at) VALUES ('chk-a', $1, 'active', $2, now())`,
      [missing, t[0]!.active.get(missing)],
    );
    await q(
      `UPDATE tours SET content_hash = $2, status = 'active' WHERE operator_id = 'chk-a' AND external_id = ANY($1)`,
      [[stale], t[0]!.active.get(stale)],
    );
    await q(
      `UPDATE tours SET content_hash = $2, status = 'active' WHERE operator_id = 'chk-a' AND external_id = ANY($1)`,
      [[removed], t[0]!.active.get(removed)],
    );
    expect((await listedToursCurrent(db.pool, t)).passed).toBe(true);
  });

  it('a tour the operator removed but the catalog keeps fails, unless its removal is held for a person', async () => {
    const code = sim.operator('chk-c').activeCodes()[0]!;
    sim.operator('chk-c').remove(code);
    const t = await truth();
    const kept = await unlistedToursRemoved(db.pool, t);
    expect(kept.rows).toEqual([
      { operatorId: 'chk-c', externalId: code, problem: 'active, but no longer listed by the operator' },
    ]);
    const run = await q(
      `INSERT INTO import_runs (operator_id, mode, status, workflow_id, run_id) VALUES ('chk-c', 'full', 'completed', 'w', 'r') RETURNING id`,
    );
    await q(
      `INSERT INTO removals (operator_id, external_id, import_run_id, evidence, status) VALUES ('chk-c', $1, $2, 'unlisted', 'held')`,
      [code, run.rows[0].id],
    );
    expect((await unlistedToursRemoved(db.pool, t)).passed).toBe(true);
  });

  it('a ready asset whose original or variant is gone, and a variant row naming nothing, fail', async () => {
    await store.delete(variantKey(SHA, 200, 'jpeg'));
    const ready = await readyAssetsStored(db.pool, store, IMAGES);
    expect(ready.rows).toEqual([
      expect.objectContaining({
        sha256: SHA,
        problem: `variant ${variantKey(SHA, 200, 'jpeg')} is not in the store`,
      }),
    ]);
    const variants = await variantRowsStored(db.pool, store);
    expect(variants.rows).toEqual([
      expect.objectContaining({
        sha256: SHA,
        width: 200,
        format: 'jpeg',
        problem: 'names an object that is not in the store',
      }),
    ]);
    await store.delete(originalKey(SHA));
    const widths = await readyAssetsStored(db.pool, store, { widths: [200, 600], formats: ['jpeg'] });
    expect(widths.rows.map((r) => r.problem)).toEqual(
      expect.arrayContaining([
        `original ${originalKey(SHA)} is not in the store`,
        'no variant row for 600/jpeg',
      ]),
    );
    await store.put(originalKey(SHA), Buffer.from('original'));
    await store.put(variantKey(SHA, 200, 'jpeg'), Buffer.from('variant'));
  });

  it('a lock held, a pause without reason or pauser, and imports left running are each named', async () => {
    await q(`UPDATE operators SET running_workflow_id = 'import:chk-a:stuck' WHERE id = 'chk-a'`);
    await q(
      `UPDATE operators SET paused = true, pause_reason = NULL, paused_by = 'person' WHERE id = 'chk-c'`,
    );
    const run = await q(
      `INSERT INTO import_runs (operator_id, mode, status, workflow_id, run_id) VALUES ('chk-a', 'delta', 'running', 'import:chk-a:stuck', 'r1') RETURNING id`,
    );
    const stuck = await env.client.workflow.start('ImportOperator', {
      taskQueue: idleQueue,
      workflowId: uniqueName('import:chk-a'),
      args: [{ operatorId: 'chk-a', mode: 'delta' }],
    });
    try {
      expect((await noLockHeld(db.pool)).rows).toEqual([
        expect.objectContaining({ operatorId: 'chk-a', lockHolder: 'import:chk-a:stuck' }),
      ]);
      expect((await pausesExplained(db.pool)).rows).toEqual([
        expect.objectContaining({ operatorId: 'chk-c', problem: 'paused without a reason' }),
      ]);
      const running = await noImportRunning(env.client, db.pool, idleQueue);
      expect(running.rows).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            workflowId: stuck.workflowId,
            type: 'ImportOperator',
            problem: 'still running in Temporal',
          }),
          expect.objectContaining({
            workflowId: 'import:chk-a:stuck',
            problem: 'import run recorded as running',
          }),
        ]),
      );
    } finally {
      await stuck.terminate('test over');
      await q(`UPDATE operators SET running_workflow_id = NULL, paused = false, paused_by = NULL`);
      await q(`UPDATE import_runs SET status = 'completed' WHERE id = $1`, [run.rows[0].id]);
    }
  });

  it('a pushed tour whose run did not complete, a run no delivery started, and a delivery accepted twice fail', async () => {
    const tourOf = (id: string) => `tour:chk-a:${id}`;
    const named = await env.client.workflow.start('ImportTour', {
      taskQueue: idleQueue,
      workflowId: tourOf('P-1'),
      args: [{ operatorId: 'chk-a', externalId: 'P-1' }],
    });
    const stray = await env.client.workflow.start('ImportTour', {
      taskQueue: idleQueue,
      workflowId: tourOf('P-2'),
      args: [{ operatorId: 'chk-a', externalId: 'P-2' }],
    });
    const accepted = (webhookId: string): DeliveryAttempt => ({
      webhookId,
      operatorId: 'chk-a',
      tours: ['P-1'],
      startedAt: Date.now(),
      endedAt: Date.now(),
      status: 202,
      outcome: 'accepted',
      imports: [{ externalId: 'P-1', workflowId: named.workflowId, runId: named.firstExecutionRunId }],
    });
    const deliveries = [accepted('msg_1'), accepted('msg_1')];
    try {
      const imported = await pushesImported(env.client, db.pool, deliveries);
      expect(imported.rows).toContainEqual(
        expect.objectContaining({ externalId: 'P-1', webhookId: 'msg_1', problem: 'its run ended running' }),
      );
      await named.terminate('test over');
      expect((await pushesImported(env.client, db.pool, deliveries)).rows).toContainEqual(
        expect.objectContaining({ problem: 'its run ended terminated' }),
      );
      const once = await pushesStartedOnce(env.client, deliveries, idleQueue);
      expect(once.rows).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            workflowId: stray.workflowId,
            problem: 'started by no accepted delivery',
          }),
          { delivery: 'chk-a/msg_1', problem: 'one webhook-id accepted 2 times' },
        ]),
      );
      expect(once.rows).toHaveLength(2);
    } finally {
      await stray.terminate('test over');
      await named.terminate('test over').catch(() => undefined);
    }
  });

  it('a notification told twice under different keys fails; one retried under its key, or two resumes, do not', () => {
    const n = (
      webhookId: string,
      event: string,
      receivedAt: number,
      message = 'soak: paused by a person (#1)',
    ) =>
      ({
        webhookId,
        receivedAt,
        event,
        operatorId: 'chk-a',
        message,
        pausedBy: 'person',
        workflowId: 'import:chk-a:1',
      }) as ReceivedNotification;
    const resumed = (webhookId: string, at: number) => n(webhookId, 'resumed', at, 'resumed by a person');
    const resume = (at: number) => ({ operatorId: 'chk-a', action: 'resume' as const, at });
    expect(notificationsOnce([n('m1', 'paused', 1), n('m1', 'paused', 2), resumed('m2', 3)], []).passed).toBe(
      true,
    );
    expect(notificationsOnce([n('m1', 'paused', 1), n('m2', 'paused', 2)], []).rows).toEqual([
      expect.objectContaining({ operatorId: 'chk-a', event: 'paused', webhookIds: 'm1 m2' }),
    ]);
    expect(notificationsOnce([n('f1', 'import-failed', 1), n('f2', 'import-failed', 2)], []).passed).toBe(
      false,
    );
    // One resume told twice (by the API and by the import it signalled) is a duplicate…
    const oneResume = [resumed('r1', 100_000), resumed('r2', 100_500)];
    expect(notificationsOnce(oneResume, [resume(99_900)]).rows).toHaveLength(1);
    // …two resumes with the pause between them never told are not: that pause fails the next invariant.
    expect(
      notificationsOnce([resumed('r1', 100_000), resumed('r2', 160_000)], [resume(99_900), resume(159_900)])
        .passed,
    ).toBe(true);
  });

  it('a pause a person made that the team was never told of fails, naming it', () => {
    const pause = (n: number) => ({
      operatorId: 'chk-a',
      action: 'pause' as const,
      reason: `soak: paused by a person (#${n})`,
      at: 0,
    });
    const told = {
      webhookId: 'm1',
      receivedAt: 1,
      event: 'paused',
      operatorId: 'chk-a',
      message: 'soak: paused by a person (#1)',
      pausedBy: 'person',
      workflowId: null,
    };
    const result = personPausesTold([told], [pause(1), pause(2)]);
    expect(result.rows).toEqual([
      expect.objectContaining({ operatorId: 'chk-a', reason: 'soak: paused by a person (#2)' }),
    ]);
  });

  it('a final import that did not complete, a wrong hold and a worker that died are each a failure', () => {
    expect(
      finalImportsCompleted({ finalImports: [{ operatorId: 'chk-a', status: 'skipped', message: 'paused' }] })
        .rows,
    ).toEqual([expect.objectContaining({ operatorId: 'chk-a', status: 'skipped' })]);
    const hold = {
      operatorId: 'chk-a',
      externalId: 'X',
      evidence: 'unlisted',
      seenAt: 'now',
      phase: 'settle' as const,
    };
    expect(heldRemovalsCaused({ wrongHolds: [hold] }).rows).toEqual([
      expect.objectContaining({ externalId: 'X' }),
    ]);
    const died = noProjectProcessDied({
      unexpectedExits: [
        { name: 'tour-import-2', code: 1, signal: null, at: 0 },
        { name: 'temporal', code: 2, signal: null, at: 0 },
      ],
    });
    expect(died.rows).toEqual([
      expect.objectContaining({ name: 'tour-import-2', problem: 'exited without being killed' }),
    ]);
  });

  it('held removals are applied only when the soak made every one of them', () => {
    const held = [{ externalId: 'A' }, { externalId: 'B' }];
    const ever = new Set(['A', 'B', 'C']);
    expect(settleHeld(held, new Set(['A', 'B']), (c) => ever.has(c))).toEqual({ apply: true, wrong: [] });
    // B was offered again since: its removal is stale, so all are discarded, and none is wrong.
    expect(settleHeld(held, new Set(['A']), (c) => ever.has(c))).toEqual({ apply: false, wrong: [] });
    expect(settleHeld([...held, { externalId: 'D' }], new Set(['A', 'B']), (c) => ever.has(c))).toEqual({
      apply: false,
      wrong: ['D'],
    });
  });
});
