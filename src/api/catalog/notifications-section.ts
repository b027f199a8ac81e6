import type { DeliveryRow } from '../../db/notifications.js';
import { html, when, type Html } from './html.js';

/** The last notifications sent (or given up on) to the configured sinks, newest first. */
export function notificationsSection(rows: DeliveryRow[]): Html {
  const body = rows.length
    ? rows.map(
        (d) =>
          html`<tr data-notification="${d.event}">
            <td>${when(d.updatedAt)}</td>
            <td>${d.operatorId}</td>
            <td>${d.event}</td>
            <td>${d.sink}</td>
            <td>
              <span
                class="badge ${d.status === 'delivered' ? 'idle' : d.status === 'failed' ? 'failed' : 'paused'}"
                >${d.status}</span
              >
              <div class="muted">${d.attempts} attempts${d.lastError ? html` · ${d.lastError}` : ''}</div>
            </td>
            <td class="muted">${d.message}</td>
          </tr>`,
      )
    : html`<tr>
        <td colspan="6" class="muted">No notifications yet.</td>
      </tr>`;
  return html`<h2>Notifications</h2>
    <table class="notifications">
      <thead>
        <tr>
          <th>When</th>
          <th>Operator</th>
          <th>Event</th>
          <th>Sink</th>
          <th>Delivery</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        ${body}
      </tbody>
    </table>`;
}
