import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { type ISocketFactory, Kafka, type KafkaConfig, logLevel, type Producer } from 'kafkajs';
import { anomalyJson } from '../core/alert-text.ts';
import { type SilenceAlert, silenceJson } from '../core/silence.ts';
import type { AlertDecision } from '../core/types.ts';
import type { AnomalySink } from '../ports.ts';
import type { SilenceSink } from '../silence/ports.ts';

/**
 * How the sink authenticates to the cluster: the same choices as the event source mapping.
 * - `iam`: MSK IAM through SASL/OAUTHBEARER, a token signed by aws-msk-iam-sasl-signer-js with
 *   the function's role. The role needs `kafka-cluster:Connect` on the cluster and
 *   `kafka-cluster:WriteData` and `kafka-cluster:DescribeTopic` on the topic (the stack grants
 *   them; see infra/constructs/anomaly-sinks.ts for the doc it follows).
 * - `sasl-scram-256` / `sasl-scram-512`: user name and password (over TLS).
 * - `mtls`: a client certificate and key (PEM), optionally the CA of the brokers.
 * - `none`: plaintext, as inside a VPC or against the local broker.
 */
export type KafkaSinkAuth =
  | { readonly kind: 'iam'; readonly region: string }
  | {
      readonly kind: 'sasl-scram-256' | 'sasl-scram-512';
      readonly username: string;
      readonly password: string;
      /** The brokers' private root CA (PEM). @default - Node's public CAs */
      readonly caPem?: string;
    }
  | {
      readonly kind: 'mtls';
      readonly certificatePem: string;
      readonly privateKeyPem: string;
      readonly caPem?: string;
    }
  | { readonly kind: 'none'; readonly tls?: boolean; readonly caPem?: string };

export interface KafkaAnomalySinkOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Or how to get it (SCRAM and mTLS read a secret), asked on the first send. */
  readonly auth: KafkaSinkAuth | (() => Promise<KafkaSinkAuth>);
  /** @default 'sensor-anomaly-detector' */
  readonly clientId?: string;
  /** Tests put a fault-injecting socket between the producer and the broker. */
  readonly socketFactory?: ISocketFactory;
  /** Per request; a slow broker fails the batch, which is retried. @default 10000 */
  readonly requestTimeoutMs?: number;
  /** kafkajs's own retries of one send before the sink gives up. @default 2 */
  readonly retries?: number;
}

export class AnomalySinkError extends Error {
  override readonly name = 'AnomalySinkError';
}

/** A MSK IAM token lives 15 minutes; the signer is asked again on every (re)authentication. */
async function mskIamToken(region: string): Promise<{ value: string }> {
  const { token } = await generateAuthToken({ region });
  return { value: token };
}

export function kafkaConfigFor(options: KafkaAnomalySinkOptions, auth: KafkaSinkAuth): KafkaConfig {
  const base: KafkaConfig = {
    clientId: options.clientId ?? 'sensor-anomaly-detector',
    brokers: [...options.brokers],
    logLevel: logLevel.NOTHING,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    connectionTimeout: 3000,
    retry: { retries: options.retries ?? 2, initialRetryTime: 100, maxRetryTime: 1000 },
    ...(options.socketFactory === undefined ? {} : { socketFactory: options.socketFactory }),
  };
  switch (auth.kind) {
    case 'iam':
      return {
        ...base,
        ssl: true,
        sasl: { mechanism: 'oauthbearer', oauthBearerProvider: () => mskIamToken(auth.region) },
      };
    case 'sasl-scram-256':
    case 'sasl-scram-512':
      return {
        ...base,
        ssl: auth.caPem === undefined ? true : { ca: [auth.caPem] },
        sasl:
          auth.kind === 'sasl-scram-256'
            ? { mechanism: 'scram-sha-256', username: auth.username, password: auth.password }
            : { mechanism: 'scram-sha-512', username: auth.username, password: auth.password },
      };
    case 'mtls':
      return {
        ...base,
        ssl: {
          cert: auth.certificatePem,
          key: auth.privateKeyPem,
          ...(auth.caPem === undefined ? {} : { ca: [auth.caPem] }),
        },
      };
    case 'none':
      if (!auth.tls) return base;
      return { ...base, ssl: auth.caPem === undefined ? true : { ca: [auth.caPem] } };
  }
}

/** The record of one anomaly: the CloudWatch line's fields, keyed by sensor id. */
export function anomalyRecord(decision: AlertDecision): {
  key: string;
  value: string;
  headers: Record<string, string>;
} {
  const a = decision.anomaly;
  return {
    key: a.sensorId,
    value: JSON.stringify({
      ...anomalyJson(a, decision.heldBackBefore),
      notified: decision.notify,
    }),
    headers: { alertId: a.alertId },
  };
}

/** The record of a silent or recovered sensor: its JSON (`type` says which), keyed by sensor id. */
export function silenceRecord(alert: SilenceAlert): {
  key: string;
  value: string;
  headers: Record<string, string>;
} {
  return {
    key: alert.sensorId,
    value: JSON.stringify(silenceJson(alert)),
    headers: { alertId: alert.alertId },
  };
}

/**
 * Produces every anomaly to a Kafka topic, with acks from all in-sync replicas. The producer
 * is kept between invocations (a warm container reuses its connections) and dropped after a
 * failure, so the retry starts from a fresh connection. Not idempotent on the broker side
 * (MSK IAM needs an extra permission for it, the local mock cluster lacks it): a send that
 * failed after the broker wrote it is sent again by the retried batch, with the same
 * `alertId` header, which is what consumers deduplicate on.
 */
export class KafkaAnomalySink implements AnomalySink, SilenceSink {
  readonly name = 'kafka';
  private kafka: Promise<Kafka> | null = null;
  private producer: Promise<Producer> | null = null;

  constructor(private readonly options: KafkaAnomalySinkOptions) {}

  async deliver(alerts: readonly AlertDecision[]): Promise<void> {
    await this.produce(alerts.map(anomalyRecord), 'anomalies');
  }

  /** Silent and recovered sensors, on the same topic (docs/silence.md). */
  async deliverSilence(alerts: readonly SilenceAlert[]): Promise<void> {
    await this.produce(alerts.map(silenceRecord), 'silence alerts');
  }

  private async produce(messages: ReturnType<typeof anomalyRecord>[], what: string) {
    if (messages.length === 0) return;
    try {
      const producer = await this.connected();
      await producer.send({ topic: this.options.topic, acks: -1, messages });
    } catch (error) {
      await this.reset();
      throw new AnomalySinkError(
        `could not produce ${messages.length} ${what} to Kafka topic ${this.options.topic}: ${describe(error)}`,
        { cause: error },
      );
    }
  }

  async close(): Promise<void> {
    await this.reset();
  }

  private connected(): Promise<Producer> {
    if (this.kafka === null) {
      const auth = this.options.auth;
      this.kafka = (typeof auth === 'function' ? auth() : Promise.resolve(auth)).then(
        (resolved) => new Kafka(kafkaConfigFor(this.options, resolved)),
      );
      // A failed secret read is tried again on the next send.
      this.kafka.catch(() => {
        this.kafka = null;
      });
    }
    if (this.producer === null) {
      this.producer = this.kafka.then(async (kafka) => {
        const producer = kafka.producer({ allowAutoTopicCreation: true });
        await producer.connect();
        return producer;
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
