/** Prints the `temporal` binary the project will use, building it first when there is none. */
import { resolveTemporalCli, temporalCliVersion } from './temporal-cli.js';

const cli = await resolveTemporalCli();
console.log(`${cli} (${(await temporalCliVersion(cli)).split('\n')[0]})`);
