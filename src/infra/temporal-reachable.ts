import { Connection, type ConnectionOptions } from '@temporalio/client';
import { config } from '../config.js';
import {
  describeConnection,
  temporalConnectionOptions,
  type TemporalConnectionOptions,
} from './temporal-connection.js';

/** True when a Temporal frontend answers at the address (connecting with TLS and API key when given). */
export async function isTemporalUp(
  target: string | Omit<ConnectionOptions, 'connectTimeout'>,
  timeoutMs = 3_000,
): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    const options = typeof target === 'string' ? { address: target } : target;
    connection = await Connection.connect({ ...options, connectTimeout: timeoutMs });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}

/** Fails with a sentence that says how to get a server, instead of a gRPC stack trace. */
export async function assertTemporalReachable(
  options: TemporalConnectionOptions = temporalConnectionOptions(),
): Promise<TemporalConnectionOptions> {
  if (await isTemporalUp(options)) return options;
  const where = describeConnection(options);
  throw new Error(
    config().env === 'production'
      ? `Temporal is not reachable at ${where}. Check TEMPORAL_ADDRESS and the TEMPORAL_TLS_* and TEMPORAL_API_KEY settings.`
      : `Temporal is not reachable at ${where}. Start a dev server with \`npm run temporal\` (or ` +
          '`docker compose up temporal`), or set TEMPORAL_ADDRESS to a running server.',
  );
}
