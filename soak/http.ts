import { signWebhook } from '../src/domain/webhook-signature.js';
import type { SimRoute } from './fault-plan.js';

/** The soak's HTTP doors: the simulator's admin API (the operators' side) and the product's API. */

async function json(res: Response, what: string): Promise<unknown> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : {};
}

interface SimTour {
  code: string;
  title: string;
  rev: number;
  removed: boolean;
  images: { id: string; url: string }[];
}

export function simAdmin(baseUrl: string) {
  const admin = (p: string) => `${baseUrl}/admin/operators/${p}`;
  const post = async (p: string, body: unknown = {}) =>
    json(
      await fetch(admin(p), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
      `simulator POST ${p}`,
    );
  const tourOf = (r: unknown) => (r as { tour: SimTour }).tour;
  return {
    activeCodes: async (op: string) =>
      ((await json(await fetch(admin(`${op}/tours`)), `simulator tours of ${op}`)) as { codes: string[] })
        .codes,
    tour: async (op: string, code: string) =>
      tourOf(await json(await fetch(admin(`${op}/tours/${code}`)), `simulator tour ${op}/${code}`)),
    change: async (op: string, code: string) => tourOf(await post(`${op}/tours/${code}/change`)),
    remove: async (op: string, code: string) => tourOf(await post(`${op}/tours/${code}/remove`)),
    restore: async (op: string, code: string) => tourOf(await post(`${op}/tours/${code}/restore`)),
    add: async (op: string, count: number) =>
      ((await post(`${op}/tours`, { count })) as { tours: SimTour[] }).tours,
    replaceImage: async (op: string, code: string, slot: number, newUrl: boolean) =>
      tourOf(await post(`${op}/tours/${code}/images/${slot}/replace`, { newUrl })),
    addFault: async (op: string, route: SimRoute, fault: Record<string, unknown>) => {
      await post(`${op}/faults/${route}`, [fault]);
    },
    clearFaults: async (op: string, route?: SimRoute) => {
      const q = route ? `?route=${route}` : '';
      await json(await fetch(admin(`${op}/faults${q}`), { method: 'DELETE' }), `simulator faults of ${op}`);
    },
  };
}
export type SimAdmin = ReturnType<typeof simAdmin>;

export interface PushAnswer {
  /** HTTP status, or 0 when no answer came (connection refused, reset, timed out). */
  status: number;
  body: {
    status?: string;
    imports?: { externalId: string; workflowId: string; runId: string }[];
    error?: string;
  };
}

export function productApi(o: { url: string; token: string; secret: (operatorId: string) => string }) {
  const control = async (op: string, action: 'pause' | 'resume', body: unknown) =>
    json(
      await fetch(`${o.url}/operators/${op}/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      }),
      `API ${action} ${op}`,
    );
  return {
    pause: (op: string, reason: string) => control(op, 'pause', { reason }),
    resume: (op: string, applyRemovals: boolean) => control(op, 'resume', { applyRemovals }),
    /** One signed delivery, as the operator's sender makes it (Standard Webhooks). */
    async push(op: string, webhookId: string, tours: string[]): Promise<PushAnswer> {
      const body = JSON.stringify(tours.length === 1 ? { externalId: tours[0] } : { tours });
      const timestamp = Math.floor(Date.now() / 1000);
      try {
        const res = await fetch(`${o.url}/webhooks/operators/${op}/tours`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': webhookId,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(o.secret(op), webhookId, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        return { status: res.status, body: text ? (JSON.parse(text) as PushAnswer['body']) : {} };
      } catch (err) {
        return { status: 0, body: { error: (err as Error).message } };
      }
    },
  };
}
export type ProductApi = ReturnType<typeof productApi>;
