import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Credentials } from './types.js';

/**
 * TourCMS-style request signing, used here only to verify requests. Adapters write their own
 * signer from the spec, so a shared bug cannot make both sides agree on a wrong signature.
 *
 *   Authorization: TourCMS <channel>:<marketplace>:<signature>
 *   Date: <RFC 1123 date whose unix time was signed>
 *   signature = base64(HMAC-SHA256(apiKey, `${channel}/${marketplace}/${VERB}/${unixtime}${pathWithQuery}`))
 */
const MAX_SKEW_SECONDS = 300;

export function tourCmsSignature(
  apiKey: string,
  channel: string,
  marketplace: string,
  verb: string,
  unixTime: number,
  pathWithQuery: string,
): string {
  return createHmac('sha256', apiKey)
    .update(`${channel}/${marketplace}/${verb.toUpperCase()}/${unixTime}${pathWithQuery}`, 'utf8')
    .digest('base64');
}

export type AuthOutcome = 'OK' | 'FAIL_AUTH' | 'FAIL_DATE';

/**
 * `paths` are the spellings of the signed path we accept: the dialect path (`/c/tours/list.xml`),
 * and the full request path including the operator's mount prefix.
 */
export function verifyTourCms(
  headers: { authorization?: string; date?: string },
  verb: string,
  paths: string[],
  creds: Required<Credentials>,
  nowMs = Date.now(),
): AuthOutcome {
  const dateMs = headers.date ? Date.parse(headers.date) : NaN;
  if (Number.isNaN(dateMs)) return 'FAIL_DATE';
  if (Math.abs(nowMs - dateMs) > MAX_SKEW_SECONDS * 1000) return 'FAIL_DATE';
  const m = /^TourCMS ([^:]+):([^:]+):(.+)$/.exec(headers.authorization ?? '');
  if (!m || m[1] !== creds.channelId || m[2] !== creds.marketplaceId) return 'FAIL_AUTH';
  let given: Buffer;
  try {
    // Real clients often URL-encode the signature; both spellings are accepted.
    given = Buffer.from(decodeURIComponent(m[3]), 'base64');
  } catch {
    return 'FAIL_AUTH';
  }
  const unix = Math.floor(dateMs / 1000);
  for (const p of paths) {
    const expected = Buffer.from(tourCmsSignature(creds.apiKey, m[1], m[2], verb, unix, p), 'base64');
    if (expected.length === given.length && timingSafeEqual(expected, given)) return 'OK';
  }
  return 'FAIL_AUTH';
}
