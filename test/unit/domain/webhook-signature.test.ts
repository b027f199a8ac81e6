import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, webhookKey } from '../../../src/domain/webhook-signature.js';
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
