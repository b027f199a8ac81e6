export { CorruptImageError, ImageTooLargeError, UnsupportedImageError } from './errors.js';
export { allVariantsExist, blobStoreSink, configureSharp, createImageProcessor } from './resize.js';
export type {
  ImageProcessor,
  ImageProcessorOptions,
  MakeVariantsInput,
  OutputFormat,
  SharpSettings,
  SourceFormat,
  Variant,
  VariantSink,
  VariantSpec,
  VariantsResult,
} from './resize.js';
