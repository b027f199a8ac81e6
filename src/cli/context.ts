import type { Client } from '@temporalio/client';
import { config } from '../config.js';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { ensurePostgres } from '../infra/postgres.js';
import { connectClient } from '../infra/temporal-client.js';
import { OperatorConfigError } from '../operators/errors.js';
import { loadSinks, type Sink } from '../notify/sinks.js';
import { loadOperatorsFile, type OperatorConfig } from '../operators/registry.js';
import { CliError, EXIT } from './errors.js';

/**
 * The real dependencies of one CLI invocation, built lazily so `operators list` never needs Temporal
 * and `schedules list` never needs PostgreSQL. Each failure becomes a one-sentence CliError with its
 * own exit code.
 */
export class CliContext {
  private poolP?: Promise<Pool>;
  private clientP?: Promise<Client>;

  constructor(private readonly log: (line: string) => void = (l) => console.error(l)) {}

  pool(): Promise<Pool> {
    return (this.poolP ??= this.openPool());
  }

  client(): Promise<Client> {
    return (this.clientP ??= connectClient().catch((err: Error) => {
      throw new CliError(err.message, EXIT.temporalUnreachable);
    }));
  }

  /** The client, or the reason there is none: read commands still show what PostgreSQL knows. */
  async clientOrReason(): Promise<Client | string> {
    try {
      return await this.client();
    } catch (err) {
      return (err as Error).message;
    }
  }

  async configs(): Promise<OperatorConfig[]> {
    try {
      return await loadOperatorsFile(config().operatorsFile);
    } catch (err) {
      if (err instanceof OperatorConfigError) throw new CliError(err.message, EXIT.config);
      throw err;
    }
  }

  /** Notification sinks, for what the CLI tells the team itself (a pause with no import running). */
  async sinks(): Promise<Sink[]> {
    try {
      return await loadSinks(config().operatorsFile, config().secret, config().notify());
    } catch (err) {
      if (err instanceof OperatorConfigError) throw new CliError(err.message, EXIT.config);
      throw err;
    }
  }

  async close(): Promise<void> {
    const [pool, client] = await Promise.allSettled([this.poolP, this.clientP]);
    if (pool.status === 'fulfilled') await pool.value?.end();
    if (client.status === 'fulfilled') await client.value?.connection.close();
  }

  private async openPool(): Promise<Pool> {
    const { schema } = config().database;
    let url: string;
    try {
      url = await ensurePostgres(this.log);
    } catch (err) {
      throw new CliError((err as Error).message, EXIT.databaseUnreachable);
    }
    // Idempotent and cheap when up to date; lets every command work on a fresh database.
    await migrate(url, schema);
    return createPool(url, schema, 2);
  }
}
