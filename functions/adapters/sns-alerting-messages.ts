import type { Digest } from '../core/alerting/digest.ts';
import { digestText, episodeEndJson, episodeEndLine } from '../core/alerting/digest-text.ts';
import type { EpisodeEnd } from '../core/alerting/episodes.ts';
import { type AlertMessage, digestAttributes, perProtocol, text } from './sns-message.ts';

/**
 * The period's email digest (docs/alerting.md): `kind=digest`, which email subscriptions
 * take instead of the per-alert messages.
 */
export function periodDigestMessage(d: Digest): AlertMessage {
  const t = digestText(d);
  return {
    subject: t.subject,
    message: perProtocol(t.body, t.json, t.subject.slice(0, 140)),
    attributes: digestAttributes(d.counts.critical > 0 ? 'critical' : 'warning', d.counts.alerts),
  };
}

/**
 * A critical episode that ended: `kind=alert`, `event=resolved`, like a recovered silent
 * sensor, so the SMS subscribers who were paged hear that it is over.
 */
export function resolvedMessage(e: EpisodeEnd): AlertMessage {
  const line = episodeEndLine(e);
  const id = e.sensorId.replace(/[^\x20-\x7e]/g, '?');
  return {
    subject: `[resolved] Sensor back to normal: ${id.slice(0, 60)}`.slice(0, 99),
    message: perProtocol(
      `${line}\n\nEpisode: ${e.episodeId}`,
      JSON.stringify(episodeEndJson(e)),
      line.replace(/[^\x20-\x7e→]/g, '?').slice(0, 140),
    ),
    attributes: {
      kind: text('alert'),
      sensorId: text(e.sensorId),
      severity: text(e.peak),
      event: text('resolved'),
    },
  };
}
