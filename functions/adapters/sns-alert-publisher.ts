import {
  type MessageAttributeValue,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  PublishCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { anomalyJson, emailBody, emailSubject, smsText } from '../core/alert-text.ts';
import type { AlertDecision } from '../core/types.ts';
import type { AlertPublisher } from '../ports.ts';
import { chunk, forEachWithLimit } from './concurrency.ts';

export class AlertPublishError extends Error {
  override readonly name = 'AlertPublishError';
}

export interface SnsAlertPublisherOptions {
  readonly client: SNSClient;
  readonly topicArn: string;
  /** Parallel PublishBatch calls. @default 4 */
  readonly concurrency?: number;
}

/** PublishBatch takes at most 10 entries (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html). */
const PUBLISH_BATCH_MAX = 10;

/**
 * Sends each notification once to the alert topic, with one text per protocol
 * (MessageStructure=json): a short SMS, a readable email, the anomaly as JSON for machine
 * subscribers. Message attributes let subscriptions filter (e.g. SMS for critical only).
 */
export class SnsAlertPublisher implements AlertPublisher {
  private readonly client: SNSClient;
  private readonly topicArn: string;
  private readonly concurrency: number;

  constructor(options: SnsAlertPublisherOptions) {
    this.client = options.client;
    this.topicArn = options.topicArn;
    this.concurrency = options.concurrency ?? 4;
  }

  async publish(alerts: readonly AlertDecision[]): Promise<void> {
    if (alerts.length === 1) {
      const [only] = alerts as [AlertDecision];
      const m = toMessage(only);
      await this.send(() =>
        this.client.send(
          new PublishCommand({
            TopicArn: this.topicArn,
            Message: m.message,
            Subject: m.subject,
            MessageStructure: 'json',
            MessageAttributes: m.attributes,
          }),
        ),
      );
      return;
    }
    await forEachWithLimit(chunk(alerts, PUBLISH_BATCH_MAX), this.concurrency, async (group) => {
      const entries: PublishBatchRequestEntry[] = group.map((alert, i) => {
        const m = toMessage(alert);
        // Entry ids allow only [A-Za-z0-9_-]; topic names may hold dots, so ids are positions.
        return {
          Id: `a${i}`,
          Message: m.message,
          Subject: m.subject,
          MessageStructure: 'json',
          MessageAttributes: m.attributes,
        };
      });
      const response = await this.send(() =>
        this.client.send(
          new PublishBatchCommand({ TopicArn: this.topicArn, PublishBatchRequestEntries: entries }),
        ),
      );
      const failed = response.Failed ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new AlertPublishError(
          `SNS rejected ${failed.length} of ${entries.length} notifications (${first?.Code}: ${first?.Message})`,
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
      sensorId: { DataType: 'String', StringValue: anomaly.sensorId },
      severity: { DataType: 'String', StringValue: anomaly.severity },
      detector: { DataType: 'String', StringValue: anomaly.detector },
    },
  };
}
