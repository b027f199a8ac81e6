import { ApplicationFailure } from '@temporalio/common';
import { PERMANENT_FAILURES } from '../domain/errors.js';

/**
 * Image failures that no retry can fix, as Temporal ApplicationFailures with searchable types.
 * Transient failures (disk full, missing input file) are deliberately NOT wrapped: they stay plain
 * errors and Temporal retries them.
 */

/** The bytes are not a decodable image (truncated, garbage, HTML error page...). */
export class CorruptImageError extends ApplicationFailure {
  constructor(readonly reason: string) {
    super(`Corrupt image: ${reason}`, PERMANENT_FAILURES.corruptImage, true, [{ reason }]);
  }
}

/** A format we do not decode (SVG, PDF, HEIC...): refused before any decoder sees it. */
export class UnsupportedImageError extends ApplicationFailure {
  constructor(readonly format: string) {
    super(`Unsupported image format: ${format}`, PERMANENT_FAILURES.unsupportedImage, true, [{ format }]);
  }
}

/** More pixels (or frames) than the configured limit: a pixel bomb or simply too big to handle. */
export class ImageTooLargeError extends ApplicationFailure {
  constructor(readonly reason: string) {
    super(`Image too large: ${reason}`, PERMANENT_FAILURES.imageTooLarge, true, [{ reason }]);
  }
}
