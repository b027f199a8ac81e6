import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../../../src/api/metrics.js';
import type { Pool } from '../../../src/db/pool.js';

/**
 * deploy/prometheus/alerts.yml and deploy/grafana/tour-import.json (docs/operations.md: Traces, dashboard and alerts)
 * ask only for metrics the API's registry has: a renamed or removed metric fails here, not silently on a
 * dashboard at 3 a.m. promtool, where installed (Debian: `apt-get install prometheus`), checks the rules too.
 */
const root = path.resolve(import.meta.dirname, '../../..');
const ALERTS = path.join(root, 'deploy/prometheus/alerts.yml');
const DASHBOARD = path.join(root, 'deploy/grafana/tour-import.json');

/** Every series name the registry can expose: a histogram's _bucket, _sum and _count too. Nothing is scraped. */
function exposedNames(): Set<string> {
  const { registry } = createMetrics({} as Pool);
  return new Set(
    registry.getMetricsAsArray().flatMap((m) => {
      const { name, type } = m as unknown as { name: string; type: string };
      return type === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
    }),
  );
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
]);
KEYWORDS.add('unless').add('offset').add('inf').add('nan');

/** The metric names a PromQL expression selects: no functions, labels, strings, ranges or Grafana variables. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\$\w+/g, '');
  const names = [...bare.matchAll(/([A-Za-z_:][\w:]*)\s*(\()?/g)]
    .filter((m) => !m[2] && !KEYWORDS.has(m[1].toLowerCase()))
    .map((m) => m[1]);
  return [...new Set(names)];
}

describe('deploy/: alert rules and dashboard', () => {
  const names = exposedNames();

  it('extracts metric names from PromQL', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, mode) (rate(a_seconds_bucket{op=~"$operator"}[$__rate_interval])))',
      ),
    ).toEqual(['a_seconds_bucket']);
    expect(metricNames('x > on (operator) y{status=~"a|b"} == 1')).toEqual(['x', 'y']);
  });

  const doc = parse(readFileSync(ALERTS, 'utf8')) as { groups: { name: string; rules: unknown[] }[] };
  const rules = () => doc.groups.flatMap((g) => g.rules as Record<string, unknown>[]);

  it('alerts.yml: every rule is complete and fires on metrics the API exposes', () => {
    expect(doc.groups.length).toBeGreaterThan(0);
    const alerts: string[] = [];
    for (const group of doc.groups) {
      expect(group.name).toMatch(/\S/);
      expect(group.rules.length).toBeGreaterThan(0);
      for (const rule of group.rules as Record<string, unknown>[]) {
        expect(Object.keys(rule).sort()).toEqual(['alert', 'annotations', 'expr', 'for', 'labels']);
        expect(rule.alert).toMatch(/^[A-Z][A-Za-z]+$/);
        expect(rule.for).toMatch(/^\d+[smh]$/);
        expect(rule.labels).toEqual({ severity: expect.stringMatching(/^(warning|critical)$/) });
        const annotations = rule.annotations as Record<string, string>;
        expect(Object.keys(annotations).sort()).toEqual(['description', 'summary']);
        const used = metricNames(String(rule.expr));
        expect(used.length, `${rule.alert} selects no metric`).toBeGreaterThan(0);
        expect(
          used.filter((n) => !names.has(n)),
          `${rule.alert}: unknown metrics`,
        ).toEqual([]);
        alerts.push(String(rule.alert));
      }
    }
    // The notification events that are states (docs/operations.md: Notifications).
    expect(alerts.sort()).toEqual([
      'TourImportDeltaMarkStale',
      'TourImportFailingRuns',
      'TourImportImportFailed',
      'TourImportOperatorPaused',
    ]);
  });

  const promtool = (() => {
    try {
      return execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  })();
  it.runIf(promtool)('alerts.yml passes `promtool check rules` (where promtool is installed)', () => {
    const out = execFileSync(promtool!, ['check', 'rules', ALERTS], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: 4 rules found/);
  });

  it('tour-import.json: a dashboard whose every query selects metrics the API exposes', () => {
    const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      uid: string;
      title: string;
      panels: { id: number; title: string; type: string; targets?: { expr: string; refId: string }[] }[];
      templating: { list: { name: string; definition?: string }[] };
    };
    expect(dash.uid).toBe('tour-import');
    const ids = dash.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const queries = dash.panels.filter((p) => p.type !== 'row');
    expect(queries.length).toBeGreaterThan(5);
    const exprs = [
      ...queries.flatMap((p) => {
        expect(p.targets?.length, `${p.title} has no query`).toBeGreaterThan(0);
        return p.targets!.map((t) => t.expr);
      }),
      // label_values(metric, label): the metric.
      ...dash.templating.list.flatMap((v) =>
        v.definition ? [v.definition.replace(/^label_values\((\w+),.*\)$/, '$1')] : [],
      ),
    ];
    for (const expr of exprs) {
      const used = metricNames(expr);
      expect(used.length, `${expr} selects no metric`).toBeGreaterThan(0);
      expect(
        used.filter((n) => !names.has(n)),
        expr,
      ).toEqual([]);
    }
    // Every alert's metrics are on the dashboard too.
    const shown = new Set(exprs.flatMap(metricNames));
    for (const n of rules().flatMap((r) => metricNames(String(r.expr)))) expect(shown.has(n), n).toBe(true);
  });
});
