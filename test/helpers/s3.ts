import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { resolveVersitygw, startS3Server, type S3Server } from '../../src/infra/s3-server.js';
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
 * than building it inside a test's timeout: `npx tsx src/infra/versitygw-main.ts` (.ci/run does it).
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
