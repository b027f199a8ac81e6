/** Scenario 2, legacy: one importer and one processor sharing a folder of JSON files, as the seed system did. */
import { mkdirSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createPool } from '../../src/db/pool.js';
import {
  benchAdapter,
  jobFromEnv,
  parseOps,
  selfUsage,
  type JobResult,
  type JobSpec,
} from '../lib/common.js';
import { runImporter } from './importer.js';
import { runProcessor } from './processor.js';

const job = jobFromEnv<JobSpec>();
const op = parseOps(job.operatorsYaml).find((o) => o.id === job.operatorId)!;
const pool = createPool(job.databaseUrl, job.schema, 2);
await pool.query(`CREATE TABLE IF NOT EXISTS bench_legacy_tours (
  operator_id text NOT NULL, external_id text NOT NULL, title text, data jsonb NOT NULL, images jsonb NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (operator_id, external_id))`);
const queueDir = path.join(job.outDir, 'queue');
rmSync(job.outDir, { recursive: true, force: true });
mkdirSync(queueDir, { recursive: true });

const t0 = performance.now();
const [, processed] = await Promise.all([
  runImporter(benchAdapter(op, job.apiKey), queueDir, job.maxTours),
  runProcessor(pool, queueDir, path.join(job.outDir, 'blobs')),
]);
const wallMs = performance.now() - t0;
await pool.end();
rmSync(job.outDir, { recursive: true, force: true });
const result: JobResult = {
  wallMs,
  tours: processed.tours,
  imageSlots: processed.imageSlots,
  downloads: processed.imageSlots,
  resizes: processed.imageSlots,
  latenciesMs: processed.latenciesMs,
  ...selfUsage(),
};
await writeFile(job.resultFile, JSON.stringify(result));
