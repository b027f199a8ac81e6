import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { adminErrorHandler, registerAdmin } from './admin.js';
import { MonotonicClock } from './clock.js';
import { DEMO_OPERATORS } from './demo-operators.js';
import { dialectAHooks, registerDialectA } from './dialect-a.js';
import { dialectBHooks, registerDialectB } from './dialect-b.js';
import { dialectCHooks, registerDialectC } from './dialect-c.js';
import { dialectDHooks, registerDialectD } from './dialect-d.js';
import { registerImageRoutes } from './image-route.js';
import { ImageGenerator } from './images.js';
import { SimOperator, type OperatorInfo } from './operator.js';
import { OperatorSpecSchema, type OperatorSpecInput } from './types.js';

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Defaults to the demo operators (one per dialect). */
  operators?: OperatorSpecInput[];
  /** Bound on cached encoded images. */
  imageCacheBytes?: number;
  /** Keeps painted images as files here too, and reads them back instead of painting them again. */
  imageCacheDir?: string;
  logger?: boolean;
}

export interface Simulator {
  url: string;
  port: number;
  operators(): OperatorInfo[];
  /** In-process admin: the same operations as the HTTP admin API. */
  operator(id: string): SimOperator;
  /**
   * Moves every operator's time forward by `ms` (never back): later changes are stamped, and
   * `Date` headers sent, as if that much time had passed. Returns the operators' time now.
   */
  advanceClock(ms: number): Date;
  /** The operators' time now: real time plus every advance so far. */
  time(): Date;
  close(): Promise<void>;
}

const REGISTER = {
  A: [registerDialectA, dialectAHooks],
  B: [registerDialectB, dialectBHooks],
  C: [registerDialectC, dialectCHooks],
  D: [registerDialectD, dialectDHooks],
} as const;

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const specs = (options.operators ?? DEMO_OPERATORS).map((s) => OperatorSpecSchema.parse(s));
  const ids = new Set(specs.map((s) => s.id));
  if (ids.size !== specs.length) throw new Error('Operator ids must be unique');

  const clock = new MonotonicClock();
  const images = new ImageGenerator(options.imageCacheBytes, options.imageCacheDir);
  const held = new Set<ServerResponse>();
  const operators = new Map(specs.map((s) => [s.id, new SimOperator(s, clock, images, held)]));

  const app = Fastify({
    logger: options.logger ?? false,
    forceCloseConnections: true,
    keepAliveTimeout: 30_000,
  });
  // Admin POSTs without a body are fine (curl -X POST -H 'content-type: application/json').
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? {} : JSON.parse(body as string));
    } catch (e) {
      done(Object.assign(e as Error, { statusCode: 400 }), undefined);
    }
  });
  app.setErrorHandler((error, _req, reply) => adminErrorHandler(error as Error, reply));
  app.get('/operators', async () => ({ operators: [...operators.values()].map((o) => o.info()) }));
  for (const op of operators.values()) {
    const [register, hooks] = REGISTER[op.dialect];
    op.hooks = hooks;
    register(app, op);
    registerImageRoutes(app, op);
  }
  registerAdmin(app, operators, clock);

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  for (const op of operators.values()) op.origin = url;

  return {
    url,
    port,
    operators: () => [...operators.values()].map((o) => o.info()),
    operator(id) {
      const op = operators.get(id);
      if (!op) throw new Error(`Unknown operator ${id}`);
      return op;
    },
    advanceClock(ms) {
      clock.advance(ms);
      return new Date(clock.time());
    },
    time: () => new Date(clock.time()),
    async close() {
      // Hung and dripping responses would otherwise keep close() waiting forever.
      for (const res of held) res.destroy();
      await app.close();
    },
  };
}
