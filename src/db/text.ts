/**
 * PostgreSQL text and jsonb cannot hold NUL (U+0000); operators' error bodies sometimes do, and a
 * message that cannot be written would make its bookkeeping activity retry forever.
 */
export function storableText(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\\u0000') : s;
}
