import {
  type BatchingOptions,
  Dispatcher,
  DispatcherStoppedError,
  type DispatchHooks,
  type RetryOptions,
} from './dispatcher.ts';
import type { EventSourceInfo, LambdaKafkaEvent, PolledRecord } from './lambda-event.ts';
import { type PartitionLag, type PollerStats, StatsCounter } from './stats.ts';

export interface LogMessage {
  readonly key?: string | Uint8Array | null;
  readonly value: string | Uint8Array | null;
  readonly headers?: Readonly<Record<string, string | Uint8Array>>;
  readonly timestampMs?: number;
}

/**
 * A topic in memory for machines without a broker: partitions chosen by key as a Kafka
 * producer would (records of one key stay in one partition, in order), offsets from 0.
 */
export class InProcessTopic {
  private readonly partitions: PolledRecord[][];
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly partitionCount = 4,
    private readonly now: () => number = Date.now,
  ) {
    this.partitions = Array.from({ length: partitionCount }, () => []);
  }

  append(messages: readonly LogMessage[]): void {
    let roundRobin = 0;
    for (const m of messages) {
      const key = toBytes(m.key ?? null);
      const partition =
        key === null ? roundRobin++ % this.partitionCount : hashPartition(key, this.partitionCount);
      const log = this.partitions[partition] as PolledRecord[];
      log.push({
        topic: this.name,
        partition,
        offset: log.length,
        timestampMs: m.timestampMs ?? this.now(),
        timestampType: 'CREATE_TIME',
        key,
        value: toBytes(m.value),
        headers: Object.entries(m.headers ?? {}).map(
          ([k, v]) => [k, toBytes(v) as Uint8Array] as const,
        ),
      });
    }
    for (const listener of this.listeners) listener();
  }

  read(partition: number, fromOffset: number, max: number): PolledRecord[] {
    return (this.partitions[partition] ?? []).slice(fromOffset, fromOffset + max);
  }

  endOffset(partition: number): number {
    return this.partitions[partition]?.length ?? 0;
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export interface InProcessPollerOptions {
  readonly topic: InProcessTopic;
  readonly source: EventSourceInfo;
  readonly invoke: (event: LambdaKafkaEvent) => Promise<unknown>;
  readonly batching?: BatchingOptions;
  readonly retry?: RetryOptions;
  readonly hooks?: DispatchHooks;
  /** Records read per partition per poll, like a fetch's size limit. @default 500 */
  readonly maxRecordsPerPoll?: number;
}

export interface InProcessPoller {
  stats(): PollerStats;
  lag(): number;
  /** Records not yet committed, per partition. */
  partitionLag(): PartitionLag[];
  drain(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * The same event source mapping (Dispatcher: batching, Lambda events, retries, commit after
 * success) reading an InProcessTopic instead of a broker. Each partition is read by its own
 * loop that offers the next records only once the previous ones are processed.
 */
export function startInProcessPoller(options: InProcessPollerOptions): InProcessPoller {
  const { topic } = options;
  const counter = new StatsCounter();
  const committed = Array.from({ length: topic.partitionCount }, () => 0);
  const dispatcher = new Dispatcher({
    source: options.source,
    invoke: options.invoke,
    batching: options.batching,
    retry: options.retry,
    commit: async (offsets) => {
      for (const o of offsets)
        committed[o.partition] = Math.max(committed[o.partition] ?? 0, o.offset);
    },
    hooks: counter.wrap(options.hooks ?? {}),
  });
  const maxPerPoll = options.maxRecordsPerPoll ?? 500;
  let stopping = false;
  const waiters = new Set<() => void>();
  const wakeAll = () => {
    for (const resolve of waiters) resolve();
    waiters.clear();
  };
  const unsubscribe = topic.onAppend(wakeAll);

  const readPartition = async (partition: number) => {
    let position = 0;
    while (!stopping) {
      const records = topic.read(partition, position, maxPerPoll);
      if (records.length === 0) {
        await new Promise<void>((resolve) => {
          waiters.add(resolve);
          setTimeout(() => {
            waiters.delete(resolve);
            resolve();
          }, 200);
        });
        continue;
      }
      counter.received(records.length);
      try {
        await dispatcher.offer(records).done;
      } catch (error) {
        if (error instanceof DispatcherStoppedError) return;
        throw error;
      }
      position += records.length;
    }
  };
  const readers = Array.from({ length: topic.partitionCount }, (_, p) => readPartition(p));

  const partitionLag = (): PartitionLag[] =>
    committed.map((offset, partition) => ({
      topic: topic.name,
      partition,
      lag: topic.endOffset(partition) - offset,
    }));
  const lag = () => partitionLag().reduce((sum, p) => sum + p.lag, 0);
  return {
    stats: () => counter.snapshot(dispatcher.pendingRecords),
    lag,
    partitionLag,
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const targets = committed.map((_, p) => topic.endOffset(p));
      while (Date.now() < deadline) {
        if (targets.every((end, p) => (committed[p] ?? 0) >= end)) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    },
    async stop() {
      stopping = true;
      unsubscribe();
      wakeAll();
      await dispatcher.stop();
      await Promise.all(readers);
    },
  };
}

function toBytes(value: string | Uint8Array | null): Uint8Array | null {
  if (value === null) return null;
  return typeof value === 'string' ? Buffer.from(value) : value;
}

/** FNV-1a: stable, and enough to spread sensor ids over partitions. */
function hashPartition(key: Uint8Array, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of key) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
