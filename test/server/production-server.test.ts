import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../tooling/servers/dev-server.js';
import { withDatabase } from '../../src/db/database.js';
import { resolveTemporalCli } from '../../tooling/servers/temporal-cli.js';
import { resolveTemporalUi, startTemporalUi, type TemporalUi } from '../../tooling/servers/temporal-ui.js';
import { startPipeline, type Pipeline } from '../helpers/pipeline.js';

/**
 * What the server tier adds to the tests that run again on it (imports, pause/resume, cancel,
 * schedules, CLI, kill -9 of the server): the histories really live in PostgreSQL, `temporal` lists
 * imports by the OperatorId search attribute there, and the Web UI built for this server serves it.
 */
describe('the production Temporal server', () => {
  let p: Pipeline;
  let ui: TemporalUi | undefined;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'server-tier-'));
    p = await startPipeline('prodserver', [
      { id: 'listed-op', dialect: 'A', seed: 81, tourCount: 10, imagesPerTour: { min: 1, max: 2 } },
    ]);
  });
  afterAll(async () => {
    await ui?.stop();
    await p?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the import in PostgreSQL, and the temporal CLI lists it by OperatorId', async () => {
    const handle = await p.startImport('listed-op', 'full');
    expect((await handle.result()).status).toBe('completed');

    // The execution and its visibility record are rows in the server's PostgreSQL databases.
    const { postgresUrl } = inject('temporalServer');
    const count = async (database: string, sql: string) => {
      const client = new pg.Client({ connectionString: withDatabase(postgresUrl, database) });
      await client.connect();
      try {
        return (await client.query(sql, [handle.workflowId])).rows[0].n as number;
      } finally {
        await client.end();
      }
    };
    expect(
      await count(
        'tour_import_temporal_test',
        'SELECT count(*)::int AS n FROM current_executions WHERE workflow_id = $1',
      ),
    ).toBe(1);
    expect(
      await count(
        'tour_import_temporal_test_visibility',
        `SELECT count(*)::int AS n FROM executions_visibility WHERE workflow_id = $1 AND status = 2`,
      ),
    ).toBe(1);

    const { stdout } = await promisify(execFile)(await resolveTemporalCli(), [
      'workflow',
      'list',
      '--address',
      inject('temporalAddress'),
      '--query',
      `OperatorId = 'listed-op' AND WorkflowType = 'ImportOperator'`,
      '--output',
      'json',
    ]);
    const listed = (JSON.parse(stdout) as { execution: { workflowId: string } }[]).map(
      (w) => w.execution.workflowId,
    );
    expect(listed).toEqual([handle.workflowId]);
  });

  it('the Web UI built for the real server serves it', async () => {
    ui = await startTemporalUi({
      binary: await resolveTemporalUi(),
      frontend: inject('temporalAddress'),
      port: await freePort(),
      namespace: 'default',
      dataDir: dir,
      logFile: path.join(dir, 'ui.log'),
    });
    const page = await fetch(ui.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    // Its API reaches the frontend: the namespace is there.
    const namespaces = await fetch(`${ui.url}/api/v1/namespaces`);
    expect(namespaces.status).toBe(200);
    expect(JSON.stringify(await namespaces.json())).toContain('"default"');
  });
});
