import { type SilenceAlert, silenceJson, silenceLine } from '../core/silence.ts';
import { DIGEST_MAX_ALERTS, shortId } from './sns-digest-message.ts';
import {
  type AlertMessage,
  alertAttributes,
  digestAttributes,
  MESSAGE_KIND,
  perProtocol,
  text,
} from './sns-message.ts';

/**
 * The messages of silent and recovered sensors (docs/silence.md): one per sensor, and one
 * digest per check for email, as for anomalies.
 */

/** The attribute that tells a silence alert's event: `silent` or `recovered`. */
export const SILENCE_EVENT_ATTRIBUTE = 'event';

/** The SNS message of one silent or recovered sensor. */
export function silenceMessage(alert: SilenceAlert): AlertMessage {
  const json = JSON.stringify(silenceJson(alert));
  const line = silenceLine(alert);
  const id = alert.sensorId.replace(/[^\x20-\x7e]/g, '?');
  const body = [
    line,
    '',
    `Sensor:     ${JSON.stringify(alert.sensorId)}`,
    `Event:      ${alert.kind}`,
    `Severity:   ${alert.severity}`,
    `Last seen:  ${new Date(alert.lastSeenMs).toISOString()}`,
    `Limit:      ${alert.silenceSeconds} s without a reading (silenceSeconds)`,
    `Alert id:   ${alert.alertId}`,
  ].join('\n');
  const g = alert.group;
  const subject =
    g !== undefined
      ? alert.kind === 'silent'
        ? `[${alert.severity}] Group silent: ${id.slice(0, 50)} (all ${g.members} sensors)`
        : `[${alert.severity}] Group reporting again: ${id.slice(0, 50)} (${g.sensors} sensors)`
      : alert.kind === 'silent'
        ? `[${alert.severity}] Sensor silent: ${id.slice(0, 60)}`
        : `[${alert.severity}] Sensor reporting again: ${id.slice(0, 50)}`;
  return {
    subject: subject.slice(0, 99),
    message: perProtocol(body, json, line.replace(/[^\x20-\x7e→]/g, '?').slice(0, 140)),
    attributes: {
      ...alertAttributes({ ...alert, detector: 'silence' }),
      [SILENCE_EVENT_ATTRIBUTE]: text(alert.kind),
      ...(g === undefined ? {} : { group: text(alert.sensorId) }),
    },
  };
}

/** One email for a check's silence alerts, silent ones first; at most DIGEST_MAX_ALERTS listed. */
export function silenceDigestMessage(alerts: readonly SilenceAlert[]): AlertMessage {
  const ordered = [...alerts].sort((a, b) =>
    a.kind === b.kind ? 0 : a.kind === 'silent' ? -1 : 1,
  );
  const silent = alerts.filter((a) => a.kind === 'silent').length;
  const lines = ordered
    .slice(0, DIGEST_MAX_ALERTS)
    .map((a) => `${silenceLine({ ...a, sensorId: shortId(a.sensorId) })}  ${a.alertId}`);
  const more = alerts.length - lines.length;
  const top = silent > 0 ? 'critical' : 'warning';
  const subject = `[${top}] ${silent} sensors silent, ${alerts.length - silent} reporting again`;
  const body = [
    ...lines,
    ...(more > 0 ? ['', `... and ${more} more: the silence check's log group has every one.`] : []),
  ].join('\n');
  const json = JSON.stringify({
    kind: MESSAGE_KIND.digest,
    count: alerts.length,
    silent,
    alerts: ordered.slice(0, DIGEST_MAX_ALERTS).map(silenceJson),
  });
  return {
    subject,
    message: perProtocol(body, json, subject.slice(0, 140)),
    attributes: digestAttributes(top, alerts.length),
  };
}
