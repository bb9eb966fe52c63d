import { anomalyLine, emailSubject } from '../core/alert-text.ts';
import type { AlertDecision } from '../core/types.ts';
import { groupLine, groupMessage } from './sns-group-message.ts';
import { type AlertMessage, digestAttributes, MESSAGE_KIND, perProtocol } from './sns-message.ts';

/**
 * The email digest of one published batch (`kind=digest`): email subscriptions get this one
 * message instead of one per alert, bounded whatever the batch holds.
 */

/** Alerts listed in a digest; the rest are counted (the log group has them all). */
export const DIGEST_MAX_ALERTS = 50;

const SEVERITY_ORDER: Readonly<Record<string, number>> = { critical: 0, warning: 1 };

/** Bytes of listed alerts in a digest: the whole message stays far below 256 KB. */
const DIGEST_BUDGET_BYTES = 32 * 1024;
const DIGEST_ID_CHARS = 64;

/** Sensor ids are free text: short and printable in a digest (the silence digest's too). */
export function shortId(sensorId: string): string {
  const ascii = sensorId.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > DIGEST_ID_CHARS ? `${ascii.slice(0, DIGEST_ID_CHARS - 3)}...` : ascii;
}

/**
 * One message for a published batch of alerts, most severe first: at most DIGEST_MAX_ALERTS
 * (and 32 KB of them) listed, the rest counted, so the message stays far below SNS's 256 KB
 * whatever the batch.
 */
export function digestMessage(alerts: readonly AlertDecision[]): AlertMessage {
  const ordered = [...alerts].sort(
    (a, b) => (SEVERITY_ORDER[a.anomaly.severity] ?? 2) - (SEVERITY_ORDER[b.anomaly.severity] ?? 2),
  );
  const lines: string[] = [];
  const items: Array<Record<string, unknown>> = [];
  let bytes = 0;
  for (const { anomaly, group } of ordered) {
    const id = shortId(anomaly.sensorId);
    // A group alert is listed as the group (docs/alerting-groups.md), not as its first sensor.
    const line =
      group === undefined
        ? `${anomalyLine({ ...anomaly, sensorId: id })}  ${anomaly.severity}  ${new Date(anomaly.eventTimeMs).toISOString()}  ${anomaly.alertId}`
        : `${groupLine(group)}  ${group.severity}  ${new Date(anomaly.eventTimeMs).toISOString()}`;
    const item = {
      alertId: anomaly.alertId,
      sensorId: id,
      severity: anomaly.severity,
      value: anomaly.value,
      mean: anomaly.mean,
      eventTime: new Date(anomaly.eventTimeMs).toISOString(),
    };
    const size = Buffer.byteLength(line) + Buffer.byteLength(JSON.stringify(item));
    if (lines.length === DIGEST_MAX_ALERTS || bytes + size > DIGEST_BUDGET_BYTES) break;
    lines.push(line);
    items.push(item);
    bytes += size;
  }
  const critical = alerts.filter((a) => a.anomaly.severity === 'critical').length;
  const top = ordered[0]?.anomaly.severity ?? 'warning';
  const sensors = [...new Set(ordered.map((a) => a.anomaly.sensorId))];
  const names = sensors
    .slice(0, 3)
    .map((s) => shortId(s).slice(0, 20))
    .join(', ');
  // Email subjects: printable ASCII, no line breaks, under 100 characters (API_Publish).
  const only = alerts.length === 1 ? ordered[0] : undefined;
  const subject =
    only?.group !== undefined
      ? groupMessage(only).subject
      : only !== undefined
        ? emailSubject(only.anomaly)
        : `[${top}] ${alerts.length} sensor anomalies on ${sensors.length} sensors: ${names}${sensors.length > 3 ? ', ...' : ''}`.slice(
            0,
            99,
          );
  const more = alerts.length - lines.length;
  const body = [
    `${alerts.length} ${alerts.length === 1 ? 'anomaly' : 'anomalies'} in one batch (${critical} critical, ${alerts.length - critical} warning), most severe first:`,
    '',
    ...lines,
    ...(more > 0
      ? [
          '',
          `... and ${more} more: the function's log group has every one (Logs Insights: filter message like /^ANOMALY/).`,
        ]
      : []),
    '',
    'Email receives this digest once per batch; SMS and machine subscribers get each alert.',
  ].join('\n');
  // Machine subscribers should filter on kind=alert; one that does not gets this summary.
  const json = JSON.stringify({
    kind: MESSAGE_KIND.digest,
    count: alerts.length,
    critical,
    alerts: items,
    ...(more > 0 ? { notListed: more } : {}),
  });
  return {
    subject,
    message: perProtocol(
      body,
      json,
      `${alerts.length} sensor anomalies (${critical} critical): ${names}`.slice(0, 140),
    ),
    attributes: digestAttributes(top, alerts.length),
  };
}
