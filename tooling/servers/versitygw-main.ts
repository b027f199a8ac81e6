/** Prints the versitygw binary the tests' S3 server runs, building it first when there is none. */
import { resolveVersitygw } from './s3-server.js';

console.log(await resolveVersitygw());
