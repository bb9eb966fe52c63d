import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgeAnomalySink } from '../adapters/eventbridge-anomaly-sink.ts';
import { KafkaAnomalySink } from '../adapters/kafka-anomaly-sink.ts';
import { readSecretString } from '../adapters/secret-reader.ts';
import type { AnomalySink } from '../ports.ts';
import type { SilenceSink } from '../silence/ports.ts';
import { kafkaSinkAuth, type SinkSettings } from '../sinks-config.ts';

/** The Lambda's anomaly sinks (which also take silence alerts) from its settings; none when none is set. */
export function sinksFromSettings(
  settings: SinkSettings,
  eventBridge: () => EventBridgeClient = () => new EventBridgeClient({}),
): (AnomalySink & SilenceSink)[] {
  const sinks: (AnomalySink & SilenceSink)[] = [];
  const kafka = settings.kafka;
  if (kafka !== undefined) {
    const secretArn = kafka.secretArn;
    sinks.push(
      new KafkaAnomalySink({
        brokers: kafka.brokers,
        topic: kafka.topic,
        auth:
          secretArn === undefined
            ? kafkaSinkAuth(kafka)
            : async () => kafkaSinkAuth(kafka, await readSecretString(secretArn, kafka.region)),
      }),
    );
  }
  if (settings.eventBus !== undefined) {
    sinks.push(
      new EventBridgeAnomalySink({ client: eventBridge(), eventBusName: settings.eventBus }),
    );
  }
  return sinks;
}
