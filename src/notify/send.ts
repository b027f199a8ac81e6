import { createHash } from 'node:crypto';
import { signWebhook } from '../domain/webhook-signature.js';
import type { Notification } from '../domain/notifications.js';
import type { Sink } from './sinks.js';

/** The HTTP side of notifications: one POST per sink, Slack's shape or signed JSON. */

const TIMEOUT_MS = 10_000;

export type SendResult = { ok: true; status: number } | { ok: false; status?: number; error: string };

/**
 * The Standard-Webhooks message id: the same for every attempt of one notification to one sink, so a
 * receiver can drop a duplicate should a response get lost after the notification arrived.
 */
export function messageId(n: Notification, sink: Sink): string {
  return `msg_${createHash('sha256').update(`${sink.name}\n${n.dedupKey}`).digest('hex').slice(0, 32)}`;
}

function title(n: Notification): string {
  const what: Record<Notification['event'], string> = {
    paused: `paused${n.pausedBy ? ` (${n.pausedBy === 'person' ? 'by a person' : `by the ${n.pausedBy.replace('-', ' ')}`})` : ''}`,
    resumed: 'resumed',
    'import-failed': 'import failed',
    'import-cancelled': 'import cancelled',
    'delta-mark-stale': 'delta mark is falling behind',
    'failing-runs': 'imports keep failing',
  };
  return `tour-import: operator ${n.operatorId} ${what[n.event]}`;
}

/**
 * Slack parses `&`, `<` and `>` in `text` and in mrkdwn text objects as control characters (`<!channel>`
 * pings everyone, `<url|label>` is a link): text that is not ours, such as an operator's error body in a
 * pause reason, goes there as the HTML entities Slack documents. plain_text is shown as it is.
 */
function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** At most `max` characters of escaped text, never cut inside an entity (`&am` would show as text). */
function clip(escaped: string, max: number): string {
  if (escaped.length <= max) return escaped;
  const cut = escaped.slice(0, max);
  const amp = cut.lastIndexOf('&');
  return amp >= 0 && !cut.includes(';', amp) ? cut.slice(0, amp) : cut;
}

/** Slack's limits: 150 characters in a header, 3,000 in a section's text. */
export function slackBody(n: Notification) {
  const code = (s: string) => `\`${slackEscape(s)}\``;
  const context = [`event ${code(n.event)}`, n.workflowId ? `workflow ${code(n.workflowId)}` : undefined];
  return {
    text: slackEscape(`${title(n)}: ${n.message}`),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title(n).slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(slackEscape(n.message), 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context.filter(Boolean).join(' · ') }] },
    ],
  };
}

export function webhookBody(n: Notification, at: Date) {
  return {
    type: `operator.${n.event}`,
    timestamp: at.toISOString(),
    data: {
      event: n.event,
      operatorId: n.operatorId,
      title: title(n),
      message: n.message,
      pausedBy: n.pausedBy ?? null,
      workflowId: n.workflowId ?? null,
    },
  };
}

export async function send(n: Notification, sink: Sink, now = new Date()): Promise<SendResult> {
  const body = JSON.stringify(sink.type === 'slack' ? slackBody(n) : webhookBody(n, now));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (sink.type === 'webhook' && sink.secret) {
    const id = messageId(n, sink);
    const timestamp = Math.floor(now.getTime() / 1000);
    headers['webhook-id'] = id;
    headers['webhook-timestamp'] = String(timestamp);
    headers['webhook-signature'] = signWebhook(sink.secret, id, timestamp, body);
  }
  try {
    const res = await fetch(sink.url, {
      method: 'POST',
      headers,
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.ok
      ? { ok: true, status: res.status }
      : { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    // Never the URL: a Slack webhook URL is a secret.
    const cause = (err as Error & { cause?: { code?: string } }).cause?.code;
    return { ok: false, error: `${(err as Error).name}${cause ? ` (${cause})` : ''}` };
  }
}
