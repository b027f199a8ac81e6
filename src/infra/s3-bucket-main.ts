/**
 * Creates the configured bucket when BLOB_STORE=s3 and it is missing, waiting up to a minute for the
 * server (a one-shot before the workers, e.g. beside an S3-compatible server in docker compose).
 * Credentials come from the AWS SDK's default chain.
 */
import { config } from '../config.js';
import { ensureBucket } from '../storage/index.js';

const { blobs } = config();
if (blobs.kind !== 's3') {
  console.log('BLOB_STORE is local: no bucket to create.');
} else {
  await ensureBucket({
    endpoint: blobs.endpoint,
    region: blobs.region,
    bucket: blobs.bucket,
    waitMs: 60_000,
  });
  console.log(`Bucket ${blobs.bucket} is ready${blobs.endpoint ? ` at ${blobs.endpoint}` : ''}.`);
}
