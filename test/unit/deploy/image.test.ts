import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The Docker image holds the product only: what the Dockerfile copies from the build context is read
 * here, so the simulator, the server starters, the soak, the bench and the tests cannot slip into it.
 */
const root = path.resolve(import.meta.dirname, '../../..');
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

/** The sources of every COPY from the build context (not `--from=` another stage), by stage. */
function copiedFromContext(): { stage: string; source: string }[] {
  let stage = '';
  const out: { stage: string; source: string }[] = [];
  for (const line of dockerfile.split('\n')) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stage = from[1] ?? '';
    const copy = /^COPY\s+(?!--from)(.+)$/i.exec(line);
    if (!copy) continue;
    const parts = copy[1]!.trim().split(/\s+/);
    for (const source of parts.slice(0, -1)) out.push({ stage, source });
  }
  return out;
}

const TOOLING = ['tooling', 'soak', 'bench', 'test', 'scripts'];
const under = (source: string, dir: string) => source === dir || source.startsWith(`${dir}/`);

describe('the Docker image', () => {
  it('copies src/ and its settings into the runtime, never the tooling', () => {
    const runtime = copiedFromContext()
      .filter((c) => c.stage === 'runtime')
      .map((c) => c.source);
    expect(runtime).toEqual(['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'config']);
  });

  it('builds the workflow bundle with its one script, and copies no other tooling in any stage', () => {
    const tooling = copiedFromContext().filter((c) => TOOLING.some((dir) => under(c.source, dir)));
    expect(tooling).toEqual([{ stage: 'bundle', source: 'scripts/build-workflow-bundle.ts' }]);
    // That script needs nothing outside src/.
    const script = readFileSync(path.join(root, 'scripts/build-workflow-bundle.ts'), 'utf8');
    const relative = [...script.matchAll(/from\s+'(\.[^']+)'/g)].map((m) => m[1]!);
    expect(relative.length).toBeGreaterThan(0);
    expect(relative.filter((r) => !r.startsWith('../src/'))).toEqual([]);
  });

  it('leaves the tooling out of the build context too', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    for (const dir of ['tooling', 'soak', 'bench', 'test']) expect(ignored).toContain(dir);
  });
});
