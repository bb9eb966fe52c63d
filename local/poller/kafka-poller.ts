import { type EachBatchPayload, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import {
  type BatchingOptions,
  Dispatcher,
  DispatcherStoppedError,
  type DispatchHooks,
  LAMBDA_KAFKA_DEFAULTS,
  type PartitionOffset,
  type RetryOptions,
} from './dispatcher.ts';
import type { EventSourceInfo, LambdaKafkaEvent, PolledRecord } from './lambda-event.ts';
import { type PartitionLag, type PollerStats, StatsCounter } from './stats.ts';

export interface KafkaPollerOptions {
  readonly brokers: readonly string[];
  readonly topics: readonly string[];
  /** Lambda uses the mapping's UUID unless a consumer group id is configured. */
  readonly groupId: string;
  /** TRIM_HORIZON (true) or LATEST (false), for a group without committed offsets. @default true */
  readonly fromBeginning?: boolean;
  readonly source: EventSourceInfo;
  readonly invoke: (event: LambdaKafkaEvent) => Promise<unknown>;
  readonly batching?: BatchingOptions;
  readonly retry?: RetryOptions;
  readonly hooks?: DispatchHooks;
  /** Consumer tuning; the defaults suit a local broker (and librdkafka's mock cluster). */
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly maxWaitTimeMs?: number;
  readonly clientId?: string;
}

export interface KafkaPoller {
  /** Resolves once the consumer has joined its group and got partitions. */
  readonly ready: Promise<void>;
  stats(): PollerStats;
  /** Records on the topics not yet committed by the group (end offsets − committed). */
  lag(): Promise<number>;
  /** The same, per topic partition. */
  partitionLag(): Promise<PartitionLag[]>;
  /** Waits until everything on the topics now has been processed and committed. */
  drain(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * The Lambda event source mapping for Kafka, emulated with kafkajs: a consumer group reads
 * the topics, the Dispatcher turns records into Lambda events and invokes the function, and
 * offsets are committed only after the function succeeded. Records reach the dispatcher in
 * fetch order and leave it in that order, one event at a time, which keeps each partition
 * in order; a failed event is retried unchanged, so nothing behind it is committed first.
 */
export async function startKafkaPoller(options: KafkaPollerOptions): Promise<KafkaPoller> {
  const kafka = new Kafka({
    clientId: options.clientId ?? 'anomaly-detector-poller',
    brokers: [...options.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2000 },
  });
  const sessionTimeout = options.sessionTimeoutMs ?? 6000;
  const heartbeatInterval = options.heartbeatIntervalMs ?? 500;
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout,
    rebalanceTimeout: sessionTimeout * 2,
    heartbeatInterval,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 200,
    allowAutoTopicCreation: true,
  });
  const admin = kafka.admin();
  const counter = new StatsCounter();
  const committed = new Map<string, number>();
  const maxBufferedRecords = Math.max(
    2 * (options.batching?.batchSize ?? LAMBDA_KAFKA_DEFAULTS.batchSize),
    500,
  );

  const dispatcher = new Dispatcher({
    source: options.source,
    invoke: options.invoke,
    batching: options.batching,
    retry: options.retry,
    commit: async (offsets) => {
      await consumer.commitOffsets(offsets.map((o) => ({ ...o, offset: String(o.offset) })));
    },
    hooks: counter.wrap({
      ...options.hooks,
      committed(offsets: readonly PartitionOffset[]) {
        for (const o of offsets) committed.set(`${o.topic}\u0000${o.partition}`, o.offset);
        options.hooks?.committed?.(offsets);
      },
    }),
  });

  let resolveReady = () => {};
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => resolveReady());
  // Records read ahead for partitions that may move to another consumer are given back.
  consumer.on(consumer.events.REBALANCING, () => dispatcher.withdrawAll());

  await admin.connect();
  await consumer.connect();
  for (const topic of options.topics) {
    await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true });
  }
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    // Every partition's batch can wait in the dispatcher at once, so one event may hold
    // records of several partitions, as Lambda's do.
    partitionsConsumedConcurrently: 64,
    eachBatch: async (payload) => {
      const { batch } = payload;
      const records = batch.messages.map((m) => toPolledRecord(batch.topic, batch.partition, m));
      counter.received(records.length);
      // Read ahead while the batching window is open, as Lambda's pollers do: resolving only
      // moves kafkajs's fetch position; the group's committed offset moves after success.
      dispatcher.offer(records);
      payload.resolveOffset(batch.lastOffset());
      try {
        await waitWithHeartbeats(
          dispatcher.whenBelow(maxBufferedRecords),
          payload,
          heartbeatInterval,
        );
      } catch (error) {
        // A rebalance: give back what was not sent; the new owner resumes from the commit.
        dispatcher.withdrawAll();
        if (error instanceof DispatcherStoppedError) return;
        throw error;
      }
    },
  });

  /** Per partition: [first offset still on the broker, end offset]. */
  const logRanges = async () => {
    const ranges = new Map<string, [number, number]>();
    for (const topic of options.topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        ranges.set(`${topic}\u0000${p.partition}`, [Number(p.low), Number(p.high)]);
      }
    }
    return ranges;
  };

  /** The group's committed offsets: ours, or the broker's for partitions we did not commit yet. */
  const committedOffsets = async () => {
    const result = new Map(committed);
    for (const { topic, partitions } of await admin.fetchOffsets({
      groupId: options.groupId,
      topics: [...options.topics],
    })) {
      for (const p of partitions) {
        const id = `${topic}\u0000${p.partition}`;
        const offset = Number(p.offset);
        if (offset >= 0 && offset > (result.get(id) ?? -1)) result.set(id, offset);
      }
    }
    return result;
  };

  const partitionLag = async (): Promise<PartitionLag[]> => {
    const [ranges, done] = await Promise.all([logRanges(), committedOffsets()]);
    return [...ranges].map(([id, [low, high]]) => {
      const [topic = '', partition = '0'] = id.split('\u0000');
      return {
        topic,
        partition: Number(partition),
        lag: Math.max(0, high - Math.max(low, done.get(id) ?? 0)),
      };
    });
  };
  const lag = async () => (await partitionLag()).reduce((sum, p) => sum + p.lag, 0);

  let stopped = false;
  return {
    ready,
    stats: () => counter.snapshot(dispatcher.pendingRecords),
    lag,
    partitionLag,
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const targets = await logRanges();
      while (Date.now() < deadline) {
        const done = await committedOffsets();
        const behind = [...targets].some(
          ([id, [low, high]]) => high > low && (done.get(id) ?? 0) < high,
        );
        if (!behind) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await dispatcher.stop();
      await consumer.disconnect();
      await admin.disconnect();
    },
  };
}

/** Keeps the group membership alive while records wait for the function (or its retries). */
async function waitWithHeartbeats(
  done: Promise<void>,
  payload: EachBatchPayload,
  intervalMs: number,
): Promise<void> {
  let finished = false;
  const settled = done.finally(() => {
    finished = true;
  });
  while (!finished) {
    const tick = new Promise<void>((resolve) => setTimeout(resolve, intervalMs));
    await Promise.race([settled, tick]);
    if (finished) break;
    if (!payload.isRunning() || payload.isStale())
      throw new DispatcherStoppedError('partition no longer consumed');
    // A rebalance surfaces here as an error: the records go back and the group rejoins.
    await payload.heartbeat();
  }
  await settled;
}

export function toPolledRecord(
  topic: string,
  partition: number,
  message: KafkaMessage,
): PolledRecord {
  const context = (message as { batchContext?: { timestampType?: number } }).batchContext;
  const headers: [string, Uint8Array][] = [];
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    // kafkajs folds a repeated header key into an array; Lambda lists each occurrence.
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === undefined) continue;
      headers.push([name, typeof v === 'string' ? Buffer.from(v) : v]);
    }
  }
  return {
    topic,
    partition,
    offset: Number(message.offset),
    timestampMs: Number(message.timestamp),
    timestampType: context?.timestampType === 1 ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
    key: message.key,
    value: message.value,
    headers,
  };
}
