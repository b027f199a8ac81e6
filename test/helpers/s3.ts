import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { resolveVersitygw, startS3Server, type S3Server } from '../../tooling/servers/s3-server.js';
import { testLogFile } from './data-dir.js';

export interface TestS3 {
  server: S3Server;
  /** A plain client, independent of the store's, to look at what really is in the bucket. */
  raw: S3Client;
  /** A private folder for this test file (the server's data is under it too; its log is not). */
  dir: string;
  close(): Promise<void>;
}

/**
 * A real S3 server (versitygw) for one test file. A missing binary fails with how to get one rather
 * than building it inside a test's timeout: `npx tsx tooling/servers/versitygw-main.ts` (.ci/run does it).
 * Its log is versitygw-<label>.log in the test file's data folder (testLogFile), which outlives
 * close(): kept when a test fails, and its lines shown with the failure.
 */
export async function startTestS3(label: string): Promise<TestS3> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${label}-`));
  const server = await startS3Server({
    binary: await resolveVersitygw({ build: false }),
    dir: path.join(dir, 'server'),
    logFile: testLogFile(`versitygw-${label}.log`),
  });
  const raw = new S3Client({ ...server, forcePathStyle: true });
  return {
    server,
    raw,
    dir,
    async close() {
      raw.destroy();
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ConflictProxy {
  /** Where to point a store's client (`endpoint`): it signs for this host, which reaches versitygw as sent. */
  endpoint: string;
  /** Conditional puts of the chosen key answered with 409 so far (none of them reached versitygw). */
  conflicts(): number;
  close(): Promise<void>;
}

/**
 * A real HTTP proxy in front of an S3 server that forwards every request and answer unchanged, except
 * conditional puts (`If-None-Match: *`) of one object: the first `conflicts` of them are answered
 * `409 ConditionalRequestConflict` without being forwarded, as S3 answers while another conditional write
 * of the key is in progress (versitygw never does by itself). `beforeConflict` runs before each such
 * answer: a test stores the object there to play the other writer that finished.
 *
 * The client is pointed at the proxy and signs (SigV4) for the proxy's host; the Host header is forwarded
 * as the client sent it, so versitygw checks the very signature the client made. Rewriting Host to
 * versitygw's address would break that signature.
 */
export async function startConflictProxy(
  target: string,
  o: { bucket: string; objectKey: string; conflicts: number; beforeConflict?: () => Promise<void> },
): Promise<ConflictProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  let answered = 0;
  const isConflict = (req: http.IncomingMessage) =>
    answered < o.conflicts &&
    req.method === 'PUT' &&
    req.headers['if-none-match'] === '*' &&
    decodeURIComponent(new URL(req.url ?? '/', 'http://proxy').pathname) === `/${o.bucket}/${o.objectKey}`;

  const server = http.createServer((req, res) => {
    if (isConflict(req)) {
      answered++;
      // Read the whole body first, as S3 does: answering mid-upload would show as a reset, not a 409.
      req.resume();
      req.once('end', () => {
        void (o.beforeConflict ?? (async () => {}))().then(
          () => conflict(res, o.objectKey),
          (err: unknown) => res.destroy(err as Error),
        );
      });
      return;
    }
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.rawHeaders,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    conflicts: () => answered,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

function conflict(res: http.ServerResponse, key: string) {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ConditionalRequestConflict</Code>' +
    '<Message>A conflicting conditional operation is currently in progress against this resource.' +
    ` Please try again.</Message><Key>${key}</Key><RequestId>conflict-proxy</RequestId></Error>`;
  res.writeHead(409, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
