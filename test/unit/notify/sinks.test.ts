import { describe, expect, it } from 'vitest';
import { OperatorConfigError } from '../../../src/operators/errors.js';
import { messageId, slackBody, webhookBody } from '../../../src/notify/send.js';
import { parseSinks, sinkWants } from '../../../src/notify/sinks.js';

const FILE = `
notifications:
  sinks:
    - type: slack
      name: ops-slack
      urlEnv: SLACK_URL
      events: [paused, resumed]
    - type: webhook
      url: https://ops.example.com/hooks/tour-import
      secretEnv: NOTIFY_SECRET
      operators: [alpine-trails]
operators: []
`;
/** Standard Webhooks' shortest key: 24 bytes. */
const KEY_24 = 'whsec_' + Buffer.from('notify-sinks-test-key-24').toString('base64');
const PLAIN_24 = 'plain-secret-of-24-bytes';
const secrets: Record<string, string> = {
  SLACK_URL: 'https://hooks.slack.example/T0/B0/x',
  NOTIFY_SECRET: KEY_24,
};
const secret = (name: string): string | undefined => secrets[name];

describe('notification sinks', () => {
  it('reads sinks from the operators file (secrets by variable name) and the environment, with their filters', () => {
    const sinks = parseSinks(FILE, 'ops.yaml', secret, {
      webhookUrl: 'https://x.example/n',
      webhookSecret: PLAIN_24,
    });
    expect(sinks).toEqual([
      {
        name: 'ops-slack',
        type: 'slack',
        url: secrets.SLACK_URL,
        events: ['paused', 'resumed'],
        operators: undefined,
      },
      {
        name: 'webhook-2',
        type: 'webhook',
        url: 'https://ops.example.com/hooks/tour-import',
        secret: KEY_24,
        events: undefined,
        operators: ['alpine-trails'],
      },
      { name: 'env-webhook', type: 'webhook', url: 'https://x.example/n', secret: PLAIN_24 },
    ]);
    expect(sinkWants(sinks[0], 'paused', 'any')).toBe(true);
    expect(sinkWants(sinks[0], 'import-failed', 'any')).toBe(false);
    expect(sinkWants(sinks[1], 'import-failed', 'alpine-trails')).toBe(true);
    expect(sinkWants(sinks[1], 'import-failed', 'city-tours')).toBe(false);
  });

  it('names the file and the field of a bad sink, and a secret that is not set', () => {
    const bad = (text: string, s = secret) => {
      try {
        parseSinks(text, 'ops.yaml', s);
      } catch (err) {
        expect(err).toBeInstanceOf(OperatorConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad(FILE.replace('[paused, resumed]', '[paused, exploded]'))).toMatch(
      /^ops\.yaml: field "notifications\.sinks\.0\.events\.1"/,
    );
    expect(bad(FILE, () => undefined)).toBe('ops.yaml: notification sink "ops-slack": SLACK_URL is not set');
    expect(parseSinks('operators: []\n', 'ops.yaml', secret)).toEqual([]);
  });

  it.each([
    ['whsec_ alone (an empty key)', 'whsec_', /NOTIFY_SECRET is too short: its key is 0 bytes, at least 24/],
    ['a 23-byte key', 'whsec_' + Buffer.alloc(23, 7).toString('base64'), /its key is 23 bytes/],
    ['a 23-byte plain secret (its UTF-8 bytes are the key)', 'é'.repeat(11) + 'x', /its key is 23 bytes/],
    ['whsec_ and no base64', `whsec_${'!'.repeat(40)}`, /NOTIFY_SECRET: the part after whsec_ is not base64/],
  ])('refuses a webhook sink whose secret is %s, naming the sink and the variable', (_, value, reason) => {
    const load = () => parseSinks(FILE, 'ops.yaml', (n) => (n === 'NOTIFY_SECRET' ? value : secrets[n]));
    expect(load).toThrow(OperatorConfigError);
    expect(load).toThrow(/^ops\.yaml: notification sink "webhook-2": /);
    expect(load).toThrow(reason);
  });

  it('refuses a too short NOTIFY_WEBHOOK_SECRET, and takes 24 bytes or more (longer than 64 too)', () => {
    const env = (webhookSecret: string) => ({ webhookUrl: 'https://x.example/n', webhookSecret });
    const only = (webhookSecret: string) =>
      parseSinks('operators: []\n', 'ops.yaml', secret, env(webhookSecret));
    expect(() => only('s'.repeat(23))).toThrow(
      /^notification sink "env-webhook": NOTIFY_WEBHOOK_SECRET is too short: its key is 23 bytes/,
    );
    expect(only(PLAIN_24)).toHaveLength(1);
    expect(only(KEY_24)).toHaveLength(1);
    expect(only('whsec_' + Buffer.alloc(100, 1).toString('base64'))).toHaveLength(1);
    // The message names the variable, never its value.
    const refusal = (() => {
      try {
        only('whsec_c2VjcmV0');
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(refusal).toMatch(/NOTIFY_WEBHOOK_SECRET is too short: its key is 6 bytes/);
    expect(refusal).not.toContain('c2VjcmV0');
  });

  it('formats Slack text and blocks, and JSON whose message id is the same at every attempt', () => {
    const n = {
      event: 'paused' as const,
      operatorId: 'alpine-trails',
      message: 'circuit breaker: 5 tours failed in a row',
      dedupKey: 'import:alpine-trails/run/1:paused',
      pausedBy: 'breaker' as const,
      workflowId: 'import:alpine-trails',
    };
    expect(slackBody(n)).toMatchObject({
      text: 'tour-import: operator alpine-trails paused (by the breaker): circuit breaker: 5 tours failed in a row',
      blocks: [{ type: 'header' }, { type: 'section' }, { type: 'context' }],
    });
    const sink = { name: 'ops', type: 'webhook' as const, url: 'https://x', secret: KEY_24 };
    const id = messageId(n, sink);
    expect(id).toBe(messageId({ ...n }, sink)); // every attempt of one notification carries one id
    const body = JSON.stringify(webhookBody(n, new Date()));
    expect(JSON.parse(body)).toMatchObject({
      type: 'operator.paused',
      data: { operatorId: 'alpine-trails', pausedBy: 'breaker' },
    });
  });
});
