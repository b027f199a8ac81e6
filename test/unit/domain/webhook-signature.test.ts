import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  signWebhook,
  verifyWebhook,
  webhookKey,
  webhookSecretProblem,
} from '../../../src/domain/webhook-signature.js';
import { esc, html } from '../../../src/api/catalog/html.js';

const NOW = 1_790_000_000;
const body = Buffer.from('{"externalId":"T-1"}');

describe('Standard Webhooks signature verification', () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const headers = (o: Partial<{ id: string; timestamp: string; signature: string }> = {}) => {
    const id = o.id ?? 'msg_1';
    const timestamp = o.timestamp ?? String(NOW);
    return { id, timestamp, signature: o.signature ?? signWebhook(secret, id, timestamp, body) };
  };

  it('matches the reference construction: base64 HMAC-SHA256 over "id.timestamp.body" with the decoded key', () => {
    const key = randomBytes(32);
    const expected = createHmac('sha256', key).update(`msg_1.${NOW}.${body}`).digest('base64');
    expect(signWebhook(`whsec_${key.toString('base64')}`, 'msg_1', NOW, body)).toBe(`v1,${expected}`);
    expect(webhookKey('plain-secret')).toEqual(Buffer.from('plain-secret'));
  });

  it('accepts a valid signature, also among several (secret rotation)', () => {
    expect(verifyWebhook(secret, headers(), body, NOW)).toEqual({ ok: true, id: 'msg_1' });
    const rotated = `v1,${randomBytes(32).toString('base64')} ${headers().signature}`;
    expect(verifyWebhook(secret, headers({ signature: rotated }), body, NOW).ok).toBe(true);
  });

  it.each([
    ['missing header', { signature: '' }, /missing/],
    ['malformed base64', { signature: 'v1,@@@' }, /malformed signature/],
    ['wrong length', { signature: `v1,${randomBytes(20).toString('base64')}` }, /no matching/],
    ['wrong value', { signature: `v1,${randomBytes(32).toString('base64')}` }, /no matching/],
    ['other scheme only', { signature: 'v1a,abcd' }, /no v1 signature/],
    ['stale', { timestamp: String(NOW - 301) }, /too old/],
    ['future', { timestamp: String(NOW + 301) }, /future/],
    ['non-numeric timestamp', { timestamp: '1e9' }, /malformed webhook-timestamp/],
    ['id with spaces', { id: 'a b' }, /malformed webhook-id/],
  ])('rejects %s', (_n, o, reason) => {
    const h = { ...headers(), ...o };
    const r = verifyWebhook(secret, h, body, NOW);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });

  it('rejects a body changed after signing, and accepts the edges of the 5-minute window', () => {
    expect(verifyWebhook(secret, headers(), Buffer.from('{"externalId":"T-2"}'), NOW).ok).toBe(false);
    for (const t of [NOW - 300, NOW + 300])
      expect(verifyWebhook(secret, headers({ timestamp: String(t) }), body, NOW).ok).toBe(true);
  });
});

describe('webhook secret strength (Standard Webhooks: 24 to 64 random bytes)', () => {
  const whsec = (bytes: number) => `whsec_${randomBytes(bytes).toString('base64')}`;

  it.each([
    ['whsec_ and 24 bytes', whsec(24)],
    ['whsec_ and 64 bytes', whsec(64)],
    ['whsec_ and more than 64 bytes (HMAC hashes a longer key; the reference libraries take it)', whsec(100)],
    ['whsec_ and unpadded base64', whsec(25).replace(/=+$/, '')],
    ['24 plain ASCII characters', 'x'.repeat(24)],
    ['12 characters that are 24 bytes of UTF-8', 'ü'.repeat(12)],
  ])('accepts %s', (_, secret) => {
    expect(webhookSecretProblem('HOOK_SECRET', secret)).toBeUndefined();
  });

  it.each([
    ['whsec_ alone', 'whsec_', /^HOOK_SECRET is too short: its key is 0 bytes, at least 24 are needed/],
    ['whsec_ and 23 bytes', whsec(23), /its key is 23 bytes/],
    ['23 plain characters', 'x'.repeat(23), /its key is 23 bytes/],
    ['whsec_ and base64url', `whsec_${'-_'.repeat(20)}`, /^HOOK_SECRET: the part after whsec_ is not base64/],
    ['whsec_ and text', 'whsec_ this is not a key at all!', /not base64/],
  ])('refuses %s, naming the variable', (_, secret, reason) => {
    expect(webhookSecretProblem('HOOK_SECRET', secret)).toMatch(reason);
  });

  it('never shows the value it refuses', () => {
    for (const secret of ['local-secret', 'whsec_bG9jYWwtc2VjcmV0', 'whsec_local secret'])
      expect(webhookSecretProblem('HOOK_SECRET', secret)).not.toMatch(/local|bG9jYWwt/);
  });
});

describe('HTML escaping of the catalog page', () => {
  it('escapes markup and quotes, keeps non-ASCII text as is', () => {
    expect(esc(`<script>alert("x")</script> & 'Zürich' 祇園 ⛩️`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Zürich&#39; 祇園 ⛩️',
    );
    const title = '"><img src=x onerror=alert(1)>';
    expect(html`<a title="${title}">${[html`<b>${title}</b>`]}</a>`.text).toBe(
      '<a title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"><b>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</b></a>',
    );
  });
});
