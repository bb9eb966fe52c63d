import type { AlertDecision, GroupSummary } from '../core/types.ts';
import { type AlertMessage, numberAttribute, perProtocol, text } from './sns-message.ts';

/** The attribute that names a group alert's group; subscriptions may filter on it. */
export const GROUP_ATTRIBUTE = 'group';

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');

/** `GROUP site-a/line-1: 37 sensors alerting (more than 5 within 300 s): p1, p2, …` */
export function groupLine(g: GroupSummary): string {
  const more = g.sensors - g.listed.length;
  return `GROUP ${g.key}: ${g.inPeriod} sensors alerting (more than ${g.threshold} within ${g.periodSeconds} s): ${g.listed.join(', ')}${more > 0 ? `, and ${more} more` : ''}`;
}

/**
 * The SNS message of a group alert (docs/alerting-groups.md): one message for the group's
 * notifications of a batch, with the attributes of an alert (`kind=alert`, so SMS and machine
 * subscribers receive it) and `detector=group`, `group=<key>`. The sensor alerts it stands for
 * are in the log and the sinks, with the same event.
 */
export function groupMessage(decision: AlertDecision): AlertMessage {
  const g = decision.group as GroupSummary;
  const { anomaly } = decision;
  const json = JSON.stringify({
    type: 'group',
    alertId: `group~${anomaly.alertId}`,
    group: g.key,
    sensors: g.sensors,
    alerts: g.alerts,
    inPeriod: g.inPeriod,
    threshold: g.threshold,
    periodSeconds: g.periodSeconds,
    severity: g.severity,
    listed: g.listed,
    firstEventTime: new Date(anomaly.eventTimeMs).toISOString(),
  });
  const line = groupLine(g);
  const body = [
    line,
    '',
    `Group:      ${g.key}`,
    `Sensors:    ${g.sensors} in this batch, ${g.inPeriod} in the period (${g.alerts} alerts)`,
    `Severity:   ${g.severity} (the most severe of them)`,
    `First:      ${anomaly.sensorId} at ${new Date(anomaly.eventTimeMs).toISOString()}`,
    '',
    'Each sensor alert is in the log group and the sinks; this group sends no other',
    `notification until its period of ${g.periodSeconds} s is over.`,
  ].join('\n');
  return {
    // Email subjects: printable ASCII, under 100 characters (API_Publish).
    subject: printable(`[${g.severity}] ${g.inPeriod} sensors alerting in ${g.key}`).slice(0, 99),
    message: perProtocol(body, json, printable(line).slice(0, 140)),
    attributes: {
      kind: text('alert'),
      severity: text(g.severity),
      detector: text('group'),
      [GROUP_ATTRIBUTE]: text(g.key),
      count: numberAttribute(g.inPeriod),
    },
  };
}
