import { toMessage } from '../../functions/adapters/sns-alert-publisher.ts';
import { groupMessage } from '../../functions/adapters/sns-group-message.ts';
import type { AlertDecision } from '../../functions/core/types.ts';
import type { PublishedMessage } from '../embedded/sns-endpoint.ts';

/** A notification as the subscribers would get it: what SNS received, or what was sent. */
export interface NotificationView {
  readonly subject: string;
  readonly sms: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageId?: string;
}

/** What the capture endpoint received, as a subscriber would read it. */
export function fromPublished(m: PublishedMessage): NotificationView {
  let sms = m.message;
  if (m.messageStructure === 'json') {
    try {
      const bodies = JSON.parse(m.message) as Record<string, string>;
      sms = bodies.sms ?? bodies.default ?? m.message;
    } catch {
      // The endpoint validated the JSON already; keep the raw text if not.
    }
  }
  return {
    subject: m.subject ?? '',
    sms,
    attributes: Object.fromEntries(
      Object.entries(m.messageAttributes).map(([k, v]) => [k, v.stringValue ?? '']),
    ),
    messageId: m.messageId,
  };
}

/** What the function sent to an external SNS (which cannot be asked what it got). */
export function fromDecision(decision: AlertDecision): NotificationView {
  // A notification that carries a group alert is sent as the group's message.
  const m = decision.group === undefined ? toMessage(decision) : groupMessage(decision);
  const bodies = JSON.parse(m.message) as Record<string, string>;
  return {
    subject: m.subject,
    sms: bodies.sms ?? '',
    attributes: Object.fromEntries(
      Object.entries(m.attributes).map(([k, v]) => [k, v.StringValue ?? '']),
    ),
  };
}
