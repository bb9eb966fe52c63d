import {
  type MessageAttributeValue,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { anomalyJson, anomalyLine, emailBody, emailSubject, smsText } from '../core/alert-text.ts';
import type { Digest } from '../core/alerting/digest.ts';
import type { EpisodeEnd } from '../core/alerting/episodes.ts';
import { type SilenceAlert, silenceJson, silenceLine } from '../core/silence.ts';
import type { AlertDecision } from '../core/types.ts';
import type { AlertPublisher } from '../ports.ts';
import type { SilencePublisher } from '../silence/ports.ts';
import { forEachWithLimit } from './concurrency.ts';
import { periodDigestMessage, resolvedMessage } from './sns-alerting-messages.ts';
import { groupLine, groupMessage } from './sns-group-message.ts';

export class AlertPublishError extends Error {
  override readonly name = 'AlertPublishError';
}

export interface SnsAlertPublisherOptions {
  readonly client: SNSClient;
  readonly topicArn: string;
  /** Parallel PublishBatch calls. @default 4 */
  readonly concurrency?: number;
  /** Also send one `digest` per publish call (for email subscribers). @default true */
  readonly digest?: boolean;
}

/**
 * The `kind` message attribute, which subscription filter policies select on: `alert` is one
 * anomaly of one sensor (SMS, SQS, Lambda, HTTPS), `digest` is one message per published batch
 * listing its alerts (email). SNS deactivates an email subscription that receives more than 10
 * messages a second (AWS re:Post knowledge center, "sns-email-subscription-disabled",
 * https://repost.aws/knowledge-center/sns-email-subscription-disabled); a plant-wide event
 * raises one alert per sensor, so email must not get them one by one.
 */
export const MESSAGE_KIND = { alert: 'alert', digest: 'digest' } as const;
export const KIND_ATTRIBUTE = 'kind';

/**
 * "Publishes up to 10 messages to the specified topic in a single batch" and "The maximum
 * allowed individual message size and the maximum total payload size (the sum of the
 * individual lengths of all of the batched messages) are both 256 KB (262,144 bytes)."
 * (Amazon SNS API reference, PublishBatch,
 * https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html)
 */
export const PUBLISH_BATCH_MAX_ENTRIES = 10;
export const PUBLISH_BATCH_MAX_BYTES = 262_144;

/** Alerts listed in a digest; the rest are counted (the log group has them all). */
export const DIGEST_MAX_ALERTS = 50;

/**
 * Sends each notification once to the alert topic as a per-sensor `alert` (one text per
 * protocol, MessageStructure=json: a short SMS, a readable email, the anomaly as JSON for
 * machine subscribers), plus one `digest` for the whole call, which email subscriptions
 * receive instead. Message attributes (`kind`, `severity`, `sensorId`, `detector`) let
 * subscriptions filter.
 */
export class SnsAlertPublisher implements AlertPublisher, SilencePublisher {
  private readonly client: SNSClient;
  private readonly topicArn: string;
  private readonly concurrency: number;
  private readonly digest: boolean;

  constructor(options: SnsAlertPublisherOptions) {
    this.client = options.client;
    this.topicArn = options.topicArn;
    this.concurrency = options.concurrency ?? 4;
    this.digest = options.digest ?? true;
  }

  async publish(alerts: readonly AlertDecision[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.publishEntries([
      // Entry ids allow only [A-Za-z0-9_-]; topic names may hold dots, so ids are positions.
      ...alerts.map((alert, i) =>
        entry(`a${i}`, alert.group === undefined ? toMessage(alert) : groupMessage(alert)),
      ),
      ...(this.digest ? [entry('digest', digestMessage(alerts))] : []),
    ]);
  }

  /** Critical episodes that ended: one `alert` each, `event=resolved` (docs/alerting.md). */
  async publishResolved(ends: readonly EpisodeEnd[]): Promise<void> {
    if (ends.length === 0) return;
    await this.publishEntries(ends.map((e, i) => entry(`r${i}`, resolvedMessage(e))));
  }

  /** The period's one email digest (docs/alerting.md), sent by the digest function. */
  async publishDigest(digest: Digest): Promise<void> {
    await this.publishEntries([entry('digest', periodDigestMessage(digest))]);
  }

  /**
   * Silent and recovered sensors (docs/silence.md): one `alert` each (attributes `kind=alert`,
   * `detector=silence`, `event=silent|recovered`, `sensorId`, `severity`), plus one digest
   * for email, as for anomalies.
   */
  async publishSilence(alerts: readonly SilenceAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.publishEntries([
      ...alerts.map((alert, i) => entry(`s${i}`, silenceMessage(alert))),
      ...(this.digest ? [entry('digest', silenceDigestMessage(alerts))] : []),
    ]);
  }

  private async publishEntries(entries: PublishBatchRequestEntry[]): Promise<void> {
    await forEachWithLimit(chunkEntries(entries), this.concurrency, async (group) => {
      const response = await this.send(() =>
        this.client.send(
          new PublishBatchCommand({ TopicArn: this.topicArn, PublishBatchRequestEntries: group }),
        ),
      );
      const failed = response.Failed ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new AlertPublishError(
          `SNS rejected ${failed.length} of ${group.length} notifications (${first?.Code}: ${first?.Message})`,
        );
      }
    });
  }

  private async send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new AlertPublishError(`SNS publish failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

export interface AlertMessage {
  readonly message: string;
  readonly subject: string;
  readonly attributes: Record<string, MessageAttributeValue>;
}

function entry(id: string, m: AlertMessage): PublishBatchRequestEntry {
  return {
    Id: id,
    Message: m.message,
    Subject: m.subject,
    MessageStructure: 'json',
    MessageAttributes: m.attributes,
  };
}

/** The bytes SNS counts for an entry: its message and its attributes. */
export function entryBytes(e: PublishBatchRequestEntry): number {
  let bytes = Buffer.byteLength(e.Message ?? '');
  for (const [name, value] of Object.entries(e.MessageAttributes ?? {})) {
    bytes +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}

/** Consecutive groups of at most 10 entries and 256 KB each, in order. */
export function chunkEntries(
  entries: readonly PublishBatchRequestEntry[],
): PublishBatchRequestEntry[][] {
  const groups: PublishBatchRequestEntry[][] = [];
  let current: PublishBatchRequestEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = entryBytes(e);
    if (
      current.length > 0 &&
      (current.length === PUBLISH_BATCH_MAX_ENTRIES || bytes + size > PUBLISH_BATCH_MAX_BYTES)
    ) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** The SNS message for one notification: per-protocol bodies and filterable attributes. */
export function toMessage({ anomaly, heldBackBefore }: AlertDecision): AlertMessage {
  const json = JSON.stringify(anomalyJson(anomaly, heldBackBefore));
  const body = emailBody(anomaly, heldBackBefore);
  return {
    subject: emailSubject(anomaly),
    // https://docs.aws.amazon.com/sns/latest/dg/sns-send-custom-platform-specific-payloads-mobile-devices.html
    message: JSON.stringify({
      default: body,
      email: body,
      'email-json': json,
      sms: smsText(anomaly, heldBackBefore),
      sqs: json,
      lambda: json,
      http: json,
      https: json,
      firehose: json,
    }),
    attributes: {
      [KIND_ATTRIBUTE]: text(MESSAGE_KIND.alert),
      sensorId: text(anomaly.sensorId),
      severity: text(anomaly.severity),
      detector: text(anomaly.detector),
      // Filterable: a subscription can take only limit breaches, or only flat lines. The score
      // is a Number attribute: "Numbers are positive or negative integers or floating-point
      // numbers" (SNS message attribute data types, docs.aws.amazon.com/sns/latest/dg/
      // sns-message-attributes.html); an alert's score is above its threshold, never in
      // exponent notation.
      ...(anomaly.test === undefined ? {} : { test: text(anomaly.test) }),
      ...(anomaly.score === undefined
        ? {}
        : { score: { DataType: 'Number', StringValue: String(anomaly.score) } }),
    },
  };
}

const SEVERITY_ORDER: Readonly<Record<string, number>> = { critical: 0, warning: 1 };

/** Bytes of listed alerts in a digest: the whole message stays far below 256 KB. */
const DIGEST_BUDGET_BYTES = 32 * 1024;
const DIGEST_ID_CHARS = 64;

/** Sensor ids are free text: short and printable in a digest. */
function shortId(sensorId: string): string {
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
    message: JSON.stringify({
      default: body,
      email: body,
      'email-json': json,
      sms: `${alerts.length} sensor anomalies (${critical} critical): ${names}`.slice(0, 140),
      sqs: json,
      lambda: json,
      http: json,
      https: json,
      firehose: json,
    }),
    attributes: {
      [KIND_ATTRIBUTE]: text(MESSAGE_KIND.digest),
      severity: text(top),
      count: { DataType: 'Number', StringValue: String(alerts.length) },
    },
  };
}

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
    message: JSON.stringify({
      default: body,
      email: body,
      'email-json': json,
      sms: line.replace(/[^\x20-\x7e→]/g, '?').slice(0, 140),
      sqs: json,
      lambda: json,
      http: json,
      https: json,
      firehose: json,
    }),
    attributes: {
      [KIND_ATTRIBUTE]: text(MESSAGE_KIND.alert),
      sensorId: text(alert.sensorId),
      severity: text(alert.severity),
      detector: text('silence'),
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
    message: JSON.stringify({
      default: body,
      email: body,
      'email-json': json,
      sms: subject.slice(0, 140),
      sqs: json,
      lambda: json,
      http: json,
      https: json,
      firehose: json,
    }),
    attributes: {
      [KIND_ATTRIBUTE]: text(MESSAGE_KIND.digest),
      severity: text(top),
      count: { DataType: 'Number', StringValue: String(alerts.length) },
    },
  };
}
