import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { anomalyJson } from '../core/alert-text.ts';
import { type SilenceAlert, silenceJson } from '../core/silence.ts';
import type { AlertDecision } from '../core/types.ts';
import type { AnomalySink } from '../ports.ts';
import type { SilenceSink } from '../silence/ports.ts';
import { SERVICE_NAME } from '../telemetry-names.ts';
import { AnomalySinkError } from './kafka-anomaly-sink.ts';

/** The event's `source` and `detail-type`, for EventBridge rules' patterns. */
export const ANOMALY_EVENT = { source: SERVICE_NAME, detailType: 'Sensor anomaly' } as const;

/** "Entries: ... Array Members: Minimum number of 1 item. Maximum number of 10 items." */
const PUT_EVENTS_MAX_ENTRIES = 10;

export interface EventBridgeAnomalySinkOptions {
  readonly client: EventBridgeClient;
  /** Name or ARN of the bus. */
  readonly eventBusName: string;
  /** Rounds of PutEvents for the entries that failed in the previous round. @default 3 */
  readonly attempts?: number;
  /** Wait before the second round, doubled each round. @default 100 */
  readonly backoffMs?: number;
}

/** One event per anomaly: the CloudWatch line's fields as its detail. */
export function anomalyEntry(decision: AlertDecision, eventBusName: string): PutEventsRequestEntry {
  const a = decision.anomaly;
  return {
    EventBusName: eventBusName,
    Source: ANOMALY_EVENT.source,
    DetailType: ANOMALY_EVENT.detailType,
    Time: new Date(a.eventTimeMs),
    Detail: JSON.stringify({
      ...anomalyJson(a, decision.heldBackBefore),
      notified: decision.notify,
    }),
  };
}

/** The detail-types of silence events: `Sensor silent` and `Sensor recovered`. */
export const SILENCE_EVENT = {
  silent: 'Sensor silent',
  recovered: 'Sensor recovered',
} as const;

/** One event per silent or recovered sensor (docs/silence.md). */
export function silenceEntry(alert: SilenceAlert, eventBusName: string): PutEventsRequestEntry {
  return {
    EventBusName: eventBusName,
    Source: ANOMALY_EVENT.source,
    DetailType: SILENCE_EVENT[alert.kind],
    Time: new Date(alert.decidedAtMs),
    Detail: JSON.stringify(silenceJson(alert)),
  };
}

/**
 * Puts every anomaly on an EventBridge bus. PutEvents can fail per entry inside a
 * successful answer: "By default, if an individual entry within a request fails,
 * EventBridge continues processing the rest of the entries in the request. A response
 * Entries array can include both successful and unsuccessful entries. You must detect
 * unsuccessful entries and include them in a subsequent call. ... The response Entries
 * array always includes the same number of entries as the request array" (EventBridge user
 * guide, "Sending events with PutEvents",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html). So the
 * entries with an ErrorCode are put again, up to `attempts` rounds; any still failing fail
 * the delivery (and the batch, which is retried from the outbox with the same alert ids).
 */
export class EventBridgeAnomalySink implements AnomalySink, SilenceSink {
  readonly name = 'eventbridge';

  constructor(private readonly options: EventBridgeAnomalySinkOptions) {}

  async deliver(alerts: readonly AlertDecision[]): Promise<void> {
    await this.putChunks(alerts.map((d) => anomalyEntry(d, this.options.eventBusName)));
  }

  async deliverSilence(alerts: readonly SilenceAlert[]): Promise<void> {
    await this.putChunks(alerts.map((a) => silenceEntry(a, this.options.eventBusName)));
  }

  private async putChunks(entries: PutEventsRequestEntry[]): Promise<void> {
    const chunks: PutEventsRequestEntry[][] = [];
    for (let i = 0; i < entries.length; i += PUT_EVENTS_MAX_ENTRIES)
      chunks.push(entries.slice(i, i + PUT_EVENTS_MAX_ENTRIES));
    const results = await Promise.allSettled(chunks.map((c) => this.putAll(c)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }

  private async putAll(entries: PutEventsRequestEntry[]): Promise<void> {
    const attempts = this.options.attempts ?? 3;
    let pending = entries;
    let lastErrors: string[] = [];
    for (let round = 1; round <= attempts; round += 1) {
      if (round > 1)
        await new Promise((r) => setTimeout(r, (this.options.backoffMs ?? 100) * 2 ** (round - 2)));
      let output: PutEventsCommandOutput;
      try {
        output = await this.options.client.send(new PutEventsCommand({ Entries: pending }));
      } catch (error) {
        throw new AnomalySinkError(
          `EventBridge PutEvents to ${this.options.eventBusName} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if ((output.FailedEntryCount ?? 0) === 0) return;
      const results = output.Entries ?? [];
      const retry: PutEventsRequestEntry[] = [];
      lastErrors = [];
      pending.forEach((entry, i) => {
        const r = results[i];
        // A missing result is no proof of success: put it again.
        if (r === undefined || r.ErrorCode !== undefined || r.EventId === undefined) {
          retry.push(entry);
          lastErrors.push(r?.ErrorCode ?? 'NoResult');
        }
      });
      if (retry.length === 0) return;
      pending = retry;
    }
    throw new AnomalySinkError(
      `EventBridge PutEvents to ${this.options.eventBusName}: ${pending.length} of ${entries.length} entries still failed after ${attempts} rounds (${[...new Set(lastErrors)].join(', ')})`,
    );
  }
}
