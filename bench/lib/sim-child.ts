/**
 * The operator simulator in its own process (so benchmark clients never steal its event loop), behind a
 * counting reverse proxy: every URL the simulator hands out points at the proxy, which tallies API calls,
 * image downloads (200) and conditional hits (304). Per operator and route (list, detail, image), the
 * simulator's own request counts are read over IPC too. Driven over IPC by bench/lib/sim.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator } from '../../tooling/simulator/server.js';
import type { OperatorSpecInput, RouteKey } from '../../tooling/simulator/types.js';

export interface Counters {
  api: number;
  image200: number;
  image304: number;
  imageOther: number;
  imageBytes: number;
}

/** Requests each operator's simulator received per route since it started, by operator id. */
export type RouteRequests = Record<string, Record<RouteKey, number>>;

export type SimRequest =
  | { id: number; cmd: 'counters'; reset?: boolean }
  | { id: number; cmd: 'requests'; operators: string[] }
  | { id: number; cmd: 'change'; operator: string; fraction: number; replaceImage: boolean }
  | { id: number; cmd: 'close' };

const specs = JSON.parse(process.argv[2] ?? '[]') as OperatorSpecInput[];
const sim = await startSimulator({
  operators: specs,
  imageCacheBytes: 1024 * 1024 * 1024,
  imageCacheDir: process.argv[3] || undefined,
});
const counters: Counters = { api: 0, image200: 0, image304: 0, imageOther: 0, imageBytes: 0 };
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

const proxy = http.createServer((req, res) => {
  const isImage = /\/img\//.test(req.url ?? '');
  const up = http.request(
    { host: '127.0.0.1', port: sim.port, path: req.url, method: req.method, headers: req.headers, agent },
    (ur) => {
      if (!isImage) counters.api++;
      else if (ur.statusCode === 200) counters.image200++;
      else if (ur.statusCode === 304) counters.image304++;
      else counters.imageOther++;
      if (isImage) ur.on('data', (c: Buffer) => (counters.imageBytes += c.length));
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    },
  );
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
});
proxy.keepAliveTimeout = 30_000;
await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
for (const o of sim.operators()) sim.operator(o.id).origin = proxyUrl;

process.on('message', async (m: SimRequest) => {
  try {
    if (m.cmd === 'counters') {
      const snapshot = { ...counters };
      if (m.reset) for (const k of Object.keys(counters) as (keyof Counters)[]) counters[k] = 0;
      process.send!({ id: m.id, ok: snapshot });
    } else if (m.cmd === 'requests') {
      const requests = m.operators.map((id) => [id, sim.operator(id).state().requests]);
      process.send!({ id: m.id, ok: Object.fromEntries(requests) as RouteRequests });
    } else if (m.cmd === 'change') {
      const op = sim.operator(m.operator);
      const codes = op.activeCodes();
      const n = Math.max(1, Math.round(codes.length * m.fraction));
      const step = Math.max(1, Math.floor(codes.length / n));
      let changedImages = 0;
      const changed: string[] = [];
      for (let i = 0; i < codes.length && changed.length < n; i += step) {
        const code = codes[i];
        const t = op.change(code);
        if (m.replaceImage && t.images.length > 0) {
          op.replaceImage(code, 0, { newUrl: true });
          changedImages++;
        }
        changed.push(code);
      }
      process.send!({ id: m.id, ok: { changedTours: changed.length, changedImages, codes: changed } });
    } else if (m.cmd === 'close') {
      proxy.close();
      await sim.close();
      process.send!({ id: m.id, ok: true });
      process.exit(0);
    }
  } catch (err) {
    process.send!({ id: m.id, error: (err as Error).message });
  }
});
process.send!({ ready: true, url: proxyUrl, operators: sim.operators() });
