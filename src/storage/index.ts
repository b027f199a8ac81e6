export { createLocalBlobStore, sweepLocalTemp, type BlobStore, type PutResult } from './blob-store.js';
export { assertValidKey, originalKey, variantKey } from './keys.js';
