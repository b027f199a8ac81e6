/**
 * Prints the Temporal server, its SQL tool and the Web UI server that `npm run temporal:server` and the
 * server test tier run, building each once into the user cache when missing (minutes, needs Go).
 */
import { resolveTemporalServer, resolveTemporalSqlTool } from './temporal-server.js';
import { resolveTemporalUi } from './temporal-ui.js';

console.log(await resolveTemporalServer());
console.log(await resolveTemporalSqlTool());
console.log(await resolveTemporalUi());
