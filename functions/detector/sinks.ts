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
    const { secretArn, rootCaSecretArn } = kafka;
    const read = (arn: string | undefined) =>
      arn === undefined ? Promise.resolve(undefined) : readSecretString(arn, kafka.region);
    sinks.push(
      new KafkaAnomalySink({
        brokers: kafka.brokers,
        topic: kafka.topic,
        auth:
          secretArn === undefined && rootCaSecretArn === undefined
            ? kafkaSinkAuth(kafka)
            : async () => {
                const [secret, rootCa] = await Promise.all([
                  read(secretArn),
                  read(rootCaSecretArn),
                ]);
                return kafkaSinkAuth(kafka, secret, rootCa);
              },
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
