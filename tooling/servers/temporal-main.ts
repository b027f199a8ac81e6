/** `npm run temporal`: a persistent dev server in the foreground, with the Web UI and search attributes. */
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { config } from '../../src/config.js';
import { PRODUCT_DYNAMIC_CONFIG, startDevServer } from './dev-server.js';
import { resolveTemporalCli } from './temporal-cli.js';

const { port, uiPort } = config().temporal;
mkdirSync(config().dataDir, { recursive: true });
const server = await startDevServer({
  cli: await resolveTemporalCli(),
  port,
  uiPort,
  dbFile: path.join(config().dataDir, 'temporal.sqlite'),
  dynamicConfig: PRODUCT_DYNAMIC_CONFIG,
});
console.log(`Temporal dev server on ${server.address}; Web UI ${server.uiUrl}. Ctrl-C stops it.`);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => void server.stop().then(() => process.exit(0)));
server.child.on('exit', (code) => process.exit(code ?? 1));
