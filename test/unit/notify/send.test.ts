import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../../src/domain/notifications.js';
import { send } from '../../../src/notify/send.js';
import type { Sink } from '../../../src/notify/sinks.js';
import { startReceiver } from '../../helpers/receiver.js';

/**
 * What a Slack incoming webhook receives, over real HTTP. Slack reads `&`, `<` and `>` in `text` and in
 * mrkdwn text objects as control characters (Slack's "Formatting text for app surfaces": escape them as
 * &amp; &lt; &gt;); plain_text is not parsed.
 */
describe('Slack notifications', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver?.close());

  const sink = (): Sink => ({ name: 'ops-slack', type: 'slack', url: `${receiver.url}/slack` });
  const received = () => JSON.parse(receiver.received.at(-1)!.body.toString());

  it("shows an operator's error body as text: no mention, no link, and our own code formatting kept", async () => {
    const n: Notification = {
      event: 'paused',
      operatorId: 'alpine-trails',
      // A breaker pause quotes the operator's error body.
      message: 'listing failed: HTTP 503 <!channel> <https://x|log in> & more',
      dedupKey: 'import:alpine-trails/run/1:paused',
      pausedBy: 'breaker',
      workflowId: 'import:alpine-trails',
    };
    expect(await send(n, sink())).toEqual({ ok: true, status: 204 });
    expect(received()).toEqual({
      text:
        'tour-import: operator alpine-trails paused (by the breaker): listing failed: HTTP 503 ' +
        '&lt;!channel&gt; &lt;https://x|log in&gt; &amp; more',
      blocks: [
        {
          type: 'header',
          text: { type: 'plain_text', text: 'tour-import: operator alpine-trails paused (by the breaker)' },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: 'listing failed: HTTP 503 &lt;!channel&gt; &lt;https://x|log in&gt; &amp; more',
          },
        },
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: 'event `paused` · workflow `import:alpine-trails`' }],
        },
      ],
    });
  });

  it('keeps a long message within the section limit without cutting an entity in half', async () => {
    // 2,998 characters, then `&` (5 when escaped): the section's 3,000 would end in the middle of `&amp;`.
    const message = `${'x'.repeat(2998)}&<tail>`;
    const n: Notification = { event: 'import-failed', operatorId: 'city-tours', message, dedupKey: 'k' };
    expect(await send(n, sink())).toEqual({ ok: true, status: 204 });
    const body = received();
    expect(body.blocks[1].text.text).toBe('x'.repeat(2998));
    expect(body.text).toBe(
      `tour-import: operator city-tours import failed: ${'x'.repeat(2998)}&amp;&lt;tail&gt;`,
    );
  });
});
