import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSimulator } from './server.js';

/**
 * Measures cached image throughput: `npx tsx tooling/simulator/bench-images.ts [seconds] [concurrency]`.
 * The simulator runs in a child process so the clients do not steal its event loop.
 */
const IMAGES = 20;

if (process.argv.includes('--serve')) {
  const sim = await startSimulator({
    operators: [
      { id: 'bench', dialect: 'A', seed: 'bench', tourCount: 100, imagesPerTour: { min: 1, max: 1 } },
    ],
  });
  const op = sim.operator('bench');
  const urls = Array.from({ length: IMAGES }, (_, i) => op.imageUrl(`p${i}`));
  process.send?.({ urls });
} else {
  const seconds = Number(process.argv[2] ?? 5);
  const concurrency = Number(process.argv[3] ?? 32);
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: process.execArgv });
  const urls = await new Promise<string[]>((resolve) =>
    child.once('message', (m) => resolve((m as { urls: string[] }).urls)),
  );
  try {
    // Warm the cache: the figure is about serving encoded bytes, not about encoding them.
    await Promise.all(urls.map(async (u) => (await fetch(u)).arrayBuffer()));
    let requests = 0;
    let bytes = 0;
    const deadline = performance.now() + seconds * 1000;
    const worker = async (w: number) => {
      for (let i = w; performance.now() < deadline; i++) {
        const res = await fetch(urls[i % urls.length]);
        bytes += (await res.arrayBuffer()).byteLength;
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        requests += 1;
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
    const elapsed = (performance.now() - t0) / 1000;
    console.log(
      `${(requests / elapsed).toFixed(0)} image requests/s (1600x1067 JPEG, avg ${(bytes / requests / 1024).toFixed(0)} KiB, ` +
        `${(bytes / elapsed / 1024 / 1024).toFixed(0)} MiB/s, concurrency ${concurrency}, ${requests} requests in ${elapsed.toFixed(1)} s)`,
    );
  } finally {
    child.kill();
  }
}
