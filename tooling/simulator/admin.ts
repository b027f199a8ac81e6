import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { SimError, type TourRecord } from './operator-catalog.js';
import type { MonotonicClock } from './clock.js';
import type { SimOperator } from './operator.js';
import { FaultSchema, FaultsSchema, ROUTES } from './types.js';

/**
 * JSON admin API under /admin, a thin HTTP face over SimOperator's methods and the shared clock so
 * scripts in other processes (demo, benchmark) can steer the operators the way tests do in-process.
 */
export function registerAdmin(
  app: FastifyInstance,
  operators: Map<string, SimOperator>,
  clock: MonotonicClock,
): void {
  const op = (id: string) => {
    const found = operators.get(id);
    if (!found) throw new SimError(404, `Unknown operator ${id}`);
    return found;
  };
  type P = { Params: { id: string; code: string; slot: string; route: string } };

  const clockState = () => ({ now: new Date(clock.time()).toISOString(), offsetMs: clock.offset });
  app.get('/admin/clock', async () => clockState());
  app.post('/admin/clock/advance', async (req) => {
    clock.advance(z.object({ ms: z.number().nonnegative().finite() }).parse(req.body).ms);
    return clockState();
  });

  app.get('/admin/operators', async () => ({ operators: [...operators.values()].map((o) => o.state()) }));
  app.get<P>('/admin/operators/:id', async (req) => op(req.params.id).state());
  app.post<P>('/admin/operators/:id/reset', async (req) => {
    op(req.params.id).reset();
    return op(req.params.id).state();
  });

  app.get<P>('/admin/operators/:id/tours', async (req) => ({ codes: op(req.params.id).activeCodes() }));
  app.get<P>('/admin/operators/:id/tours/:code', async (req) => {
    const o = op(req.params.id);
    const tour = o.tour(req.params.code);
    if (!tour) throw new SimError(404, `Unknown tour ${req.params.code}`);
    return { tour: summary(o, tour) };
  });
  app.post<P>('/admin/operators/:id/tours', async (req) => {
    const { count } = z.object({ count: z.number().int().min(1).max(100_000) }).parse(req.body);
    const o = op(req.params.id);
    return { tours: o.add(count).map((t) => summary(o, t)) };
  });
  app.post<P>('/admin/operators/:id/tours/:code/change', async (req) => {
    const o = op(req.params.id);
    return { tour: summary(o, o.change(req.params.code)) };
  });
  app.post<P>('/admin/operators/:id/tours/:code/remove', async (req) => {
    const o = op(req.params.id);
    return { tour: summary(o, o.remove(req.params.code)) };
  });
  app.post<P>('/admin/operators/:id/tours/:code/restore', async (req) => {
    const o = op(req.params.id);
    return { tour: summary(o, o.restore(req.params.code)) };
  });
  app.post<P>('/admin/operators/:id/tours/:code/images/:slot/replace', async (req) => {
    const { newUrl } = z.object({ newUrl: z.boolean().optional() }).parse(req.body ?? {});
    const o = op(req.params.id);
    return { tour: summary(o, o.replaceImage(req.params.code, Number(req.params.slot), { newUrl })) };
  });

  app.post<P>('/admin/operators/:id/tours/:code/images/:slot/use', async (req) => {
    const { imageId } = z.object({ imageId: z.string().min(1) }).parse(req.body ?? {});
    const o = op(req.params.id);
    return { tour: summary(o, o.useImage(req.params.code, Number(req.params.slot), imageId)) };
  });

  app.put<P>('/admin/operators/:id/faults', async (req) => ({
    faults: op(req.params.id).setFaults(FaultsSchema.parse(req.body ?? {})),
  }));
  app.post<P>('/admin/operators/:id/faults/:route', async (req) => {
    const route = z.enum(ROUTES).parse(req.params.route);
    return { faults: op(req.params.id).addFaults(route, z.array(FaultSchema).parse(req.body)) };
  });
  app.delete<P>('/admin/operators/:id/faults', async (req) => {
    const route = (req.query as { route?: string }).route;
    const o = op(req.params.id);
    o.clearFaults(route === undefined ? undefined : z.enum(ROUTES).parse(route));
    return { faults: o.faults.current() };
  });
}

function summary(op: SimOperator, t: TourRecord) {
  return {
    code: t.code,
    title: t.title,
    rev: t.rev,
    removed: t.removed,
    lastUpdatedAt: new Date(t.updatedAt).toISOString(),
    images: t.images.map((img) => ({ id: img.id, url: op.imageUrl(img.id), caption: img.caption })),
  };
}

/** SimError → its status, bad input → 400, both as JSON. */
export function adminErrorHandler(error: Error, reply: FastifyReply): void {
  const status =
    error instanceof SimError
      ? error.status
      : error instanceof z.ZodError
        ? 400
        : ((error as { statusCode?: number }).statusCode ?? 500);
  void reply.code(status).send({ error: error.message });
}
