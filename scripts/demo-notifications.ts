import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../src/domain/webhook-signature.js';

/**
 * The demo's stand-in for an operations team's endpoint: it verifies each notification's signature as a
 * receiver would and keeps one line per notification until `take()` prints them.
 */
export async function startNotificationReceiver(secret: string) {
  const lines: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const header = (name: string) => req.headers[name] as string | undefined;
      const verified = verifyWebhook(
        secret,
        {
          id: header('webhook-id'),
          timestamp: header('webhook-timestamp'),
          signature: header('webhook-signature'),
        },
        body,
      );
      if (!verified.ok) {
        res.writeHead(401).end();
        return;
      }
      const n = JSON.parse(body.toString()) as { type: string; data: { title: string; message: string } };
      lines.push(
        `  ${new Date().toISOString().slice(11, 19)} ${n.type} (signature ok): ${n.data.title}: ${n.data.message}`,
      );
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tour-import`,
    /** The notifications received since the last call. */
    take: () => lines.splice(0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
