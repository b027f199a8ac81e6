import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Dependencies point one way (docs/development.md, "Source layout"): workflows → (types of) activities →
 * domain and ports (db, net, images, storage, operators). The ports and the domain never reach back
 * into workflows, activities or the processes built on them, and SQL is written only under src/db.
 * What the CLI and the API both offer lives in src/operations, which neither door's code may hold.
 * ESLint keeps workflows deterministic; this test keeps the layers.
 */
const root = path.resolve(import.meta.dirname, '../..');
const src = path.join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

interface Import {
  /** The importing file, relative to src/ (`activities/tour.ts`). */
  from: string;
  /** The imported module's top folder under src/ (`workflows`), or its file for top-level ones. */
  layer: string;
  typeOnly: boolean;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'/gm;

function importsOf(file: string): Import[] {
  const from = path.relative(src, file);
  return [...readFileSync(file, 'utf8').matchAll(IMPORT)].flatMap((m) => {
    const target = path.relative(src, path.resolve(path.dirname(file), m[3]!));
    if (target.startsWith('..')) return [];
    return [{ from, layer: target.split(path.sep)[0]!, typeOnly: !!m[2] }];
  });
}

const files = sourceFiles(src);
const imports = files.flatMap(importsOf);
const layerOf = (rel: string) => rel.split(path.sep)[0]!;

/** Layers that may import only the domain and each other (ports), never what is built on them. */
const INNER = ['domain', 'db', 'net', 'images', 'storage', 'operators', 'notify'];
const OUTER = ['workflows', 'activities', 'workers', 'api', 'cli', 'operations', 'schedules', 'infra'];

/**
 * Every relative module a file names, static or dynamic (`import('…')`), resolved; the product's imports
 * that leave src/ are checked against this.
 */
const ANY_IMPORT = /(?:\bfrom\s+|\bimport\(\s*)'(\.[^']+)'/g;

/** What src/ may reach outside itself: the private PostgreSQL cluster, by a dynamic import outside production. */
const DEVELOPMENT_PATH = [
  { from: path.join('infra', 'postgres.ts'), to: 'tooling/servers/private-postgres.js' },
];

describe('layers', () => {
  it('the domain and the ports import nothing built on them', () => {
    // (An entry point, `*-main.ts`, is a process of its own: it wires whatever it runs.)
    const backwards = imports.filter(
      (i) => INNER.includes(layerOf(i.from)) && !i.from.endsWith('-main.ts') && OUTER.includes(i.layer),
    );
    expect(backwards.map((i) => `${i.from} → ${i.layer}`)).toEqual([]);
  });

  it('activities import nothing from workflows, workers or the API (shared policy lives in src/domain)', () => {
    const backwards = imports.filter(
      (i) => layerOf(i.from) === 'activities' && ['workflows', 'workers', 'api', 'cli'].includes(i.layer),
    );
    expect(backwards.map((i) => `${i.from} → ${i.layer}`)).toEqual([]);
  });

  it('the API imports nothing from the CLI: what both doors run lives in src/operations', () => {
    const fromCli = imports.filter((i) => layerOf(i.from) === 'api' && i.layer === 'cli');
    expect(fromCli.map((i) => `${i.from} → ${i.layer}`)).toEqual([]);
  });

  it('operations import nothing from either door or the processes (the CLI and the API both call them)', () => {
    const backwards = imports.filter(
      (i) => layerOf(i.from) === 'operations' && ['cli', 'api', 'workers'].includes(i.layer),
    );
    expect(backwards.map((i) => `${i.from} → ${i.layer}`)).toEqual([]);
  });

  it('outside workflows, workflow modules are imported as types only (clients start them by name)', () => {
    const values = imports.filter(
      (i) => i.layer === 'workflows' && !['workflows', 'workers'].includes(layerOf(i.from)) && !i.typeOnly,
    );
    expect(values.map((i) => `${i.from} → ${i.layer}`)).toEqual([]);
  });

  it('the product reaches its tooling (tooling/, soak/, bench/, scripts/, test/) only on the development path', () => {
    const outside = files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(ANY_IMPORT)].flatMap((m) => {
        const target = path.relative(root, path.resolve(path.dirname(file), m[1]!));
        return target.startsWith(`src${path.sep}`) ? [] : [{ from: path.relative(src, file), to: target }];
      }),
    );
    expect(outside).toEqual(DEVELOPMENT_PATH);
    // The one way out is taken only where production cannot be (it requires DATABASE_URL).
    expect(readFileSync(path.join(src, DEVELOPMENT_PATH[0]!.from), 'utf8')).toMatch(
      /if \(explicit\) \{[\s\S]*return explicit;[\s\S]*await import\('\.\.\/\.\.\/tooling\/servers\/private-postgres\.js'\)/,
    );
  });

  it('SQL is written only under src/db', () => {
    const SQL =
      /\b(SELECT\s+\S+\s+FROM|INSERT INTO|DELETE FROM|(CREATE|DROP) (DATABASE|ROLE|TABLE)|UPDATE [a-z_]+ SET)\b/;
    const outside = files
      .filter((f) => layerOf(path.relative(src, f)) !== 'db')
      .filter((f) => SQL.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(src, f));
    expect(outside).toEqual([]);
  });

  it('finds the imports it checks (the scan itself works)', () => {
    expect(imports.some((i) => i.from === path.join('activities', 'tour.ts') && i.layer === 'db')).toBe(true);
    expect(imports.some((i) => layerOf(i.from) === 'workflows' && i.layer === 'domain')).toBe(true);
    expect(imports.some((i) => layerOf(i.from) === 'api' && i.layer === 'operations')).toBe(true);
  });
});
