/** A temp folder for a private PostgreSQL cluster a test starts itself (see openClusterFolder). */
export { openClusterFolder as clusterFolder } from '../../tooling/servers/private-postgres.js';
