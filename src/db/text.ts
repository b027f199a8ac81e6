import { wellFormed } from '../domain/text.js';

/**
 * PostgreSQL text and jsonb cannot hold NUL (U+0000), and jsonb refuses a lone surrogate; operators'
 * error bodies sometimes carry them, and a message that cannot be written would make its bookkeeping
 * activity fail on every retry. Unlike tour content (domain/text.ts drops NUL), a message keeps a
 * visible `\u0000` so whoever reads it sees what the operator sent.
 */
export function storableText(s: string): string {
  return wellFormed(s.includes('\u0000') ? s.replaceAll('\u0000', '\\u0000') : s);
}
