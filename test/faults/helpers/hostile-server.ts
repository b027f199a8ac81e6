import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

/**
 * A tiny image host on 127.0.0.1 serving hostile bytes the simulator cannot produce: each path is one
 * kind of attack. Tests point tour images at it (`url(kind)`).
 */
export interface HostileServer {
  url(kind: HostileKind): string;
  hits: Record<string, number>;
  close(): Promise<void>;
}

export type HostileKind =
  | 'svg'
  | 'svg-as-jpeg'
  | 'gzip-bomb'
  | 'animated-gif'
  | 'oversized-chunked'
  | 'cut-connection'
  | 'truncated-jpeg'
  | 'redirect-private';

export interface HostileBodies {
  svg: Buffer;
  gif: Buffer;
  truncatedJpeg: Buffer;
  /** Bytes sent without Content-Length (chunked) for the oversized case. */
  oversizedBytes: number;
}

export async function startHostileServer(b: HostileBodies): Promise<HostileServer> {
  // 64 MB of zeros gzip to ~64 KB: a 1000:1 bomb if anyone inflated it.
  const zeros = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  const hits: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    const kind = (req.url ?? '/').slice(1).split(/[/?]/)[0];
    hits[kind] = (hits[kind] ?? 0) + 1;
    switch (kind as HostileKind) {
      case 'svg':
        return void res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(b.svg);
      case 'svg-as-jpeg':
        return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(b.svg);
      case 'gzip-bomb':
        return void res
          .writeHead(200, { 'content-type': 'image/jpeg', 'content-encoding': 'gzip' })
          .end(zeros);
      case 'animated-gif':
        return void res.writeHead(200, { 'content-type': 'image/gif' }).end(b.gif);
      case 'oversized-chunked': {
        res.writeHead(200, { 'content-type': 'image/jpeg' }); // no Content-Length: chunked
        const chunk = Buffer.alloc(256 * 1024, 0xab);
        let sent = 0;
        const pump = () => {
          while (sent < b.oversizedBytes && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('error', () => undefined);
        return pump();
      }
      case 'cut-connection':
        // Promises more than it sends, then drops the socket: the download must not store a partial blob.
        res.writeHead(200, {
          'content-type': 'image/jpeg',
          'content-length': String(b.truncatedJpeg.length * 2),
        });
        return void res.write(b.truncatedJpeg, () => setTimeout(() => res.destroy(), 10));
      case 'truncated-jpeg':
        return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(b.truncatedJpeg);
      case 'redirect-private':
        return void res.writeHead(302, { location: 'http://10.0.0.1/internal/photo.jpg' }).end();
      default:
        return void res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (kind) => `http://127.0.0.1:${port}/${kind}/photo.jpg`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
