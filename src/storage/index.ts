export { createLocalBlobStore, type BlobStore } from './blob-store.js';
export { createBlobStore } from './create.js';
export { OCTET_STREAM, variantContentType } from './content-type.js';
export { assertValidKey, originalKey, variantKey } from './keys.js';
export {
  createS3BlobStore,
  ensureBucket,
  VARIANT_CACHE_CONTROL,
  type S3BlobStoreOptions,
} from './s3-blob-store.js';
