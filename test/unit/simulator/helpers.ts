import { startSimulator, type Simulator } from '../../../tooling/simulator/server.js';
import type { OperatorSpecInput } from '../../../tooling/simulator/types.js';

export const A_HEADERS = (apiKey: string) => ({
  'exp-api-key': apiKey,
  accept: 'application/json;version=2.0',
});

/** Starts a simulator on a free port with the given operators; call close() in afterAll/afterEach. */
export function simulator(operators: OperatorSpecInput[]): Promise<Simulator> {
  return startSimulator({ port: 0, operators });
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
