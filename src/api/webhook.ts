import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
// The same start as `tour-import import-tour`: one workflow id, signal and input, whichever door is used.
import { startOrRefreshTourImport } from '../operations/start-or-refresh-tour.js';
import { operatorWebhookSecret, type OperatorConfig } from '../operators/registry.js';
import type { ApiDeps } from './deps.js';
import { verifyWebhook } from '../domain/webhook-signature.js';
import {
  claimWebhookDelivery,
  getOperator,
  markWebhookDeliveryStarted,
  releaseWebhookDelivery,
  type DeliveryClaim,
} from '../db/operators.js';

const WEBHOOK_BODY_LIMIT = 64 * 1024;
const MAX_TOURS_PER_DELIVERY = 100;
/** A push that Temporal cannot take within this is answered 503, so the sender retries. */
const TEMPORAL_DEADLINE_MS = 10_000;
/**
 * A delivery still 'starting' after this is taken over by the sender's retry: the request that claimed
 * it most likely died (process killed) and would otherwise hold it, answered 409, forever. Should that
 * request still be alive (100 slow starts), both start the same tours, which signal-with-start makes
 * harmless: one refresh more at most.
 */
export const DELIVERY_TAKEOVER_MS = 2 * 60_000;

const externalId = z.string().trim().min(1, 'must not be empty').max(200, 'is longer than 200 characters');
const Body = z.union([
  z.strictObject({ externalId }),
  z.strictObject({ tours: z.array(externalId).min(1).max(MAX_TOURS_PER_DELIVERY) }),
]);

type Outcome =
  | 'accepted'
  | 'duplicate'
  | 'in_progress'
  | 'deferred'
  | 'rejected'
  | 'unknown_operator'
  | 'invalid'
  | 'unavailable';

/**
 * Push import of single tours. Order matters: size (fastify, 413) → operator (404) → signature (401) →
 * body (400) → paused (409) → delivery claim → signal-with-start (202). The delivery row is written only
 * after the signature verified, so unauthenticated requests cannot burn delivery ids.
 *
 * A delivery is a `duplicate` (200) only once every one of its tours was started. Until then a retry of
 * it gets 409 `in_progress`; an attempt that fails releases its claim, so the sender's retry starts every
 * tour again, and the claim of an attempt that died is taken over after DELIVERY_TAKEOVER_MS.
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
        const outcome = await handle(deps, byId.get(req.params.operatorId), req, reply);
        count(outcome);
        return reply;
      },
    );
  });
}

type WebhookRequest = FastifyRequest<{ Params: { operatorId: string } }>;

async function handle(
  deps: ApiDeps,
  op: OperatorConfig | undefined,
  req: WebhookRequest,
  reply: FastifyReply,
): Promise<Outcome> {
  if (!op) return send(reply, 404, 'unknown_operator', `unknown operator "${req.params.operatorId}"`);
  const secret = operatorWebhookSecret(op, deps.secret);
  if (!secret) return send(reply, 401, 'rejected', 'webhooks are not enabled for this operator');
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const verified = verifySignature(secret, req, raw);
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
  return deliver(deps, reply, req.log, { operatorId: op.id, webhookId: verified.id }, parsed.ids);
}

function verifySignature(secret: string, req: WebhookRequest, raw: Buffer) {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(' ') : v;
  };
  return verifyWebhook(
    secret,
    {
      id: header('webhook-id'),
      timestamp: header('webhook-timestamp'),
      signature: header('webhook-signature'),
    },
    raw,
  );
}

/** Claims the delivery and starts every one of its tours, or answers why not. */
async function deliver(
  deps: ApiDeps,
  reply: FastifyReply,
  log: FastifyBaseLogger,
  id: { operatorId: string; webhookId: string },
  externalIds: string[],
): Promise<Outcome> {
  const delivery = { ...id, token: randomUUID() };
  const claim = await claimDelivery(deps, delivery);
  if (claim === 'not-synced')
    return send(
      reply,
      503,
      'unavailable',
      `operator "${id.operatorId}" is not in the database yet (operators sync)`,
    );
  if (claim === 'started') {
    reply.code(200).send({ status: 'duplicate', webhookId: id.webhookId });
    return 'duplicate';
  }
  if (claim === 'starting') {
    reply.code(409).send({
      status: 'in_progress',
      webhookId: id.webhookId,
      error: 'an earlier attempt of this delivery is still starting its imports; retry later',
    });
    return 'in_progress';
  }
  try {
    const imports = await startAll(deps, id.operatorId, externalIds);
    await markWebhookDeliveryStarted(deps.pool, id.operatorId, id.webhookId);
    log.info({ ...id, tours: externalIds }, 'push import accepted');
    reply.code(202).send({ status: 'accepted', webhookId: id.webhookId, imports });
    return 'accepted';
  } catch (err) {
    // Some tours may have been started: the sender's retry starts them all again (harmless, see
    // startOrRefreshTourImport). Should the release fail too, the claim is taken over after
    // DELIVERY_TAKEOVER_MS.
    await releaseWebhookDelivery(deps.pool, delivery).catch(() => undefined);
    log.error({ err, operatorId: id.operatorId }, 'push import could not be started');
    return send(reply, 503, 'unavailable', 'the import could not be started now; retry later');
  }
}

async function claimDelivery(
  deps: ApiDeps,
  d: { operatorId: string; webhookId: string; token: string },
): Promise<DeliveryClaim | 'not-synced'> {
  try {
    return await claimWebhookDelivery(deps.pool, { ...d, takeoverAfterMs: deps.deliveryTakeoverMs });
  } catch (err) {
    if ((err as { code?: string }).code === '23503') return 'not-synced'; // FK: operator row missing
    throw err;
  }
}

/** One after the other: a delivery is at most 100 tours, and each start is one short call. */
async function startAll(deps: ApiDeps, operatorId: string, externalIds: string[]) {
  const started = [];
  for (const externalId of externalIds) {
    const request = {
      operatorId,
      externalId,
      taskQueue: deps.taskQueue,
      imageTaskQueue: deps.imageTaskQueue,
    };
    const { workflowId, runId } = await deps.client.connection.withDeadline(
      Date.now() + TEMPORAL_DEADLINE_MS,
      () => startOrRefreshTourImport(deps.client, request),
    );
    started.push({ externalId, workflowId, runId });
  }
  return started;
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
