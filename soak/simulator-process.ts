/**
 * The operator simulator as a process of its own, the operators' side of the soak: SIM_PORT and
 * SIM_OPERATORS (JSON specs) from the environment; prints one JSON line with its URL and operators
 * (ids, base URLs, credentials) once it listens, and stops on SIGTERM.
 */
import { startSimulator } from '../tooling/simulator/server.js';

const sim = await startSimulator({
  host: '127.0.0.1',
  port: Number(process.env['SIM_PORT']),
  operators: JSON.parse(process.env['SIM_OPERATORS'] ?? '[]'),
  imageCacheDir: process.env['SIM_IMAGE_CACHE'],
});
console.log(JSON.stringify({ url: sim.url, operators: sim.operators() }));
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => void sim.close().then(() => process.exit(0)));
