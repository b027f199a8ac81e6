import { Client, Connection } from '@temporalio/client';
import { config } from '../config.js';
import { tracingClientInterceptors } from '../telemetry/tracing.js';
import { assertTemporalReachable } from './temporal-reachable.js';
import { temporalConnectionOptions } from './temporal-connection.js';

/**
 * A client for the configured server (TEMPORAL_ADDRESS unless given another address, with the TLS and
 * API key settings), failing with a how-to-start sentence when it is not there.
 */
export async function connectClient(address?: string): Promise<Client> {
  const options = await assertTemporalReachable(temporalConnectionOptions(address));
  const connection = await Connection.connect(options);
  return new Client({
    connection,
    namespace: config().temporal.namespace,
    interceptors: tracingClientInterceptors(),
  });
}
