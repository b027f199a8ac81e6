/**
 * Decoded pixels held at once by one worker's resizes. Resize permits count images; this bounds their
 * memory, which grows with the pixels: sixteen 24 MP decodes must not run at once on a small host, while
 * sixteen thumbnails may. Waiters are served in arrival order (a large image is not starved by a stream
 * of small ones), and an image larger than the whole budget runs alone rather than never.
 */
export interface PixelBudget {
  /** Resolves when `pixels` fit, with the function that gives them back (idempotent). */
  acquire(pixels: number, signal?: AbortSignal): Promise<() => void>;
  /** Pixels held now (for logs and tests). */
  inUse(): number;
}

/** `perImage`: charged to every acquisition on top of its pixels (what a resize holds whatever its size). */
export function createPixelBudget(maxPixels: number, perImage = 0): PixelBudget {
  let used = 0;
  const queue: { pixels: number; grant(): void }[] = [];

  const fits = (pixels: number) => used === 0 || used + pixels <= maxPixels;
  const drain = () => {
    while (queue.length && fits(queue[0].pixels)) queue.shift()!.grant();
  };
  const take = (pixels: number) => {
    used += pixels;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      used -= pixels;
      drain();
    };
  };

  return {
    inUse: () => used,
    acquire(sourcePixels, signal) {
      signal?.throwIfAborted();
      const pixels = sourcePixels + perImage;
      if (!queue.length && fits(pixels)) return Promise.resolve(take(pixels));
      return new Promise((resolve, reject) => {
        const waiter = {
          pixels,
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(take(pixels));
          },
        };
        const onAbort = () => {
          queue.splice(queue.indexOf(waiter), 1);
          drain(); // the next one may fit now that this one no longer heads the queue
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
      });
    },
  };
}
