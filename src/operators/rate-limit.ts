import { setTimeout as sleep } from 'node:timers/promises';
import type { RateLimiter } from './http.js';

/**
 * Token bucket per operator and process. Operators throttle per API key, so every adapter of one
 * operator in a worker must share a bucket: build adapters per activity call, but take the
 * limiter from `sharedRateLimiter` (or pass one in).
 */
export function createRateLimiter(
  requestsPerSecond: number,
  burst = Math.max(1, Math.ceil(requestsPerSecond)),
): RateLimiter {
  if (!(requestsPerSecond > 0))
    throw new Error(`requestsPerSecond must be positive, got ${requestsPerSecond}`);
  let tokens = burst;
  let last = Date.now();
  let queue: Promise<void> = Promise.resolve();
  const refill = () => {
    const now = Date.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * requestsPerSecond);
    last = now;
  };
  const take = async () => {
    refill();
    if (tokens < 1) {
      await sleep(Math.ceil(((1 - tokens) / requestsPerSecond) * 1000));
      refill();
    }
    tokens -= 1;
  };
  return {
    // Waiters are served in arrival order, one at a time, so no caller starves.
    acquire() {
      const turn = queue.then(take);
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}

const shared = new Map<string, { rps: number; limiter: RateLimiter }>();

export function sharedRateLimiter(operatorId: string, requestsPerSecond: number): RateLimiter {
  const existing = shared.get(operatorId);
  if (existing && existing.rps === requestsPerSecond) return existing.limiter;
  const limiter = createRateLimiter(requestsPerSecond);
  shared.set(operatorId, { rps: requestsPerSecond, limiter });
  return limiter;
}
