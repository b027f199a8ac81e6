import type { BlobStoreConfig } from '../config.js';
import { createLocalBlobStore, type BlobStore } from './blob-store.js';
import { createS3BlobStore } from './s3-blob-store.js';

/**
 * The configured blob store (BLOB_STORE): the local folder, or an S3 bucket that stages its uploads in
 * the same folder's temp directory. Workers, the API and scripts build theirs here.
 */
export function createBlobStore(blobs: BlobStoreConfig, blobDir: string): BlobStore {
  if (blobs.kind === 'local') return createLocalBlobStore(blobDir);
  return createS3BlobStore({
    bucket: blobs.bucket,
    prefix: blobs.prefix,
    endpoint: blobs.endpoint,
    region: blobs.region,
    stagingDir: blobDir,
  });
}
