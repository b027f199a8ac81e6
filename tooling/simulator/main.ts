import { config } from '../../src/config.js';
import { startSimulator } from './server.js';

/** `npm run simulator`: the demo operators on SIMULATOR_PORT, until interrupted. */
const sim = await startSimulator({ port: config().simulatorPort, host: '127.0.0.1' });
console.log(`Operator simulator listening on ${sim.url}`);
for (const op of sim.operators()) {
  console.log(
    `  ${op.id} (dialect ${op.dialect}) ${op.baseUrl} credentials ${JSON.stringify(op.credentials)}`,
  );
}
const stop = async () => {
  await sim.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
