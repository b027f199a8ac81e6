import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SIGNALS, WORKFLOW_TYPES, importTourWorkflowId, operatorPriority } from '../constants.js';
import { operatorWebhookSecret } from '../operators/registry.js';
import type { ImportTourInput } from '../workflows/types.js';
import type { ApiDeps } from './deps.js';
import { verifyWebhook } from './signature.js';
import { getOperator } from '../db/operators.js';

export const WEBHOOK_BODY_LIMIT = 64 * 1024;
const MAX_TOURS_PER_DELIVERY = 100;
/** A push that Temporal cannot take within this is answered 503, so the sender retries. */
const TEMPORAL_DEADLINE_MS = 10_000;

const externalId = z.string().trim().min(1, 'must not be empty').max(200, 'is longer than 200 characters');
const Body = z.union([
  z.strictObject({ externalId }),
  z.strictObject({ tours: z.array(externalId).min(1).max(MAX_TOURS_PER_DELIVERY) }),
]);

type Outcome =
  'accepted' | 'duplicate' | 'deferred' | 'rejected' | 'unknown_operator' | 'invalid' | 'unavailable';

/**
 * Push import of single tours. Order matters: size (fastify, 413) → operator (404) → signature (401) →
 * body (400) → replay check (200) → signal-with-start (202). The replay row is written only after the
 * signature verified, so unauthenticated requests cannot burn delivery ids.
 */
export function registerWebhook(app: FastifyInstance, deps: ApiDeps, count: (o: Outcome) => void) {
  const byId = new Map(deps.operators.map((o) => [o.id, o]));
  // Encapsulated: only this route sees the raw-bytes parser the signature needs.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    );
    scope.post<{ Params: { operatorId: string } }>(
      '/webhooks/operators/:operatorId/tours',
      { bodyLimit: WEBHOOK_BODY_LIMIT },
      async (req, reply) => {
        const outcome = await handle(req, reply);
        count(outcome);
        return reply;
      },
    );
  });

  async function handle(req: FastifyRequest<{ Params: { operatorId: string } }>, reply: FastifyReply) {
    const op = byId.get(req.params.operatorId);
    if (!op) return send(reply, 404, 'unknown_operator', `unknown operator "${req.params.operatorId}"`);
    const secret = operatorWebhookSecret(op, deps.secret);
    if (!secret) return send(reply, 401, 'rejected', 'webhooks are not enabled for this operator');
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(' ') : v;
    };
    const verified = verifyWebhook(
      secret,
      {
        id: header('webhook-id'),
        timestamp: header('webhook-timestamp'),
        signature: header('webhook-signature'),
      },
      raw,
    );
    if (!verified.ok) return send(reply, 401, 'rejected', `invalid webhook signature: ${verified.reason}`);

    const parsed = parseBody(raw);
    if (!parsed.ok) return send(reply, 400, 'invalid', parsed.message);

    // A paused operator imports nothing, pushed or listed. 409 without recording the delivery: the
    // sender retries it later, and it goes through once the operator is resumed.
    const state = await getOperator(deps.pool, op.id);
    if (state?.paused) {
      return send(
        reply,
        409,
        'deferred',
        `operator "${op.id}" is paused (${state.pauseReason ?? 'no reason given'}); retry after it is resumed`,
      );
    }
    const fresh = await recordDelivery(op.id, verified.id);
    if (fresh === 'not-synced')
      return send(
        reply,
        503,
        'unavailable',
        `operator "${op.id}" is not in the database yet (operators sync)`,
      );
    if (!fresh) {
      reply.code(200).send({ status: 'duplicate', webhookId: verified.id });
      return 'duplicate';
    }
    try {
      const started = [];
      for (const ext of parsed.ids) started.push(await startImport(op.id, ext));
      req.log.info({ operatorId: op.id, webhookId: verified.id, tours: parsed.ids }, 'push import accepted');
      reply.code(202).send({ status: 'accepted', webhookId: verified.id, imports: started });
      return 'accepted';
    } catch (err) {
      // Forget the delivery so the sender's retry is not taken for a replay.
      await deps.pool
        .query(`DELETE FROM webhook_deliveries WHERE operator_id = $1 AND webhook_id = $2`, [
          op.id,
          verified.id,
        ])
        .catch(() => undefined);
      req.log.error({ err, operatorId: op.id }, 'push import could not be started');
      return send(reply, 503, 'unavailable', 'the import could not be started now; retry later');
    }
  }

  /** true: first delivery of this id; false: a replay. */
  async function recordDelivery(operatorId: string, webhookId: string): Promise<boolean | 'not-synced'> {
    try {
      const r = await deps.pool.query(
        `INSERT INTO webhook_deliveries (operator_id, webhook_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [operatorId, webhookId],
      );
      return (r.rowCount ?? 0) > 0;
    } catch (err) {
      if ((err as { code?: string }).code === '23503') return 'not-synced'; // FK: operator row missing
      throw err;
    }
  }

  async function startImport(operatorId: string, externalId: string) {
    const workflowId = importTourWorkflowId(operatorId, externalId);
    const input: ImportTourInput = { operatorId, externalId, imageTaskQueue: deps.imageTaskQueue };
    // Signal-with-start: a running import of this tour gets a refresh (it runs once more with the latest
    // data), otherwise a new one starts. A burst therefore coalesces into one running + one pending pass.
    const handle = await deps.client.connection.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
      deps.client.workflow.signalWithStart(WORKFLOW_TYPES.importTour, {
        workflowId,
        taskQueue: deps.taskQueue,
        args: [input],
        signal: SIGNALS.refresh,
        signalArgs: [],
        priority: operatorPriority(operatorId),
      }),
    );
    return { externalId, workflowId, runId: handle.signaledRunId };
  }
}

function parseBody(raw: Buffer): { ok: true; ids: string[] } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, message: 'body is not valid JSON' };
  }
  const r = Body.safeParse(json);
  if (!r.success) {
    return {
      ok: false,
      message:
        'body must be {"externalId": "<tour id>"} or {"tours": ["<tour id>", …]} (1–100 ids, each 1–200 characters)',
    };
  }
  return { ok: true, ids: 'externalId' in r.data ? [r.data.externalId] : [...new Set(r.data.tours)] };
}

function send(reply: FastifyReply, code: number, outcome: Outcome, message: string): Outcome {
  reply.code(code).send({ error: message });
  return outcome;
}
