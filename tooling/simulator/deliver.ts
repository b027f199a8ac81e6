import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply } from 'fastify';
import type { MonotonicClock } from './clock.js';
import { corrupt, findFault, type FaultBook } from './faults.js';
import { pixelBombPng } from './pixel-bomb.js';
import type { Fault, OperatorSpec, RouteKey } from './types.js';

/** A fully built response, before faults get a chance to spoil it. */
export interface Outgoing {
  status: number;
  contentType: string;
  body: Buffer;
  headers?: Record<string, string>;
}

export interface RateInfo {
  limit: number;
  remaining: number;
  resetSeconds: number;
  allowed: boolean;
}

/** How each dialect words throttling and server errors. */
export interface DialectHooks {
  rateHeaders(info: RateInfo): Record<string, string>;
  rateLimited(info: RateInfo, retryAfterSeconds: number | null): Outgoing;
  serverError(status: number, retryAfterSeconds?: number): Outgoing;
  /** What the dialect answers for a product it does not know (the `not-found` fault on a live one). */
  notFound(): Outgoing;
}

/** Fixed-window quota. Without a configured limit it only advertises a generous one. */
export class RateWindow {
  private windowStart = Date.now();
  private used = 0;
  constructor(private readonly cfg: OperatorSpec['rateLimit']) {}

  take(): RateInfo {
    const cfg = this.cfg ?? { limit: 100_000, windowMs: 3_600_000 };
    const now = Date.now();
    if (now - this.windowStart >= cfg.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    const resetSeconds = Math.max(1, Math.ceil((this.windowStart + cfg.windowMs - now) / 1000));
    const allowed = !this.cfg || this.used < cfg.limit;
    if (allowed) this.used += 1;
    return { limit: cfg.limit, remaining: Math.max(0, cfg.limit - this.used), resetSeconds, allowed };
  }

  reset(): void {
    this.windowStart = Date.now();
    this.used = 0;
  }
}

export interface DeliveryContext {
  spec: OperatorSpec;
  faults: FaultBook;
  rate: RateWindow;
  hooks: DialectHooks;
  /** The operator's time, for the `Date` header. */
  clock: MonotonicClock;
  /** Responses held open on purpose (hangs, drips), destroyed when the simulator closes. */
  held: Set<ServerResponse>;
}

export async function deliver(
  ctx: DeliveryContext,
  route: RouteKey,
  reply: FastifyReply,
  produce: () => Promise<Outgoing>,
): Promise<void> {
  const fired = ctx.faults.draw(route);
  await sleep(delayFor(ctx.spec, route, fired));
  if (findFault(fired, 'hang')) return hold(ctx, reply);
  const redirect = findFault(fired, 'redirect');
  if (redirect)
    return void reply
      .code(redirect.status)
      .headers({ ...dateHeader(ctx), location: redirect.location })
      .send();

  const rate = route === 'image' ? undefined : ctx.rate.take();
  const limited = findFault(fired, 'rate-limit');
  const error = findFault(fired, 'error');
  let out: Outgoing;
  if (limited)
    out = ctx.hooks.rateLimited(
      { ...(rate ?? { limit: 0, resetSeconds: 1 }), remaining: 0, allowed: false },
      limited.retryAfterSeconds,
    );
  else if (rate && !rate.allowed) out = ctx.hooks.rateLimited(rate, rate.resetSeconds);
  else if (error) out = ctx.hooks.serverError(error.status, error.retryAfterSeconds);
  else if (findFault(fired, 'not-found')) out = ctx.hooks.notFound();
  else out = spoil(await produce(), fired);
  const headers = {
    ...dateHeader(ctx),
    ...(rate ? ctx.hooks.rateHeaders(rate) : {}),
    ...out.headers,
    'content-type': out.contentType,
  };

  const drip = findFault(fired, 'slow-drip');
  if (findFault(fired, 'truncate')) return truncate(ctx, reply, out, headers);
  if (drip) return dripFeed(ctx, reply, out, headers, drip.bytesPerInterval, drip.intervalMs);
  return void reply.code(out.status).headers(headers).send(out.body);
}

/**
 * The operator's time, not the real one: Node would send its own Date, which would not move with
 * `advance()`, and clients read the operator's time from this header (e.g. a delta mark).
 */
function dateHeader(ctx: DeliveryContext): Record<string, string> {
  return { date: new Date(ctx.clock.time()).toUTCString() };
}

function delayFor(spec: OperatorSpec, route: RouteKey, fired: Fault[]): number {
  const { apiMs, imageMs, jitterMs } = spec.latency;
  let ms = (route === 'image' ? imageMs : apiMs) + Math.random() * jitterMs;
  for (const f of fired) if (f.type === 'latency') ms += f.ms + Math.random() * (f.jitterMs ?? 0);
  return ms;
}

/** Body-level faults; they only touch successful responses. */
function spoil(out: Outgoing, fired: Fault[]): Outgoing {
  if (out.status !== 200) return out;
  let result = out;
  const bomb = findFault(fired, 'pixel-bomb');
  if (bomb)
    result = {
      ...result,
      contentType: 'image/png',
      body: pixelBombPng(bomb.width, bomb.height),
      headers: {},
    };
  if (findFault(fired, 'html-as-image')) {
    const html = '<!doctype html><html><body><h1>Sign in to continue</h1></body></html>';
    result = { ...result, contentType: 'image/jpeg', body: Buffer.from(html), headers: {} };
  }
  const oversized = findFault(fired, 'oversized');
  if (oversized && result.body.length < oversized.bytes) {
    // Valid image first, padding after its end marker: only the byte count is wrong.
    result = {
      ...result,
      body: Buffer.concat([result.body, Buffer.alloc(oversized.bytes - result.body.length)]),
      headers: {},
    };
  }
  if (findFault(fired, 'malformed')) result = { ...result, body: corrupt(result.body), headers: {} };
  const ct = findFault(fired, 'content-type');
  if (ct) result = { ...result, contentType: ct.contentType };
  return result;
}

function hold(ctx: DeliveryContext, reply: FastifyReply): void {
  reply.hijack();
  ctx.held.add(reply.raw);
  reply.raw.on('close', () => ctx.held.delete(reply.raw));
}

/** Promises the whole body in Content-Length, sends part of it, then drops the connection. */
function truncate(
  ctx: DeliveryContext,
  reply: FastifyReply,
  out: Outgoing,
  headers: Record<string, string>,
): void {
  hold(ctx, reply);
  const raw = reply.raw;
  raw.writeHead(out.status, { ...headers, 'content-length': String(out.body.length) });
  raw.write(out.body.subarray(0, Math.floor(out.body.length / 2)), () => setTimeout(() => raw.destroy(), 10));
}

async function dripFeed(
  ctx: DeliveryContext,
  reply: FastifyReply,
  out: Outgoing,
  headers: Record<string, string>,
  bytes: number,
  intervalMs: number,
): Promise<void> {
  hold(ctx, reply);
  const raw = reply.raw;
  raw.writeHead(out.status, { ...headers, 'content-length': String(out.body.length) });
  for (let off = 0; off < out.body.length && !raw.destroyed; off += bytes) {
    raw.write(out.body.subarray(off, off + bytes));
    await sleep(intervalMs);
  }
  if (!raw.destroyed) raw.end();
}
