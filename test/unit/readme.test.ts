import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CliContext } from '../../src/cli/context.js';
import { buildProgram } from '../../src/cli/program.js';
import { loadConfig } from '../../src/config.js';
import { DEMO_OPERATORS } from '../../tooling/simulator/demo-operators.js';

/**
 * The README's commands work as written on a fresh clone, and the documentation's links lead somewhere.
 * Nothing is run: every ```sh / ```bash block of README.md is read line by line, and each command is
 * checked against what it names — `npm run` scripts in package.json, files for `npx tsx`, the CLI's
 * commands and options, environment variables the config knows (src/config.ts) or the docs document,
 * the simulator's demo credentials. Relative links (and their #anchors) in README.md and docs/*.md must
 * resolve, and the `npm run` scripts, `npx tsx` files and repository paths the prose names must exist.
 * Renaming a script, a file, a CLI command or a heading fails here.
 */
const root = path.resolve(import.meta.dirname, '../..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');

const README = 'README.md';
const DOCS = readdirSync(path.join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);
const MARKDOWN = [README, ...DOCS];

const pkg = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  bin: Record<string, string>;
};

interface Block {
  lang: string;
  code: string;
}

/** Fenced code blocks with their info string's first word (`sh`, `bash`, `yaml`, or '' for none). */
function fencedBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```\s*$/gm)].map((m) => ({
    lang: m[1].trim().split(/\s+/)[0] ?? '',
    code: m[2],
  }));
}

/** The markdown without its fenced blocks: prose, tables and inline code. */
const prose = (markdown: string) => markdown.replace(/^```[^\n]*\n[\s\S]*?^```\s*$/gm, '');

/** A block's command lines: continuations joined, comments and blank lines dropped. */
function commandLines(code: string): { line: string; raw: string }[] {
  return code
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((raw) => ({ raw, line: raw.replace(/(^|\s)#.*$/, '').trim() }))
    .filter((l) => l.line !== '');
}

/** Shell words, quotes removed (no expansion: the README's commands need none). */
const words = (line: string) =>
  [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);

/** The environment variables src/config.ts reads: the keys of its EnvSchema. */
function configKeys(): Set<string> {
  const source = read('src/config.ts');
  const start = source.indexOf('const EnvSchema = z.object({');
  const end = source.indexOf('\n});', start);
  expect(start, 'EnvSchema in src/config.ts').toBeGreaterThan(-1);
  return new Set([...source.slice(start, end).matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]));
}

interface OperatorEntry {
  id: string;
  apiKeyEnv?: string;
  webhookSecretEnv?: string;
}
const operatorsFile = () =>
  (parse(read('config/operators.yaml')) as { operators: OperatorEntry[] }).operators;

/** Secrets the operators file names, and variables the configuration docs name in backticks. */
function documentedVariables(): Set<string> {
  const fromOperators = operatorsFile().flatMap((o) => [o.apiKeyEnv, o.webhookSecretEnv]);
  const fromDocs = [...read('docs/configuration.md').matchAll(/`([A-Z][A-Z0-9_]*)(?:=[^`]*)?`/g)].map(
    (m) => m[1],
  );
  return new Set([...fromOperators, ...fromDocs].filter((v): v is string => v !== undefined));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Paths inside the repository as the docs write them (no placeholders, globs or variables). */
const REPO_PATH = /^(?:\.\/)?(?:src|test|bench|scripts|config|deploy|docs|bin|\.ci)\/[\w./-]*$/;
const repoPaths = (text: string) =>
  text
    .split(/[\s'"()[\]=,;`]+/)
    .map((w) => w.replace(/[.:]+$/, ''))
    .filter((w) => !/[*<>{}$]/.test(w) && REPO_PATH.test(w));

/** Follows `args` down the CLI's command tree; the problems found, if any. */
function checkCliArgs(args: string[]): string[] {
  const io = { out: () => undefined, err: () => undefined, setExitCode: () => undefined };
  let cmd: Command = buildProgram(new CliContext(() => undefined), io);
  const problems: string[] = [];
  let descended = false;
  for (const arg of args) {
    if (arg.startsWith('-')) {
      const name = arg.split('=')[0];
      if (!cmd.options.some((o) => o.long === name || o.short === name) && name !== '--help')
        problems.push(`\`${cmd.name()}\` has no option ${name}`);
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (sub) {
      cmd = sub;
      descended = true;
    } else if (cmd.commands.length > 0) {
      problems.push(`\`${cmd.name()}\` has no command "${arg}"`);
      break;
    }
    // Otherwise an argument of the command reached (an operator id, an external id).
  }
  if (!descended) problems.push(`no CLI command in "${args.join(' ')}"`);
  return problems;
}

/** What is wrong with one command line of the README; empty when it would run as written. */
function checkCommand(line: string, known: Set<string>): string[] {
  const w = words(line);
  const problems: string[] = [];
  while (w.length > 0 && /^[A-Z][A-Z0-9_]*=/.test(w[0])) {
    const name = w.shift()!.split('=')[0];
    if (!known.has(name)) problems.push(`sets ${name}, which neither src/config.ts nor the docs know`);
  }
  const [cmd, ...args] = w;
  if (cmd === 'export') {
    for (const a of args) {
      const name = a.split('=')[0];
      if (!known.has(name)) problems.push(`exports ${name}, which neither src/config.ts nor the docs know`);
    }
    return problems;
  }
  if (cmd === 'npm') {
    const [sub, script, ...rest] = args;
    if (sub === 'ci' || sub === 'install') return problems;
    const name = sub === 'run' || sub === 'run-script' ? script : sub;
    if (!['test', 'start', 'run', 'run-script'].includes(sub))
      return [...problems, `unknown npm command ${sub}`];
    if (!(name in pkg.scripts)) return [...problems, `package.json has no script "${name}"`];
    const passed = sub === 'run' || sub === 'run-script' ? rest : [script, ...rest].filter(Boolean);
    if (name === 'cli') problems.push(...checkCliArgs(passed[0] === '--' ? passed.slice(1) : passed));
    return problems;
  }
  if (cmd === 'npx') {
    const [tool, ...rest] = args;
    if (tool === 'tsx') {
      if (!existsSync(path.join(root, rest[0] ?? ''))) problems.push(`npx tsx: no file ${rest[0]}`);
    } else if (tool in pkg.bin) {
      if (tool === 'tour-import') problems.push(...checkCliArgs(rest));
    } else if (!existsSync(path.join(root, 'node_modules/.bin', tool))) {
      problems.push(`npx ${tool}: not installed by npm ci`);
    }
    return problems;
  }
  return [...problems, `"${cmd}" is not a command this test knows how to check (npm, npx, export)`];
}

describe('README.md', () => {
  const readme = read(README);
  const shellBlocks = fencedBlocks(readme).filter((b) => b.lang === 'sh' || b.lang === 'bash');

  it('has the two commands, and `npm test` is what .ci/run runs', () => {
    expect(shellBlocks.length).toBeGreaterThan(0);
    const first = commandLines(shellBlocks[0].code).map((l) => l.line);
    expect(first).toContain('npm ci && npm run demo');
    expect(first).toContain('npm test');
    expect(read('.ci/run').split('\n')).toContain('npm test');
  });

  it('runs only commands, scripts, files, CLI commands and variables that exist', () => {
    const known = new Set([...configKeys(), ...documentedVariables()]);
    const problems: string[] = [];
    for (const block of shellBlocks) {
      for (const { line, raw } of commandLines(block.code)) {
        for (const part of line.split(/&&|\|\||;/).map((p) => p.trim())) {
          if (part) problems.push(...checkCommand(part, known).map((p) => `${raw.trim()}: ${p}`));
        }
        for (const p of repoPaths(raw))
          if (!existsSync(path.join(root, p))) problems.push(`${raw.trim()}: no such path ${p}`);
      }
    }
    expect(problems.join('\n')).toBe('');
  });

  it('exports an environment the config accepts, with the simulator demo operators’ credentials', () => {
    const env: Record<string, string> = {};
    for (const block of shellBlocks)
      for (const { line } of commandLines(block.code)) {
        const [cmd, ...args] = words(line);
        if (cmd !== 'export') continue;
        for (const a of args) {
          const [name, ...value] = a.split('=');
          env[name] = value.join('=');
        }
      }
    expect(Object.keys(env)).toContain('ALLOW_PRIVATE_HOSTS');
    const cfg = loadConfig(env);
    expect(cfg.allowPrivateHosts).toContain('127.0.0.1');
    // Every configured operator's key is exported, with the value the simulator expects.
    for (const op of operatorsFile()) {
      const demo = DEMO_OPERATORS.find((d) => d.id === op.id);
      expect(op.apiKeyEnv, `${op.id} has apiKeyEnv`).toBeDefined();
      expect(env[op.apiKeyEnv!], `README exports ${op.apiKeyEnv}`).toBeDefined();
      if (demo) expect(cfg.secret(op.apiKeyEnv!), op.apiKeyEnv).toBe(demo.credentials?.apiKey);
    }
  });

  it('tells a newcomer what running the pieces needs', () => {
    const section = readme.slice(readme.indexOf('## Running the pieces yourself'));
    for (const needed of ['npm run temporal', 'ALLOW_PRIVATE_HOSTS=127.0.0.1', 'OP_', 'operators sync'])
      expect(section, needed).toContain(needed);
    expect(readme).toContain('UnsafeUrl');
  });
});

describe.each(MARKDOWN)('%s', (file) => {
  const text = read(file);
  const dir = path.dirname(file);

  it('links only to files (and headings) that exist inside the repository', () => {
    const problems: string[] = [];
    for (const [, , target] of prose(text).matchAll(/\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [file0, anchor] = target.split('#');
      const resolved = file0 === '' ? file : path.normalize(path.join(dir, file0));
      if (resolved.startsWith('..') || path.isAbsolute(resolved)) {
        problems.push(`${target}: outside the repository`);
        continue;
      }
      if (!existsSync(path.join(root, resolved))) {
        problems.push(`${target}: no file ${resolved}`);
        continue;
      }
      if (anchor && resolved.endsWith('.md') && !anchors(read(resolved)).has(anchor))
        problems.push(`${target}: no heading #${anchor} in ${resolved}`);
    }
    expect(problems.join('\n')).toBe('');
  });

  it('names only npm scripts, `npx tsx` files and repository paths that exist', () => {
    const problems: string[] = [];
    for (const [, script] of text.matchAll(/npm run ([\w:-]+)/g))
      if (!(script in pkg.scripts)) problems.push(`npm run ${script}: no such script`);
    for (const [, file] of text.matchAll(/npx tsx ([\w./-]+)/g))
      if (!existsSync(path.join(root, file))) problems.push(`npx tsx ${file}: no such file`);
    for (const [, code] of prose(text).matchAll(/`([^`\n]+)`/g))
      for (const p of repoPaths(code))
        if (!existsSync(path.join(root, p))) problems.push(`\`${code}\`: no such path ${p}`);
    expect(problems.join('\n')).toBe('');
  });
});
