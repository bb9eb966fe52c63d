import {
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { anomalyJson, emailBody, emailSubject, smsText } from '../core/alert-text.ts';
import type { Digest } from '../core/alerting/digest.ts';
import type { EpisodeEnd } from '../core/alerting/episodes.ts';
import type { SilenceAlert } from '../core/silence.ts';
import type { AlertDecision } from '../core/types.ts';
import type { AlertPublisher } from '../ports.ts';
import type { SilencePublisher } from '../silence/ports.ts';
import { forEachWithLimit } from './concurrency.ts';
import { periodDigestMessage, resolvedMessage } from './sns-alerting-messages.ts';
import { digestMessage } from './sns-digest-message.ts';
import { groupMessage } from './sns-group-message.ts';
import {
  type AlertMessage,
  alertAttributes,
  numberAttribute,
  perProtocol,
  text,
} from './sns-message.ts';
import { silenceDigestMessage, silenceMessage } from './sns-silence-message.ts';

// The digest's first home: its tests import it from here.
export { DIGEST_MAX_ALERTS, digestMessage } from './sns-digest-message.ts';

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
 * "Publishes up to 10 messages to the specified topic in a single batch" and "The maximum
 * allowed individual message size and the maximum total payload size (the sum of the
 * individual lengths of all of the batched messages) are both 256 KB (262,144 bytes)."
 * (Amazon SNS API reference, PublishBatch,
 * https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html)
 */
export const PUBLISH_BATCH_MAX_ENTRIES = 10;
export const PUBLISH_BATCH_MAX_BYTES = 262_144;

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

/** The SNS message for one notification: per-protocol bodies and filterable attributes. */
export function toMessage({ anomaly, heldBackBefore }: AlertDecision): AlertMessage {
  const json = JSON.stringify(anomalyJson(anomaly, heldBackBefore));
  const body = emailBody(anomaly, heldBackBefore);
  return {
    subject: emailSubject(anomaly),
    message: perProtocol(body, json, smsText(anomaly, heldBackBefore)),
    attributes: {
      ...alertAttributes(anomaly),
      // Filterable: a subscription can take only limit breaches, or only flat lines. The score
      // is a Number attribute (numberAttribute); an alert's score is above its threshold, never
      // in exponent notation.
      ...(anomaly.test === undefined ? {} : { test: text(anomaly.test) }),
      ...(anomaly.score === undefined ? {} : { score: numberAttribute(anomaly.score) }),
    },
  };
}
