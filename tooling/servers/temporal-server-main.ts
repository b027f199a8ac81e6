/**
 * `npm run temporal:server`: the production shape of Temporal in the foreground — the real server on the
 * project's PostgreSQL (databases temporal and temporal_visibility, created and migrated here), the
 * namespace and search attributes registered, and the Web UI beside it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { config } from '../../src/config.js';
import { ensurePostgres } from '../../src/infra/postgres.js';
import {
  defaultPorts,
  resolveTemporalServer,
  resolveTemporalSqlTool,
  startTemporalServer,
  TEMPORAL_SERVER_VERSION,
} from './temporal-server.js';
import { resolveTemporalUi, startTemporalUi, type TemporalUi } from './temporal-ui.js';

const log = (line: string) => console.error(line);
const { port, uiPort, namespace } = config().temporal;
const dataDir = config().dataDir;
mkdirSync(dataDir, { recursive: true });

const postgresUrl = await ensurePostgres(log);
const [serverBinary, sqlTool] = [await resolveTemporalServer({ log }), await resolveTemporalSqlTool({ log })];
const server = await startTemporalServer({
  server: serverBinary,
  sqlTool,
  postgresUrl,
  ports: defaultPorts(port),
  namespace,
  log,
});
let ui: TemporalUi | undefined;
try {
  ui = await startTemporalUi({
    binary: await resolveTemporalUi(log),
    frontend: server.address,
    port: uiPort,
    namespace,
    dataDir,
    logFile: path.join(dataDir, 'temporal-ui.log'),
  });
} catch (err) {
  log(`Running without the Web UI: ${(err as Error).message}`);
}
const where = new URL(postgresUrl);
console.log(
  `Temporal server ${TEMPORAL_SERVER_VERSION} on ${server.address}, on PostgreSQL ${where.host} ` +
    `(databases temporal, temporal_visibility); Web UI ${ui?.url ?? 'not running'}. Ctrl-C stops it.`,
);
const stop = () => Promise.all([server.stop(), ui?.stop()]).then(() => process.exit(0));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop());
server.child.on('exit', (code) => process.exit(code ?? 1));
