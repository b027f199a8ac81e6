import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
let dir: string | undefined;

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('scripts/build-workflow-bundle.ts', () => {
  it('writes a workflow bundle with both workflows to the path given', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'workflow-bundle-'));
    const out = path.join(dir, 'nested', 'workflow-bundle.js');
    // The same command the Dockerfile runs, so a broken import in src/workflows fails here first.
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/build-workflow-bundle.ts', out],
      { cwd: root, timeout: 60_000 },
    );
    expect((await stat(out)).size).toBeGreaterThan(10_000);
    const code = await readFile(out, 'utf8');
    expect(code).toContain('ImportOperator');
    expect(code).toContain('ImportTour');
    // Tracing's workflow interceptors are in: an image's workers trace once OTEL_EXPORTER_OTLP_ENDPOINT is set.
    expect(code).toContain('OpenTelemetryInboundInterceptor');
  }, 60_000);
});
