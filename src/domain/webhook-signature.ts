import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): `webhook-signature` holds one or more
 * space-separated `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` entries, so a sender can
 * rotate secrets by signing with both for a while. Pure code: the route maps failures to 401.
 */

const TOLERANCE_SECONDS = 5 * 60;
const SECRET_PREFIX = 'whsec_';
const HMAC_BYTES = 32;
/** More than a rotation needs; bounds the HMAC work an unauthenticated request can cause. */
const MAX_SIGNATURES = 8;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const TIMESTAMP = /^\d{1,12}$/;
const WEBHOOK_ID = /^[\x21-\x7e]{1,255}$/;

/** `whsec_<base64>` secrets carry their key bytes in base64 (as Standard Webhooks libraries do); others are used as UTF-8. */
export function webhookKey(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX)
    ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** Standard Webhooks' lower bound for a signing secret; a shorter key can be guessed, and then anyone signs. */
const MIN_KEY_BYTES = 24;
/** Padding optional, as the reference libraries decode it; Buffer would silently skip any other character. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/**
 * Why the secret held in `envName` must not sign or check webhooks, in one line that names the variable
 * (never the value); undefined when it may. The key is what webhookKey gives: decoded base64 after
 * `whsec_`, else the UTF-8 bytes. No upper bound, though the spec suggests at most 64 bytes: HMAC-SHA256
 * hashes a key longer than its 64-byte block, so a longer one is no weaker, and the reference libraries
 * accept any length.
 */
export function webhookSecretProblem(envName: string, secret: string): string | undefined {
  if (secret.startsWith(SECRET_PREFIX) && !STRICT_BASE64.test(secret.slice(SECRET_PREFIX.length)))
    return `${envName}: the part after whsec_ is not base64 (Standard Webhooks secrets are whsec_ and the base64 of the key)`;
  const bytes = webhookKey(secret).length;
  if (bytes < MIN_KEY_BYTES)
    return (
      `${envName} is too short: its key is ${bytes} bytes, at least ${MIN_KEY_BYTES} are needed ` +
      '(Standard Webhooks asks for 24 to 64 random bytes; for example whsec_ and the output of openssl rand -base64 32)'
    );
  return undefined;
}

export function signWebhook(secret: string, id: string, timestamp: number | string, body: Buffer | string) {
  const mac = createHmac('sha256', webhookKey(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

export interface WebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type Verification = { ok: true; id: string } | { ok: false; reason: string };

export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: Buffer,
  nowSeconds = Math.floor(Date.now() / 1000),
): Verification {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature)
    return fail('missing webhook-id, webhook-timestamp or webhook-signature header');
  if (!WEBHOOK_ID.test(id)) return fail('malformed webhook-id header');
  if (!TIMESTAMP.test(timestamp)) return fail('malformed webhook-timestamp header (unix seconds expected)');
  const age = nowSeconds - Number(timestamp);
  if (age > TOLERANCE_SECONDS) return fail('webhook-timestamp is too old');
  if (age < -TOLERANCE_SECONDS) return fail('webhook-timestamp is in the future');

  const candidates = signature.trim().split(/\s+/);
  if (candidates.length > MAX_SIGNATURES) return fail('too many signatures in webhook-signature');
  const expected = Buffer.from(signWebhook(secret, id, timestamp, body).slice(3), 'base64');
  let sawV1 = false;
  for (const candidate of candidates) {
    const [version, value] = splitOnce(candidate, ',');
    if (version !== 'v1') continue; // other schemes (v1a: asymmetric) are not configured here
    sawV1 = true;
    if (!value || !BASE64.test(value)) return fail('malformed signature in webhook-signature');
    const given = Buffer.from(value, 'base64');
    // timingSafeEqual needs equal lengths; a wrong length is simply not a match.
    if (given.length === HMAC_BYTES && timingSafeEqual(given, expected)) return { ok: true, id };
  }
  return fail(sawV1 ? 'no matching signature' : 'no v1 signature in webhook-signature');
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function fail(reason: string): Verification {
  return { ok: false, reason };
}
