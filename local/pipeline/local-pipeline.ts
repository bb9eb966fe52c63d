import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { KafkaAnomalySink } from '../../functions/adapters/kafka-anomaly-sink.ts';
import { toMessage } from '../../functions/adapters/sns-alert-publisher.ts';
import type { DetectorConfig } from '../../functions/config.ts';
import type { SilenceAlert } from '../../functions/core/silence.ts';
import type { AlertDecision } from '../../functions/core/types.ts';
import type { LiveRulesSettings } from '../../functions/detector/create-handler.ts';
import type { AnomalySink, BatchObserver, Evaluation, Rejection } from '../../functions/ports.ts';
import type { SilenceSink } from '../../functions/silence/ports.ts';
import { localDynamoDbClient, localSnsClient } from '../embedded/clients.ts';
import { ensureTable, startDynamoDb } from '../embedded/dynamodb.ts';
import { kcatAvailable, startMockKafka } from '../embedded/kafka-mock-cluster.ts';
import { describeSocketError, unavailable, waitForService } from '../embedded/reachable.ts';
import { type PublishedMessage, startSnsEndpoint } from '../embedded/sns-endpoint.ts';
import type { BatchingOptions, DispatchHooks } from '../poller/dispatcher.ts';
import { InProcessTopic, type LogMessage, startInProcessPoller } from '../poller/in-process-log.ts';
import { startKafkaPoller } from '../poller/kafka-poller.ts';
import { type EventSourceInfo, LOCAL_MSK_CLUSTER_ARN } from '../poller/lambda-event.ts';
import type { PollerStats } from '../poller/stats.ts';
import { createLocalDetector, createLocalSilenceCheck } from './local-detector.ts';
import { startRepartitionStage } from './repartition-stage.ts';

export type KafkaMode =
  | { readonly kind: 'external'; readonly brokers: readonly string[] }
  | { readonly kind: 'embedded'; readonly bootstrap: string }
  | { readonly kind: 'in-process'; readonly reason: string };

/** A notification as the subscribers would get it: what SNS received, or what was sent. */
export interface NotificationView {
  readonly subject: string;
  readonly sms: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageId?: string;
}

export interface LocalPipelineOptions {
  readonly config: DetectorConfig;
  readonly topic: string;
  readonly groupId: string;
  readonly fromBeginning: boolean;
  readonly eventSource: 'msk' | 'self-managed';
  readonly batching: BatchingOptions;
  readonly brokers?: readonly string[];
  readonly inProcess?: boolean;
  readonly dynamodbEndpoint?: string;
  readonly snsEndpoint?: string;
  readonly lambdaLogs?: boolean;
  /** Told about decisions (anomalies, rejections) as the handler makes them durable. */
  readonly observer?: Partial<BatchObserver>;
  readonly onNotification?: (n: NotificationView) => void;
  readonly hooks?: DispatchHooks;
  /** Produce every anomaly to this topic on the same broker (docs/sinks.md). @default none */
  readonly anomaliesTopic?: string;
  /**
   * The readings are unkeyed: sent without keys, then re-produced keyed by sensor by the
   * repartition step, whose topic the detector reads (docs/repartition.md). Needs a broker.
   * @default false
   */
  readonly unkeyed?: boolean;
  /** Judge with the rules document in the table, read every period (docs/rules.md). @default off */
  readonly liveRules?: LiveRulesSettings;
  /**
   * Run the silence check (docs/silence.md) every `intervalMs`, as the schedule does in AWS;
   * the rules say which sensors are watched: with `liveRules`, the document in the table (read
   * as often, its changes not reported a second time), else the config's. @default no check
   */
  readonly silenceCheck?: {
    readonly intervalMs: number;
    readonly onAlert: (alert: SilenceAlert) => void;
    readonly onError?: (error: unknown) => void;
  };
  /** Progress messages while starting. */
  readonly log?: (line: string) => void;
  /**
   * How long to wait for given brokers and endpoints to answer before failing with a
   * ServiceUnavailableError. @default 5000
   */
  readonly serviceWaitMs?: number;
}

export interface LocalPipeline {
  readonly mode: KafkaMode;
  readonly dynamodbEndpoint: string;
  readonly dynamodbEmbedded: boolean;
  readonly snsEndpoint: string;
  readonly snsEmbedded: boolean;
  readonly topicArn: string;
  /** Sends records to the topic (keyed records keep per-key order). */
  send(messages: readonly LogMessage[]): Promise<void>;
  stats(): PollerStats;
  lag(): Promise<number>;
  drain(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Starts everything `npm start` needs, embedded unless endpoints are given: Kafka (given
 * brokers, else librdkafka's mock cluster through kcat, else an in-process topic), DynamoDB
 * (dynalite), SNS (the capture endpoint), and the poller driving the Lambda handler.
 */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const log = options.log ?? (() => {});
  const waitMs = options.serviceWaitMs ?? 5000;
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch(() => {});
    }
  };
  try {
    const ddb = options.dynamodbEndpoint === undefined ? await startDynamoDb() : null;
    if (ddb !== null) cleanups.push(() => ddb.close());
    const dynamodbEndpoint = ddb?.endpoint ?? (options.dynamodbEndpoint as string);
    const dynamodb = localDynamoDbClient(dynamodbEndpoint);
    cleanups.push(async () => dynamodb.destroy());
    if (ddb === null) {
      const spec = {
        service: 'DynamoDB',
        address: dynamodbEndpoint,
        hint: `start it (e.g. \`docker compose up -d localstack\`), or drop --dynamodb-endpoint and DYNAMODB_ENDPOINT to use the embedded dynalite`,
      };
      await waitForService(spec, [dynamodbEndpoint], waitMs);
      await ensureTable(dynamodb, options.config.tableName).catch((error: unknown) => {
        throw unavailable(spec, sdkProblem(error));
      });
    } else {
      await ensureTable(dynamodb, options.config.tableName);
    }

    const capture = options.snsEndpoint === undefined ? await startSnsEndpoint() : null;
    if (capture !== null) cleanups.push(() => capture.close());
    const snsEndpoint = capture?.endpoint ?? (options.snsEndpoint as string);
    const sns = localSnsClient(snsEndpoint);
    cleanups.push(async () => sns.destroy());
    let topicArn = options.config.topicArn;
    if (capture === null) {
      const spec = {
        service: 'SNS',
        address: snsEndpoint,
        hint: `start it (e.g. \`docker compose up -d localstack\`), or drop --sns-endpoint and SNS_ENDPOINT to use the embedded capture endpoint`,
      };
      await waitForService(spec, [snsEndpoint], waitMs);
      topicArn = await ensureSnsTopic(sns, topicArn, log).catch((error: unknown) => {
        throw unavailable(spec, sdkProblem(error));
      });
    }

    // The capture endpoint shows what SNS really received; elsewhere, what was sent.
    if (capture !== null && options.onNotification) {
      const notify = options.onNotification;
      capture.onMessage((m) => notify(fromPublished(m)));
    }
    const evaluated = options.observer?.evaluated;
    const observer: BatchObserver = {
      rejected: (r: Rejection) => options.observer?.rejected?.(r),
      anomaly: (d: AlertDecision) => options.observer?.anomaly?.(d),
      // Only when asked for: the use case collects evaluations for an observer that wants them.
      ...(evaluated === undefined ? {} : { evaluated: (e: Evaluation) => evaluated(e) }),
      published: (alerts: readonly AlertDecision[]) => {
        options.observer?.published?.(alerts);
        if (capture === null && options.onNotification)
          for (const a of alerts) options.onNotification(fromDecision(a));
      },
    };
    const mode = await chooseKafka(options, log);
    const sinks: (AnomalySink & SilenceSink)[] = [];
    if (options.anomaliesTopic !== undefined) {
      if (mode.kind === 'in-process') {
        log(`anomalies topic off: no Kafka broker (${mode.reason})`);
      } else {
        // The same adapter as in Lambda, on the same cluster as the readings, no auth.
        const sink = new KafkaAnomalySink({
          brokers: mode.kind === 'external' ? mode.brokers : [mode.bootstrap],
          topic: options.anomaliesTopic,
          auth: { kind: 'none' },
        });
        cleanups.push(() => sink.close());
        sinks.push(sink);
      }
    }
    const handler = createLocalDetector({
      config: { ...options.config, topicArn },
      dynamodb,
      sns,
      observer,
      lambdaLogs: options.lambdaLogs ?? false,
      sinks,
      ...(options.liveRules === undefined ? {} : { liveRules: options.liveRules }),
    });
    if (options.silenceCheck !== undefined) {
      const { intervalMs, onAlert, onError } = options.silenceCheck;
      const check = createLocalSilenceCheck({
        config: { ...options.config, topicArn },
        dynamodb,
        sns,
        sinks,
        onAlert,
        lambdaLogs: options.lambdaLogs ?? false,
        ...(options.liveRules === undefined
          ? {}
          : {
              liveRules:
                options.liveRules.refreshMs === undefined
                  ? {}
                  : { refreshMs: options.liveRules.refreshMs },
            }),
      });
      // One check at a time, as the deployed function's reserved concurrency of 1 makes it.
      let running: Promise<void> | null = null;
      const timer = setInterval(() => {
        running ??= check()
          .then(
            () => {},
            (error: unknown) => onError?.(error),
          )
          .finally(() => {
            running = null;
          });
      }, intervalMs);
      cleanups.push(async () => {
        clearInterval(timer);
        await running;
      });
    }

    if (mode.kind === 'in-process') {
      if (options.unkeyed) log(`repartition step off: no Kafka broker (${mode.reason})`);
      const topic = new InProcessTopic(options.topic, 4);
      const source = eventSource(options.eventSource, 'in-process:0');
      const poller = startInProcessPoller({
        topic,
        source,
        invoke: (event) => handler(event),
        batching: options.batching,
        ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
      });
      cleanups.push(() => poller.stop());
      return {
        mode,
        dynamodbEndpoint,
        dynamodbEmbedded: ddb !== null,
        snsEndpoint,
        snsEmbedded: capture !== null,
        topicArn,
        send: async (messages) => topic.append(messages),
        stats: () => poller.stats(),
        lag: async () => poller.lag(),
        drain: (timeoutMs) => poller.drain(timeoutMs),
        stop: stopAll,
      };
    }

    const brokers = mode.kind === 'external' ? mode.brokers : [mode.bootstrap];
    const embedded = mode.kind === 'embedded';
    const kafkaSpec = {
      service: 'Kafka',
      address: brokers.join(','),
      hint: 'start a broker (e.g. `docker compose up -d redpanda redpanda-init`), or drop --brokers and KAFKA_BROKERS to use the embedded one',
    };
    if (!embedded) await waitForService(kafkaSpec, brokers, waitMs);
    const stage = options.unkeyed
      ? await startRepartitionStage({
          brokers,
          topic: options.topic,
          groupId: options.groupId,
          fromBeginning: options.fromBeginning,
          source: eventSource(options.eventSource, brokers.join(',')),
          batching: options.batching,
          embedded,
          lambdaLogs: options.lambdaLogs ?? false,
        })
      : null;
    if (stage !== null) cleanups.push(() => stage.stop());
    const poller = await startKafkaPoller({
      brokers,
      topics: [stage?.keyedTopic ?? options.topic],
      groupId: options.groupId,
      fromBeginning: options.fromBeginning,
      source: eventSource(options.eventSource, brokers.join(',')),
      invoke: (event) => handler(event),
      batching: options.batching,
      ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
      // The mock cluster rebalances in about one session timeout: keep it short there.
      ...(embedded ? { sessionTimeoutMs: 3000, heartbeatIntervalMs: 300, maxWaitTimeMs: 100 } : {}),
    }).catch((error: unknown) => {
      throw embedded ? error : unavailable(kafkaSpec, kafkaProblem(error));
    });
    cleanups.push(() => poller.stop());
    const producer = await connectProducer(brokers);
    cleanups.push(() => producer.disconnect());
    return {
      mode,
      dynamodbEndpoint,
      dynamodbEmbedded: ddb !== null,
      snsEndpoint,
      snsEmbedded: capture !== null,
      topicArn,
      send: async (messages) => {
        await producer.send({
          topic: options.topic,
          messages: messages.map((m) => ({
            key:
              m.key === undefined || m.key === null || options.unkeyed ? null : Buffer.from(m.key),
            value: m.value === null ? null : Buffer.from(m.value),
            ...(m.headers === undefined ? {} : { headers: toHeaders(m.headers) }),
            ...(m.timestampMs === undefined ? {} : { timestamp: String(m.timestampMs) }),
          })),
        });
      },
      stats: () => poller.stats(),
      lag: () => poller.lag(),
      // With the repartition step: everything re-produced first, then judged.
      drain: async (timeoutMs) =>
        (stage === null || (await stage.poller.drain(timeoutMs))) && poller.drain(timeoutMs),
      stop: stopAll,
    };

    async function chooseKafka(
      opts: LocalPipelineOptions,
      say: (line: string) => void,
    ): Promise<KafkaMode> {
      if (opts.brokers !== undefined && opts.brokers.length > 0)
        return { kind: 'external', brokers: opts.brokers };
      if (opts.inProcess) return { kind: 'in-process', reason: 'requested with --in-process' };
      if (!kcatAvailable()) {
        return { kind: 'in-process', reason: 'kcat not found and no KAFKA_BROKERS given' };
      }
      say('starting the embedded Kafka (librdkafka mock cluster via kcat)…');
      try {
        const mock = await startMockKafka();
        cleanups.push(() => mock.close());
        return { kind: 'embedded', bootstrap: mock.bootstrap };
      } catch (error) {
        return {
          kind: 'in-process',
          reason: `the embedded Kafka did not start: ${(error as Error).message}`,
        };
      }
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function eventSource(kind: 'msk' | 'self-managed', bootstrapServers: string): EventSourceInfo {
  return kind === 'msk'
    ? { kind: 'msk', clusterArn: LOCAL_MSK_CLUSTER_ARN, bootstrapServers }
    : { kind: 'self-managed', bootstrapServers };
}

async function connectProducer(brokers: readonly string[]): Promise<Producer> {
  const kafka = new Kafka({
    clientId: 'sensor-simulator',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  });
  // The mock cluster supports neither idempotent nor transactional producers.
  const producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
  await producer.connect();
  return producer;
}

function toHeaders(headers: Readonly<Record<string, string | Uint8Array>>): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
}

/** SNS's CreateTopic is idempotent: it makes sure the topic exists (e.g. on LocalStack). */
async function ensureSnsTopic(
  sns: ReturnType<typeof localSnsClient>,
  topicArn: string,
  log: (line: string) => void,
): Promise<string> {
  const name = topicArn.split(':').at(-1) ?? topicArn;
  const created = await sns.send(new CreateTopicCommand({ Name: name }));
  if (created.TopicArn !== undefined && created.TopicArn !== topicArn) {
    log(`SNS topic is ${created.TopicArn} (asked for ${topicArn})`);
    return created.TopicArn;
  }
  return topicArn;
}

function fromPublished(m: PublishedMessage): NotificationView {
  let sms = m.message;
  if (m.messageStructure === 'json') {
    try {
      const bodies = JSON.parse(m.message) as Record<string, string>;
      sms = bodies.sms ?? bodies.default ?? m.message;
    } catch {
      // The endpoint validated the JSON already; keep the raw text if not.
    }
  }
  return {
    subject: m.subject ?? '',
    sms,
    attributes: Object.fromEntries(
      Object.entries(m.messageAttributes).map(([k, v]) => [k, v.stringValue ?? '']),
    ),
    messageId: m.messageId,
  };
}

function fromDecision(decision: AlertDecision): NotificationView {
  const m = toMessage(decision);
  const bodies = JSON.parse(m.message) as Record<string, string>;
  return {
    subject: m.subject,
    sms: bodies.sms ?? '',
    attributes: Object.fromEntries(
      Object.entries(m.attributes).map(([k, v]) => [k, v.StringValue ?? '']),
    ),
  };
}

/** An SDK failure against a given endpoint, in a few words (no stack). */
function sdkProblem(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { $metadata?: { httpStatusCode?: number } };
  if (typeof e.code === 'string' && e.code.startsWith('E')) return describeSocketError(e);
  const status = e.$metadata?.httpStatusCode;
  const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  return `${status === undefined ? '' : `HTTP ${status}, `}${name}${e.message ?? String(error)}`;
}

/** A kafkajs failure, innermost cause first (ECONNREFUSED, SASL, …), in a few words. */
function kafkaProblem(error: unknown): string {
  let e = error as
    | (Error & { cause?: unknown; originalError?: unknown; code?: string })
    | undefined;
  let message = (e as Error | undefined)?.message ?? String(error);
  while (e !== undefined) {
    if (typeof e.code === 'string' && e.code.startsWith('E'))
      return describeSocketError(e as NodeJS.ErrnoException);
    message = e.message;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return message;
}
