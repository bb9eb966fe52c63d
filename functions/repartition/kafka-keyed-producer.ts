import { Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import {
  type KafkaAnomalySinkOptions,
  type KafkaSinkAuth,
  kafkaConfigFor,
} from '../adapters/kafka-anomaly-sink.ts';
import type { KeyedProducer, KeyedRecord } from './repartition-batch.ts';

export class RepartitionProduceError extends Error {
  override readonly name = 'RepartitionProduceError';
}

export type KafkaKeyedProducerOptions = Omit<KafkaAnomalySinkOptions, 'topic'>;

/**
 * The repartition step's producer (kafkajs), the same connection and authentication choices
 * as the Kafka anomaly sink. Ordered by construction:
 * - `maxInFlightRequests: 1`: "Max number of requests that may be in progress at any time"
 *   (kafkajs docs, Producing Messages, Options): a request retried after a lost answer is
 *   never overtaken by a later one;
 * - `acks: -1`: "all insync replicas must acknowledge" (same page, `send`);
 * - the `DefaultPartitioner`, a hash (murmur2) of the key that "should be compatible with the
 *   default partitioner that ships with the Java Kafka client" (same page, Default
 *   Partitioners), so any client of the keyed topic agrees on a sensor's partition.
 * Not idempotent on the broker (the local mock cluster lacks it, MSK IAM needs another
 * permission): a retried request may append its records twice, always a repeat of records
 * already appended in order, which the detector drops by `source-offset`.
 */
export class KafkaKeyedProducer implements KeyedProducer {
  private producer: Promise<Producer> | null = null;

  constructor(private readonly options: KafkaKeyedProducerOptions) {}

  async produce(topic: string, records: readonly KeyedRecord[]): Promise<void> {
    if (records.length === 0) return;
    const messages: Message[] = records.map((r) => ({
      key: r.key === null ? null : typeof r.key === 'string' ? r.key : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      timestamp: r.timestamp,
      headers: { ...r.headers },
    }));
    try {
      const producer = await this.connected();
      await producer.send({ topic, acks: -1, messages });
    } catch (error) {
      await this.reset();
      throw new RepartitionProduceError(
        `could not produce ${messages.length} records to Kafka topic ${topic}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  async close(): Promise<void> {
    await this.reset();
  }

  private connected(): Promise<Producer> {
    if (this.producer === null) {
      const auth = this.options.auth;
      const created = (async () => {
        const resolved: KafkaSinkAuth = typeof auth === 'function' ? await auth() : auth;
        const kafka = new Kafka(
          kafkaConfigFor(
            { ...this.options, topic: '', clientId: this.options.clientId ?? 'repartition' },
            resolved,
          ),
        );
        const producer = kafka.producer({
          maxInFlightRequests: 1,
          idempotent: false,
          allowAutoTopicCreation: true,
          createPartitioner: Partitioners.DefaultPartitioner,
        });
        await producer.connect();
        return producer;
      })();
      this.producer = created;
      created.catch(() => {
        if (this.producer === created) this.producer = null;
      });
    }
    return this.producer;
  }

  private async reset(): Promise<void> {
    const current = this.producer;
    this.producer = null;
    if (current !== null) await current.then((p) => p.disconnect()).catch(() => {});
  }
}
