export { DEFAULT_DOWNLOAD_TIMEOUTS, downloadToBlobStore } from './download.js';
export type { DownloadOptions, DownloadResult, DownloadTimeouts } from './download.js';
export {
  DownloadHttpError,
  DownloadTooLargeError,
  UnsafeUrlError,
  UnsupportedContentError,
  redactUrl,
} from './errors.js';
export {
  assertSafeUrl,
  createSafeLookup,
  isAddressAllowed,
  parseAllowlist,
  type Allowlist,
} from './safe-url.js';
