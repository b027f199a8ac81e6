import { config, exitOnConfigError } from '../config.js';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { ensurePostgres } from '../infra/postgres.js';
import { connectClient } from '../infra/temporal-client.js';
import { logger } from '../logging.js';
import { loadOperatorsFile } from '../operators/registry.js';
import { syncOperators } from '../operators/resolver.js';
import { createBlobStore } from '../storage/index.js';
import { loadSinks } from '../notify/sinks.js';
import { startTracing, stopTracing } from '../telemetry/tracing.js';
import { createApi } from './app.js';

/** `npm run api`: the HTTP API on API_PORT, against the configured PostgreSQL, Temporal and blob store. */
const cfg = config();
// Checked before anything starts: production has no API without credentials.
const credentials = exitOnConfigError(cfg.apiCredentials);
if (!credentials)
  logger.warn(
    'API_TOKEN and API_BASIC_USER/API_BASIC_PASSWORD are unset: the catalog page, /metrics and every other route are open to anyone (development only: production refuses to start so)',
  );
const url = await ensurePostgres((line) => logger.info(line));
await migrate(url, cfg.database.schema);
const pool = createPool(url, cfg.database.schema);
const operators = await loadOperatorsFile(cfg.operatorsFile);
// The API answers webhooks from this file, so it registers this file (as the tour-import worker does, see
// registerOperators): deliveries reference the operator row, and a push never fails just because no
// worker or CLI synced the operators yet.
await syncOperators(pool, operators);
// Before the client: the workflows it starts (webhook pushes, operator control) open traces (docs/operations.md: Traces).
startTracing({ serviceName: 'tour-import-api', endpoint: cfg.tracing.endpoint });
const client = await connectClient().catch((err: Error) => {
  // One sentence saying how to start Temporal beats a stack trace.
  logger.fatal(err.message);
  process.exit(1);
});

const app = await createApi({
  pool,
  client,
  store: createBlobStore(cfg.blobs, cfg.blobDir),
  blobPublicUrl: cfg.blobs.publicUrl,
  operators,
  secret: cfg.secret,
  sinks: await loadSinks(cfg.operatorsFile, cfg.secret, cfg.notify()),
  credentials,
  // The dev server's UI; config.ts has no separate UI address setting yet (docker-compose's UI differs).
  temporalUiUrl: cfg.temporal.uiUrl,
  namespace: cfg.temporal.namespace,
  logger,
});
await app.listen({ port: cfg.apiPort, host: '0.0.0.0' });
logger.info(
  { port: cfg.apiPort },
  `API listening: http://localhost:${cfg.apiPort}/ (catalog), /metrics, /readyz`,
);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'API shutting down');
    // Finish in-flight requests, then release connections so the process exits on its own.
    void app
      .close()
      .then(() => Promise.all([pool.end(), client.connection.close(), stopTracing()]))
      .then(() => process.exit(0))
      .catch((err) => {
        logger.error({ err }, 'API shutdown failed');
        process.exit(1);
      });
  });
}
