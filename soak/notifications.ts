import { startSignedReceiver } from '../scripts/demo-notifications.js';

/** One notification as the team's endpoint received it. */
export interface ReceivedNotification {
  /** The Standard-Webhooks message id: one per (sink, dedup key). */
  webhookId: string;
  receivedAt: number;
  event: string;
  operatorId: string;
  message: string;
  pausedBy: string | null;
  workflowId: string | null;
}

export interface NotificationReceiver {
  url: string;
  received: ReceivedNotification[];
  close(): Promise<void>;
}

/**
 * The operations team's webhook: verifies each notification's signature as a receiver would and keeps
 * what arrived, for the checker. A notification whose signature fails is answered 401 and not kept.
 */
export async function startNotificationReceiver(secret: string): Promise<NotificationReceiver> {
  const received: ReceivedNotification[] = [];
  const server = await startSignedReceiver(secret, '/notifications', ({ webhookId, body }) => {
    const data = body.data as Omit<ReceivedNotification, 'webhookId' | 'receivedAt'>;
    received.push({
      webhookId,
      receivedAt: Date.now(),
      event: data.event,
      operatorId: data.operatorId,
      message: data.message,
      pausedBy: data.pausedBy,
      workflowId: data.workflowId,
    });
  });
  return { ...server, received };
}
