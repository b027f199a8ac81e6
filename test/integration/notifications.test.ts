import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/domain/webhook-signature.js';
import { operatorStatus } from '../../src/cli/commands/status.js';
import { statusText } from '../../src/cli/format.js';
import type { Sink } from '../../src/notify/sinks.js';
import { scheduleId } from '../../src/schedules/spec.js';
import { pauseSignal, progressQuery, resumeSignal } from '../../src/workflows/import-operator.js';
import { createPipelineApi, startPipeline, type Pipeline } from '../helpers/pipeline.js';
import { startReceiver, type Received } from '../helpers/receiver.js';
import { until } from '../helpers/wait.js';

/**
 * Notifications on the real pipeline, delivered to a real HTTP receiver: signed JSON and Slack-shaped
 * messages, a sink that is down, the half-open breaker, and one owner of pause state.
 */
const SECRET = `whsec_${Buffer.from('notifications-test-key-0123456789').toString('base64')}`;
const tours = { tourCount: 10, imagesPerTour: { min: 0, max: 1 }, imageWidth: 320, imageHeight: 200 };

interface JsonNotification {
  type: string;
  data: { event: string; operatorId: string; message: string; pausedBy: string | null };
}

describe('notifications', () => {
  let p: Pipeline;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  /** What the signed JSON sink received about the operator, each signature checked as a receiver would. */
  function signed(operatorId: string): JsonNotification[] {
    return receiver.received
      .filter((r) => r.path === '/json')
      .map((r) => {
        const headers = {
          id: r.headers['webhook-id'] as string,
          timestamp: r.headers['webhook-timestamp'] as string,
          signature: r.headers['webhook-signature'] as string,
        };
        expect(verifyWebhook(SECRET, headers, r.body)).toEqual({ ok: true, id: headers.id });
        return JSON.parse(r.body.toString()) as JsonNotification;
      })
      .filter((n) => n.data.operatorId === operatorId);
  }
  const events = (operatorId: string) => signed(operatorId).map((n) => n.data.event);
  const slack = (match: string) =>
    receiver.received
      .filter((r: Received) => r.path === '/slack')
      .map((r) => JSON.parse(r.body.toString()) as { text: string; blocks: { type: string }[] })
      .filter((m) => m.text.includes(match));
  const operatorRow = async (id: string) =>
    (
      await p.db.pool.query(
        'SELECT paused, paused_by, pause_reason, paused_at, resume_at FROM operators WHERE id = $1',
        [id],
      )
    ).rows[0];

  beforeAll(async () => {
    receiver = await startReceiver();
    const sinks: Sink[] = [
      { name: 'ops-json', type: 'webhook', url: `${receiver.url}/json`, secret: SECRET },
      { name: 'ops-slack', type: 'slack', url: `${receiver.url}/slack`, events: ['paused', 'resumed'] },
      {
        name: 'down',
        type: 'webhook',
        url: `${receiver.url}/down`,
        secret: SECRET,
        events: ['import-cancelled'],
      },
    ];
    p = await startPipeline(
      'notify',
      [
        { id: 'ntf-breaker', dialect: 'C', seed: 31, ...tours },
        { id: 'ntf-person', dialect: 'C', seed: 32, ...tours },
        { id: 'ntf-cancel', dialect: 'A', seed: 33, ...tours },
        { id: 'ntf-runs', dialect: 'C', seed: 34, ...tours },
      ],
      { sinks, operatorYaml: { 'ntf-runs': 'alerts: { failingRuns: 2 }' } },
    );
    // A schedule for one operator, to see pauses move it (created here, not by `schedules apply`, which
    // would delete other files' schedules).
    await p.env.client.schedule.create({
      scheduleId: scheduleId('ntf-person'),
      spec: { intervals: [{ every: '1 day' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'ImportOperator',
        taskQueue: p.taskQueue,
        workflowId: 'import:ntf-person',
        args: [{ operatorId: 'ntf-person', mode: 'delta' }],
      },
    });
  });
  afterAll(async () => {
    await p?.env.client.schedule
      .getHandle(scheduleId('ntf-person'))
      .delete()
      .catch(() => undefined);
    await p?.close();
    await receiver?.close();
  });

  it('a tripped breaker tells the team, probes after its cooldown (doubled when the probe fails) and says when it closed', async () => {
    const op = p.sim.operator('ntf-breaker');
    op.addFaults('detail', [{ type: 'error', status: 500 }]);
    const breaker = { consecutiveFailures: 2, failureRatio: 1, overLast: 20, cooldown: 2_000, probeTours: 2 };
    const handle = await p.startImport('ntf-breaker', 'full', { window: 1, breaker });

    await until(async () => events('ntf-breaker').includes('paused'), 'paused notification');
    const paused = signed('ntf-breaker')[0];
    expect(paused).toMatchObject({
      type: 'operator.paused',
      data: { pausedBy: 'breaker', message: 'circuit breaker: 2 tours failed in a row' },
    });
    // The first probe meets the same failures: the breaker opens again, for twice the cooldown.
    await until(async () => /next probe in 4 s/.test((await operatorRow('ntf-breaker')).pause_reason ?? ''));
    const reopened = await operatorRow('ntf-breaker');
    expect(reopened).toMatchObject({ paused: true, paused_by: 'breaker' });
    expect(reopened.resume_at.getTime()).toBeGreaterThan(reopened.paused_at.getTime());
    op.clearFaults();

    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.progress.done).toBeGreaterThanOrEqual(2);
    expect(await operatorRow('ntf-breaker')).toMatchObject({
      paused: false,
      paused_by: null,
      resume_at: null,
    });
    // Told once that it paused and once that it healed; the failed probe in between made no noise.
    expect(events('ntf-breaker')).toEqual(['paused', 'resumed']);
    expect(signed('ntf-breaker')[1].data.message).toMatch(/circuit breaker closed/);
    const [slackPaused, slackResumed] = [slack('ntf-breaker paused'), slack('ntf-breaker resumed')];
    expect(slackPaused).toHaveLength(1);
    expect(slackResumed).toHaveLength(1);
    expect(slackPaused[0].blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
  });

  it('a pause and resume sent to the workflow alone (Web UI) move the row and the schedules, and are told', async () => {
    p.sim.operator('ntf-person').addFaults('detail', [{ type: 'latency', ms: 300 }]);
    const scheduled = p.env.client.schedule.getHandle(scheduleId('ntf-person'));
    try {
      const handle = await p.startImport('ntf-person', 'full', { window: 1 });
      await until(async () => (await handle.query(progressQuery)).done >= 1);
      await handle.signal(pauseSignal, { reason: 'vendor maintenance' });
      await until(async () => (await handle.query(progressQuery)).status === 'paused');
      expect(await operatorRow('ntf-person')).toMatchObject({
        paused: true,
        paused_by: 'person',
        pause_reason: 'vendor maintenance',
        resume_at: null, // a person's pause never resumes on its own
      });
      expect((await scheduled.describe()).state).toMatchObject({
        paused: true,
        note: expect.stringMatching(/vendor maintenance/),
      });
      await until(async () => events('ntf-person').includes('paused'), 'paused notification');
      expect(signed('ntf-person')[0].data).toMatchObject({
        pausedBy: 'person',
        message: 'vendor maintenance',
      });

      await handle.signal(resumeSignal);
      expect((await handle.result()).status).toBe('completed');
      expect((await scheduled.describe()).state.paused).toBe(false);
      expect(await operatorRow('ntf-person')).toMatchObject({ paused: false });
      expect(events('ntf-person')).toEqual(['paused', 'resumed']);
    } finally {
      p.sim.operator('ntf-person').clearFaults();
    }
  });

  it('a pause and resume through the API move the row and the schedules, and are told with no import running', async () => {
    const scheduled = p.env.client.schedule.getHandle(scheduleId('ntf-person'));
    const sinks: Sink[] = [
      { name: 'api-json', type: 'webhook', url: `${receiver.url}/json`, secret: SECRET },
    ];
    const app = await createPipelineApi(p, { sinks });
    const post = (action: string, payload: object, contentType = 'application/json') =>
      app.inject({
        method: 'POST',
        url: `/operators/ntf-person/${action}`,
        headers: { 'content-type': contentType },
        payload: contentType === 'application/json' ? JSON.stringify(payload) : 'reason=x',
      });
    try {
      // A form posted from another site (browser-remembered credentials) is refused.
      expect((await post('pause', {}, 'application/x-www-form-urlencoded')).statusCode).toBe(415);
      expect(await operatorRow('ntf-person')).toMatchObject({ paused: false });

      const paused = await post('pause', { reason: 'contract renegotiation' });
      expect(paused.statusCode).toBe(200);
      expect(paused.json()).toMatchObject({
        paused: true,
        signalled: null,
        schedules: [scheduleId('ntf-person')],
      });
      expect(await operatorRow('ntf-person')).toMatchObject({ paused: true, paused_by: 'person' });
      expect((await scheduled.describe()).state.paused).toBe(true);
      expect((await p.startImport('ntf-person', 'delta').then((h) => h.result())).status).toBe('skipped');

      expect((await post('resume', {})).statusCode).toBe(200);
      expect(await operatorRow('ntf-person')).toMatchObject({ paused: false });
      expect((await scheduled.describe()).state.paused).toBe(false);
      expect(events('ntf-person').slice(-2)).toEqual(['paused', 'resumed']);
      expect(signed('ntf-person').at(-2)?.data.message).toBe('contract renegotiation');
      expect((await post('pause', {}, 'application/json')).statusCode).toBe(200);
      expect((await post('resume', { applyRemovals: 'yes' })).statusCode).toBe(400);
      expect((await post('resume', {})).statusCode).toBe(200);
      const missing = await app.inject({
        method: 'POST',
        url: '/operators/no-such-operator/pause',
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error).toMatch(/^unknown operator "no-such-operator" \(configured: .*ntf-person/);
    } finally {
      await app.close();
    }
  });

  it('a pause and resume through the API of a running import are told once each, by the API, and recorded by the import', async () => {
    p.sim.operator('ntf-person').addFaults('detail', [{ type: 'latency', ms: 300 }]);
    const sinks: Sink[] = [
      { name: 'ops-json', type: 'webhook', url: `${receiver.url}/json`, secret: SECRET },
    ];
    const app = await createPipelineApi(p, { sinks });
    const post = (action: string, payload: object) =>
      app.inject({
        method: 'POST',
        url: `/operators/ntf-person/${action}`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(payload),
      });
    const told = async () =>
      (
        await p.db.pool.query(
          `SELECT event, dedup_key FROM notification_deliveries WHERE operator_id = 'ntf-person'
             AND sink = 'ops-json' AND created_at >= $1 ORDER BY id`,
          [since],
        )
      ).rows.map((r) => [r.event, r.dedup_key.split(':')[0]]);
    const since = new Date();
    try {
      const handle = await p.startImport('ntf-person', 'full', { window: 1, force: true });
      await until(async () => (await handle.query(progressQuery)).done >= 1);
      const paused = await post('pause', { reason: 'supplier asked' });
      expect(paused.json()).toMatchObject({ signalled: handle.workflowId });
      // The import records the pause (its status, the row), and does not tell it a second time.
      await until(async () => (await handle.query(progressQuery)).status === 'paused', 'pause recorded');
      expect(await operatorRow('ntf-person')).toMatchObject({ paused: true, paused_by: 'person' });
      expect((await post('resume', {})).json()).toMatchObject({ signalled: handle.workflowId });
      expect((await handle.result()).status).toBe('completed');
      // Told by the API (its keys start with `cli:`), once each: not by the import it signalled.
      expect(await told()).toEqual([
        ['paused', 'cli'],
        ['resumed', 'cli'],
      ]);
    } finally {
      await app.close();
      p.sim.operator('ntf-person').clearFaults();
    }
  });

  it('a sink that is down does not hold the import up: tried a few times, then recorded as failed, and shown', async () => {
    p.sim.operator('ntf-cancel').addFaults('image', [{ type: 'latency', ms: 300 }]);
    expect((await (await p.startImport('ntf-cancel', 'full')).result()).status).toBe('completed');
    // The delta mark has not moved for 4 hours: more than 3 schedule intervals (1 h by default).
    await p.db.pool.query(
      `UPDATE operators SET delta_mark_at = now() - interval '4 hours' WHERE id = 'ntf-cancel'`,
    );

    for (let i = 0; i < 2; i++) {
      const handle = await p.startImport('ntf-cancel', 'full', { force: true, window: 1 });
      await until(async () => (await handle.query(progressQuery)).done >= 1);
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
      const run = await p.db.pool.query('SELECT status FROM import_runs WHERE workflow_id = $1', [
        handle.workflowId,
      ]);
      expect(run.rows[0].status).toBe('cancelled');
    }
    // Each cancel told; the stuck mark told once, not at every import that still finds it stuck.
    expect(events('ntf-cancel').sort()).toEqual(['delta-mark-stale', 'import-cancelled', 'import-cancelled']);

    const down = receiver.received.filter((r) => r.path === '/down');
    expect(down).toHaveLength(2 * 4); // 4 attempts per cancel, each with its notification's one webhook-id
    expect(new Set(down.map((r) => r.headers['webhook-id'])).size).toBe(2);
    const { rows } = await p.db.pool.query(
      `SELECT sink, status, attempts, last_error FROM notification_deliveries
        WHERE operator_id = 'ntf-cancel' AND event = 'import-cancelled' ORDER BY sink`,
    );
    expect(rows).toEqual([
      { sink: 'down', status: 'failed', attempts: 4, last_error: 'HTTP 503' },
      { sink: 'down', status: 'failed', attempts: 4, last_error: 'HTTP 503' },
      { sink: 'ops-json', status: 'delivered', attempts: 1, last_error: null },
      { sink: 'ops-json', status: 'delivered', attempts: 1, last_error: null },
    ]);

    const status = await operatorStatus({ pool: p.db.pool, client: p.env.client }, 'ntf-cancel');
    expect(statusText(status.operators[0])).toMatch(
      /import-cancelled\s+down\s+failed \(4 attempts\)\s+HTTP 503/,
    );
    const app = await createPipelineApi(p);
    try {
      const page = (await app.inject({ url: '/' })).body;
      expect(page).toContain('<h2>Notifications</h2>');
      expect(page).toMatch(
        /<td>ntf-cancel<\/td>\s*<td>import-cancelled<\/td>\s*<td>down<\/td>[\s\S]*?failed/,
      );
    } finally {
      await app.close();
    }
  });

  it('so many runs in a row with failed tours are told once', async () => {
    p.sim.operator('ntf-runs').addFaults('detail', [{ type: 'error', status: 500 }]);
    const noBreaker = { consecutiveFailures: 1_000, failureRatio: 1, overLast: 1_000 };
    for (let i = 0; i < 3; i++) {
      const result = await (
        await p.startImport('ntf-runs', 'full', { breaker: noBreaker, retry: { maximumAttempts: 1 } })
      ).result();
      expect(result.progress.failed).toBe(10);
    }
    // `alerts.failingRuns: 2`: told when the second failing run ended, not again at the third.
    expect(events('ntf-runs')).toEqual(['failing-runs']);
    expect(signed('ntf-runs')[0].data.message).toMatch(/^2 imports in a row had failed tours/);
  });
});
