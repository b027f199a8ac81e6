/**
 * The operator simulator as a process of its own (the hosts test runs it on the core host):
 * SIM_HOST, SIM_PORT and SIM_OPERATORS (JSON specs) from the environment; prints one JSON line with
 * its operators (ids, base URLs, credentials) once it listens.
 */
import { startSimulator } from '../../tooling/simulator/server.js';

const sim = await startSimulator({
  host: process.env['SIM_HOST'],
  port: Number(process.env['SIM_PORT']),
  operators: JSON.parse(process.env['SIM_OPERATORS'] ?? '[]'),
});
console.log(JSON.stringify({ url: sim.url, operators: sim.operators() }));
process.once('SIGTERM', () => void sim.close().then(() => process.exit(0)));
