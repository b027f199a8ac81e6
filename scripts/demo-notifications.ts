import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../src/domain/webhook-signature.js';

/** A notification whose signature verified: its Standard-Webhooks message id and its parsed body. */
export interface VerifiedNotification {
  webhookId: string;
  body: { type: string; data: Record<string, unknown> };
}

/**
 * An operations team's endpoint: it verifies each notification's signature as a receiver would, answers
 * 401 to one that fails (and drops it), and hands every verified one to `receive`.
 */
export async function startSignedReceiver(
  secret: string,
  pathname: string,
  receive: (n: VerifiedNotification) => void,
): Promise<{ url: string; close(): Promise<void> }> {
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
      if (!verified.ok) return void res.writeHead(401).end();
      receive({
        webhookId: verified.id,
        body: JSON.parse(body.toString('utf8')) as VerifiedNotification['body'],
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${pathname}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The demo's receiver: one line per notification until `take()` prints them. */
export async function startNotificationReceiver(secret: string) {
  const lines: string[] = [];
  const server = await startSignedReceiver(secret, '/tour-import', ({ body }) => {
    const { title, message } = body.data as { title: string; message: string };
    lines.push(
      `  ${new Date().toISOString().slice(11, 19)} ${body.type} (signature ok): ${title}: ${message}`,
    );
  });
  return {
    ...server,
    /** The notifications received since the last call. */
    take: () => lines.splice(0),
  };
}
