/**
 * `npm run demo`: Temporal, PostgreSQL, the operator simulator (four dialects), both workers and the
 * API; a full import of every operator with progress bars (one operator starts failing halfway and is
 * paused by its circuit breaker, which notifies a receiver the demo starts, then resumes on its own after
 * a short cooldown once its API recovers), then catalog changes and a delta import, then a summary.
 * Keeps running until Ctrl-C; `--exit` stops after the summary.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { config } from '../src/config.js';
import { dropSchema } from '../src/db/database.js';
import { importOperatorWorkflowId, TASK_QUEUES } from '../src/constants.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { ensurePostgres } from '../src/infra/postgres.js';
import { ensureTemporal } from '../tooling/servers/temporal.js';
import { connectClient } from '../src/infra/temporal-client.js';
import { stopChild } from '../tooling/servers/dev-server.js';
import { loadOperatorsFile } from '../src/operators/registry.js';
import { syncOperators } from '../src/operators/resolver.js';
import { DEMO_OPERATORS } from '../tooling/simulator/demo-operators.js';
import { startSimulator } from '../tooling/simulator/server.js';
import { ImportOperator } from '../src/workflows/import-operator.js';
import type { ImportMode } from '../src/workflows/types.js';
import { startNotificationReceiver } from './demo-notifications.js';
import { followImports, startProcess, terminateOpenImports } from './demo-support.js';

const exitAfterSummary = process.argv.includes('--exit');
const cfg = config();
const SCHEMA = 'demo';
// Dialect C fetches every tour from its per-product endpoint (A, B and D import from their listings).
const FAILING = 'city-tours';
const logDir = path.join(cfg.dataDir, 'demo-logs');
/** The half-open breaker's cooldown in the demo (15 minutes by default): it probes again after this. */
const DEMO_COOLDOWN_MS = 10_000;

console.log('Starting infrastructure…');
const temporal = await ensureTemporal();
const databaseUrl = await ensurePostgres();
const admin = new pg.Client({ connectionString: databaseUrl });
await admin.connect();
await dropSchema(admin, SCHEMA); // every demo starts from an empty catalog
await admin.end();
await migrate(databaseUrl, SCHEMA);
const pool = createPool(databaseUrl, SCHEMA);
const sim = await startSimulator({ port: cfg.simulatorPort, operators: DEMO_OPERATORS });
const operators = await loadOperatorsFile(cfg.operatorsFile);
await syncOperators(pool, operators);

// Fresh credentials for the demo's API each run: its catalog and metrics are not open (docs/operations.md: HTTP API).
const login = {
  user: 'demo',
  password: randomBytes(9).toString('base64url'),
  token: randomBytes(16).toString('hex'),
};
// Notifications go to a signed JSON webhook the demo serves itself (docs/operations.md: Notifications).
const notifySecret = `whsec_${randomBytes(24).toString('base64')}`;
const receiver = await startNotificationReceiver(notifySecret);
const printNotifications = () => {
  const lines = receiver.take();
  if (lines.length) console.log(`Notifications received at ${receiver.url}:\n${lines.join('\n')}`);
};
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NOTIFY_WEBHOOK_URL: receiver.url,
  NOTIFY_WEBHOOK_SECRET: notifySecret,
  API_BASIC_USER: login.user,
  API_BASIC_PASSWORD: login.password,
  API_TOKEN: login.token,
  DATABASE_URL: databaseUrl,
  DATABASE_SCHEMA: SCHEMA,
  TEMPORAL_ADDRESS: temporal.address,
  ALLOW_PRIVATE_HOSTS: '127.0.0.1', // the simulator runs on loopback; production allows none
  LOG_LEVEL: 'info',
  UV_THREADPOOL_SIZE: '4',
  MALLOC_ARENA_MAX: '2',
};
for (const op of sim.operators()) {
  const prefix = `OP_${op.id.replace(/-/g, '_').toUpperCase()}`;
  env[`${prefix}_API_KEY`] = op.credentials.apiKey;
  env[`${prefix}_WEBHOOK_SECRET`] = `demo-webhook-secret-${op.id}`;
}
const client = await connectClient(temporal.address);
const leftovers = await terminateOpenImports(client);
if (leftovers) console.log(`Terminated ${leftovers} import(s) left running by an earlier demo.`);
const children = [
  startProcess('worker-tours', 'src/workers/tour-import.ts', env, logDir),
  startProcess('worker-images', 'src/workers/image-processing.ts', env, logDir),
  startProcess('api', 'src/api/main.ts', env, logDir),
];

async function runImports(mode: ImportMode, ids: string[]) {
  const handles = new Map();
  for (const id of ids) {
    handles.set(
      id,
      await client.workflow.start(ImportOperator, {
        taskQueue: TASK_QUEUES.tourImport,
        workflowId: `${importOperatorWorkflowId(id)}:demo-${mode}-${Date.now()}`,
        args: [
          {
            operatorId: id,
            mode,
            settings: {
              retry: { initialIntervalMs: 300, maximumAttempts: 3 },
              breaker: { cooldown: DEMO_COOLDOWN_MS },
            },
          },
        ],
      }),
    );
  }
  await followImports(handles);
  printNotifications();
  return handles;
}

const ids = operators.map((o) => o.id);
// Halfway through its catalog, one operator's detail API starts failing for good.
sim.operator(FAILING).addFaults('detail', [{ type: 'error', status: 500, after: 30 }]);
console.log(`\nFull import of ${ids.join(', ')} (${FAILING} will start failing halfway):`);
const full = await runImports('full', ids);
// The operator's API recovers; its breaker (half-open) probes a few tours after the cooldown and closes.
sim.operator(FAILING).clearFaults();
console.log(
  `${FAILING}: its API works again; its import resumes on its own with a probe within ${DEMO_COOLDOWN_MS / 1000} s of its pause.`,
);

console.log('\nChanging the catalogs: 3 tours changed, 1 removed, 2 added per healthy operator…');
const healthy = ids.filter((id) => id !== FAILING);
for (const id of healthy) {
  const op = sim.operator(id);
  const codes = op.activeCodes();
  for (const code of codes.slice(0, 3)) op.change(code);
  op.remove(codes[5]);
  op.add(2);
}
console.log('Delta import:');
await runImports('delta', healthy);

console.log(`\nWaiting for ${FAILING} to resume on its own and finish…`);
const healed = (await full.get(FAILING)!.result()) as { status: string; message: string };
console.log(`${FAILING}: ${healed.status} (${healed.message})`);
printNotifications();

await printSummary();
console.log(`\nTemporal Web UI: ${temporal.uiUrl ?? `http://localhost:${cfg.temporal.uiPort}`}`);
console.log(
  `Catalog page:    http://${login.user}:${login.password}@localhost:${cfg.apiPort}/  (user ${login.user}, password ${login.password})`,
);
console.log(
  `Metrics:         curl -H 'Authorization: Bearer ${login.token}' http://localhost:${cfg.apiPort}/metrics`,
);
console.log(`Logs:            ${logDir}`);

async function printSummary() {
  const { rows } = await pool.query(
    `SELECT o.id, o.paused, o.pause_reason,
            count(t.*) FILTER (WHERE t.status = 'active')::int AS active,
            count(t.*) FILTER (WHERE t.status = 'removed')::int AS removed,
            (SELECT count(*)::int FROM tour_failures f WHERE f.operator_id = o.id) AS failed,
            (SELECT coalesce(sum((r.counts->>'unchanged')::int), 0)::int FROM import_runs r WHERE r.operator_id = o.id) AS unchanged
       FROM operators o LEFT JOIN tours t ON t.operator_id = o.id GROUP BY o.id ORDER BY o.id`,
  );
  console.log('\nSummary');
  console.table(
    rows.map((r) => ({
      operator: r.id,
      imported: r.active,
      unchanged: r.unchanged,
      removed: r.removed,
      failed: r.failed,
      state: r.paused ? `paused: ${r.pause_reason}` : 'idle',
    })),
  );
}

async function shutdown() {
  // The paused import waits for a resume; end it so the next demo starts clean.
  await terminateOpenImports(client).catch(() => undefined);
  await Promise.all(children.map((c) => stopChild(c)));
  await sim.close();
  await receiver.close();
  await pool.end();
  await temporal.server?.stop();
}

if (exitAfterSummary) {
  await shutdown();
  process.exit(0);
}
console.log('\nRunning until Ctrl-C.');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void shutdown().then(() => process.exit(0)));
}
