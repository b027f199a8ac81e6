import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { NOTIFICATION_EVENTS, type NotificationEvent } from '../domain/notifications.js';
import { webhookSecretProblem } from '../domain/webhook-signature.js';
import { OperatorConfigError } from '../operators/errors.js';
import { envName } from '../operators/registry.js';

/**
 * Where notifications go: the operators file's `notifications.sinks`, plus one sink per kind set in the
 * environment (NOTIFY_SLACK_WEBHOOK_URL; NOTIFY_WEBHOOK_URL with NOTIFY_WEBHOOK_SECRET). Secrets (a
 * Slack webhook URL is one) are named by environment variable in the file, like operator API keys.
 */

const events = z.array(z.enum(NOTIFICATION_EVENTS)).min(1).optional();
const filters = {
  name: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/)
    .optional(),
  events,
  operators: z.array(z.string()).optional(),
};
const SinkSchema = z.discriminatedUnion('type', [
  /** Slack-compatible incoming webhook: `text` plus `blocks`. */
  z.strictObject({ type: z.literal('slack'), urlEnv: envName, ...filters }),
  /** Generic JSON, signed Standard-Webhooks style with the secret in `secretEnv`. */
  z.strictObject({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }),
    secretEnv: envName,
    ...filters,
  }),
]);
const NotificationsSchema = z.strictObject({ sinks: z.array(SinkSchema).default([]) }).prefault({});

export interface Sink {
  /** Names the sink in the deliveries table; unique. */
  name: string;
  type: 'slack' | 'webhook';
  url: string;
  secret?: string;
  /** Only these events (all when unset). */
  events?: NotificationEvent[];
  /** Only these operators (all when unset). */
  operators?: string[];
}

export interface NotifyEnv {
  slackWebhookUrl?: string;
  webhookUrl?: string;
  webhookSecret?: string;
}

/** Pure: the sinks of an operators file's text and the environment. Errors name the file and field. */
export function parseSinks(
  text: string,
  file: string,
  secret: (envName: string) => string | undefined,
  env: NotifyEnv = {},
): Sink[] {
  const doc = (parseYaml(text) ?? {}) as { notifications?: unknown };
  const parsed = NotificationsSchema.safeParse(doc.notifications);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `field "notifications.${i.path.join('.')}": ${i.message}`,
    );
    throw new OperatorConfigError(`${file}: ${problems.join('; ')}`);
  }
  const sinks: Sink[] = parsed.data.sinks.map((s, i) => {
    const name = s.name ?? `${s.type}-${i + 1}`;
    const need = (envVar: string) => {
      const value = secret(envVar);
      if (!value) throw new OperatorConfigError(`${file}: notification sink "${name}": ${envVar} is not set`);
      return value;
    };
    const { events, operators } = s;
    return s.type === 'slack'
      ? { name, type: s.type, url: need(s.urlEnv), events, operators }
      : {
          name,
          type: s.type,
          url: s.url,
          secret: signingSecret(`${file}: notification sink "${name}"`, s.secretEnv, need(s.secretEnv)),
          events,
          operators,
        };
  });
  if (env.slackWebhookUrl) sinks.push({ name: 'env-slack', type: 'slack', url: env.slackWebhookUrl });
  if (env.webhookUrl) {
    // config.ts refuses NOTIFY_WEBHOOK_URL without NOTIFY_WEBHOOK_SECRET; an empty one is just as weak.
    const value = signingSecret(
      'notification sink "env-webhook"',
      'NOTIFY_WEBHOOK_SECRET',
      env.webhookSecret ?? '',
    );
    sinks.push({ name: 'env-webhook', type: 'webhook', url: env.webhookUrl, secret: value });
  }
  const names = sinks.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new OperatorConfigError(`${file}: two notification sinks are named "${twice}"`);
  return sinks;
}

/** A secret anyone could sign with would make the receiver trust forged notifications: refused at load. */
function signingSecret(where: string, envVar: string, value: string): string {
  const problem = webhookSecretProblem(envVar, value);
  if (problem) throw new OperatorConfigError(`${where}: ${problem}`);
  return value;
}

export async function loadSinks(
  file: string,
  secret: (envName: string) => string | undefined,
  env?: NotifyEnv,
): Promise<Sink[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new OperatorConfigError(`cannot read operators file ${file}: ${(err as Error).message}`);
  }
  return parseSinks(text, file, secret, env);
}

/** Whether the sink wants this operator's event. */
export function sinkWants(sink: Sink, event: NotificationEvent, operatorId: string): boolean {
  return (
    (!sink.events || sink.events.includes(event)) && (!sink.operators || sink.operators.includes(operatorId))
  );
}
