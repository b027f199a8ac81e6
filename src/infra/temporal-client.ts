import { Client, Connection } from '@temporalio/client';
import { config } from '../config.js';
import { assertTemporalReachable, temporalAddress } from './temporal.js';

/** A client for the configured server, failing with a how-to-start sentence when it is not there. */
export async function connectClient(address = temporalAddress()): Promise<Client> {
  await assertTemporalReachable(address);
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace: config().temporal.namespace });
}
