import { config, ConfigError, exitOnConfigError } from '../config.js';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { ensurePostgres } from '../infra/postgres.js';
import { connectClient } from '../infra/temporal-client.js';
import { webhookSecretProblem } from '../domain/webhook-signature.js';
import { logger } from '../logging.js';
import { OperatorConfigError } from '../operators/errors.js';
import { loadOperatorsFile, type OperatorConfig } from '../operators/registry.js';
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
    { host: cfg.apiBind },
    'API_TOKEN and API_BASIC_USER/API_BASIC_PASSWORD are unset: the catalog page, /metrics and every other route are open to anyone who reaches the API (development only: production refuses to start so)',
  );
// Also before anything starts: the operators file, and every secret that signs or checks a webhook.
const [operators, sinks] = await exitOnBadConfig(async () => {
  const ops = await loadOperatorsFile(cfg.operatorsFile);
  refuseWeakWebhookSecrets(ops);
  return [ops, await loadSinks(cfg.operatorsFile, cfg.secret, cfg.notify())] as const;
});
const url = await ensurePostgres((line) => logger.info(line));
await migrate(url, cfg.database.schema);
const pool = createPool(url, cfg.database.schema);
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
  sinks,
  credentials,
  // The dev server's UI; config.ts has no separate UI address setting yet (docker-compose's UI differs).
  temporalUiUrl: cfg.temporal.uiUrl,
  namespace: cfg.temporal.namespace,
  // `GET /operators/:id/check` samples images as the image workers would take them.
  imageLimits: {
    maxBytes: cfg.images.maxBytes,
    maxPixels: cfg.images.maxPixels,
    allowPrivateHosts: cfg.allowPrivateHosts,
  },
  logger,
});
await app.listen({ port: cfg.apiPort, host: cfg.apiBind });
logger.info(
  { host: cfg.apiBind, port: cfg.apiPort },
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

/** An operator's webhook secret anyone could guess lets anyone push imports: the API does not start with one. */
function refuseWeakWebhookSecrets(ops: OperatorConfig[]): void {
  for (const { id, webhookSecretEnv: name } of ops) {
    // Unset: that operator's webhook answers 401 (docs/operations.md: Push import webhook).
    const value = name === undefined ? undefined : cfg.secret(name);
    const problem = name && value ? webhookSecretProblem(name, value) : undefined;
    if (problem) throw new ConfigError(`${cfg.operatorsFile}: operator "${id}": ${problem}`);
  }
}

/** fn's result; a bad operators file or secret ends the process in one line, as a bad environment does. */
async function exitOnBadConfig<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    return exitOnConfigError(() => {
      throw err instanceof OperatorConfigError ? new ConfigError(err.message) : err;
    });
  }
}
