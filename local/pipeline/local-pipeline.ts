import { KafkaAnomalySink } from '../../functions/adapters/kafka-anomaly-sink.ts';
import type { DetectorConfig } from '../../functions/config.ts';
import type { Digest } from '../../functions/core/alerting/digest.ts';
import type { SilenceAlert } from '../../functions/core/silence.ts';
import type { AlertDecision } from '../../functions/core/types.ts';
import type { LiveRulesSettings } from '../../functions/detector/live-readers.ts';
import type { AnomalySink, BatchObserver, Evaluation, Rejection } from '../../functions/ports.ts';
import type { SilenceSink } from '../../functions/silence/ports.ts';
import { unavailable, waitForService } from '../embedded/reachable.ts';
import type { BatchingOptions, DispatchHooks } from '../poller/dispatcher.ts';
import { InProcessTopic, type LogMessage, startInProcessPoller } from '../poller/in-process-log.ts';
import { startKafkaPoller } from '../poller/kafka-poller.ts';
import type { PartitionLag, PollerStats } from '../poller/stats.ts';
import {
  chooseKafka,
  connectProducer,
  eventSource,
  type KafkaMode,
  kafkaProblem,
  toHeaders,
} from './kafka-mode.ts';
import {
  createLocalDetector,
  createLocalSilenceCheck,
  createLocalWindowFlush,
} from './local-detector.ts';
import { createLocalDigest } from './local-digest.ts';
import { fromDecision, fromPublished, type NotificationView } from './notification-view.ts';
import { startRepartitionStage } from './repartition-stage.ts';
import { startServices } from './services.ts';
import { runEvery } from './silence-timer.ts';

export type { KafkaMode } from './kafka-mode.ts';
export type { NotificationView } from './notification-view.ts';

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
  /**
   * Run the digest function (docs/alerting.md) every `intervalMs`, as the schedule does in
   * AWS; it sends each closed period of the config's digestPeriodSeconds. @default none
   */
  readonly digest?: {
    readonly intervalMs: number;
    readonly onDigest: (digest: Digest) => void;
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
  /** Lag per partition of the topic, as a streaming dashboard shows it. */
  partitionLag(): Promise<readonly PartitionLag[]>;
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
    const { dynamodb, dynamodbEndpoint, ddb, sns, snsEndpoint, capture, topicArn } =
      await startServices(
        {
          tableName: options.config.tableName,
          topicArn: options.config.topicArn,
          ...(options.dynamodbEndpoint === undefined
            ? {}
            : { dynamodbEndpoint: options.dynamodbEndpoint }),
          ...(options.snsEndpoint === undefined ? {} : { snsEndpoint: options.snsEndpoint }),
        },
        log,
        waitMs,
        (cleanup) => cleanups.push(cleanup),
      );

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
    const mode = await chooseKafka(options, log, (close) => cleanups.push(close));
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
    if (options.digest !== undefined && (options.config.digestPeriodSeconds ?? 0) > 0) {
      const { intervalMs, onDigest, onError } = options.digest;
      const digest = createLocalDigest({
        config: { ...options.config, topicArn },
        dynamodb,
        sns,
        onDigest,
        lambdaLogs: options.lambdaLogs ?? false,
      });
      cleanups.push(runEvery(intervalMs, digest, onError));
    }
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
      cleanups.push(runEvery(intervalMs, check, onError));
    }
    // Window-close evaluation: windows of a partition gone quiet close by the flush, every
    // slide here (the deployed schedule runs every minute).
    if (options.config.evaluation === 'window-close') {
      const flush = createLocalWindowFlush({
        config: { ...options.config, topicArn },
        dynamodb,
        sns,
        sinks,
        observer,
        lambdaLogs: options.lambdaLogs ?? false,
        ...(options.liveRules?.refreshMs === undefined
          ? {}
          : { liveRules: { refreshMs: options.liveRules.refreshMs } }),
      });
      cleanups.push(
        runEvery(
          options.config.slideMs,
          () => flush(),
          (error) =>
            log(`WINDOW FLUSH FAILED: ${(error as Error).message}; it runs again next slide`),
        ),
      );
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
        partitionLag: async () => poller.partitionLag(),
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
      partitionLag: () => poller.partitionLag(),
      // With the repartition step: everything re-produced first, then judged.
      drain: async (timeoutMs) =>
        (stage === null || (await stage.poller.drain(timeoutMs))) && poller.drain(timeoutMs),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
