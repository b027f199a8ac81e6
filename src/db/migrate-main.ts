import { config } from '../config.js';
import { ensurePostgres } from '../infra/postgres.js';
import { migrate } from './migrate.js';

const url = await ensurePostgres();
const applied = await migrate(url, config().database.schema);
console.log(applied.length ? `Applied ${applied.join(', ')}` : 'Database schema is up to date.');
