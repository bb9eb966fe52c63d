import { Logger } from '@aws-lambda-powertools/logger';
import { createRepartitionHandler } from '../../functions/repartition/create-handler.ts';
import { KafkaKeyedProducer } from '../../functions/repartition/kafka-keyed-producer.ts';
import { keyedTopicOf } from '../../functions/repartition/repartition-batch.ts';
import type { BatchingOptions } from '../poller/dispatcher.ts';
import { type KafkaPoller, startKafkaPoller } from '../poller/kafka-poller.ts';
import type { EventSourceInfo } from '../poller/lambda-event.ts';

/**
 * `npm start -- --unkeyed` (docs/repartition.md): the repartition step between the readings
 * topic and the detector, as deployed with `repartition`: its own poller (the event source
 * mapping's emulation) on the unkeyed topic runs the very Lambda handler, which re-produces
 * every record keyed by sensor to `<topic>.by-sensor`, the topic the detector then reads.
 */
export async function startRepartitionStage(options: {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  readonly fromBeginning: boolean;
  readonly source: EventSourceInfo;
  readonly batching: BatchingOptions;
  readonly embedded: boolean;
  readonly lambdaLogs: boolean;
}): Promise<{ readonly keyedTopic: string; readonly poller: KafkaPoller; stop(): Promise<void> }> {
  const producer = new KafkaKeyedProducer({ brokers: options.brokers, auth: { kind: 'none' } });
  const handler = createRepartitionHandler({
    producer,
    logger: new Logger({
      serviceName: 'repartition',
      logLevel: options.lambdaLogs ? 'INFO' : 'SILENT',
    }),
  });
  const poller = await startKafkaPoller({
    brokers: options.brokers,
    topics: [options.topic],
    groupId: `${options.groupId}-repartition`,
    fromBeginning: options.fromBeginning,
    source: options.source,
    invoke: (event) => handler(event),
    batching: options.batching,
    clientId: 'repartition-poller',
    ...(options.embedded
      ? { sessionTimeoutMs: 3000, heartbeatIntervalMs: 300, maxWaitTimeMs: 100 }
      : {}),
  });
  return {
    keyedTopic: keyedTopicOf(options.topic),
    poller,
    async stop() {
      await poller.stop();
      await producer.close();
    },
  };
}
