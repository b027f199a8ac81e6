export {
  createLocalBlobStore,
  sweepLocalTemp,
  tempPathUnder,
  type BlobStore,
  type ListOptions,
  type PutResult,
} from './blob-store.js';
export { createBlobStore } from './create.js';
export { OCTET_STREAM, sniffImageType, VARIANT_TYPES, variantContentType } from './content-type.js';
export { assertValidKey, originalKey, sourceHashOfKey, variantKey } from './keys.js';
export {
  createS3BlobStore,
  createS3Client,
  ensureBucket,
  VARIANT_CACHE_CONTROL,
  type S3BlobStoreOptions,
} from './s3-blob-store.js';
