import {
  buildLambdaEvent,
  type EventSourceInfo,
  type LambdaKafkaEvent,
  lambdaRecordBytes,
  type PolledRecord,
} from './lambda-event.ts';

export interface BatchingOptions {
  /** Records per invocation. @default 100 (Lambda's default for Kafka sources) */
  readonly batchSize?: number;
  /** How long to gather records before invoking with fewer than batchSize. @default 500 (Lambda's Kafka default) */
  readonly batchingWindowMs?: number;
  /** Upper bound of an event's JSON size. @default 6 MiB (Lambda's synchronous payload limit) */
  readonly maxPayloadBytes?: number;
}

export interface RetryOptions {
  /** Wait before the first retry of a failed batch; doubles each time. @default 500 */
  readonly initialBackoffMs?: number;
  /** @default 30_000 */
  readonly maxBackoffMs?: number;
}

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read: last processed + 1, as Kafka commits it. */
  readonly offset: number;
}

export interface DispatchHooks {
  /** After each successful invocation, before its offsets are committed. */
  invoked?(info: {
    event: LambdaKafkaEvent;
    records: number;
    attempt: number;
    durationMs: number;
    result: unknown;
  }): void;
  /** After a failed invocation; the same event is sent again after `retryInMs`. */
  failed?(info: {
    event: LambdaKafkaEvent;
    records: number;
    attempt: number;
    error: unknown;
    retryInMs: number;
  }): void;
  committed?(offsets: readonly PartitionOffset[]): void;
  commitFailed?(offsets: readonly PartitionOffset[], error: unknown): void;
}

export interface DispatcherOptions {
  readonly source: EventSourceInfo;
  /** The function under test: resolves on success, throws to fail the whole batch. */
  readonly invoke: (event: LambdaKafkaEvent) => Promise<unknown>;
  /** Makes a successful batch's offsets durable (Kafka: the consumer group commit). */
  readonly commit?: (offsets: readonly PartitionOffset[]) => Promise<void>;
  readonly batching?: BatchingOptions;
  readonly retry?: RetryOptions;
  readonly hooks?: DispatchHooks;
  /** @default Date.now */
  readonly now?: () => number;
}

export class DispatcherStoppedError extends Error {
  override readonly name = 'DispatcherStoppedError';
}

/** What the caller of `offer` holds: settles once every offered record is processed. */
export interface Offer {
  readonly done: Promise<void>;
  /** Takes back the records not yet sent (e.g. the partition was revoked); `done` rejects. */
  withdraw(): void;
}

interface OfferState {
  remaining: number;
  settled: boolean;
  resolve(): void;
  reject(error: Error): void;
}

interface Pending {
  readonly record: PolledRecord;
  readonly bytes: number;
  readonly offer: OfferState;
}

export const LAMBDA_KAFKA_DEFAULTS = {
  batchSize: 100,
  batchingWindowMs: 500,
  maxPayloadBytes: 6 * 1024 * 1024,
  initialBackoffMs: 500,
  maxBackoffMs: 30_000,
} as const;

/**
 * The heart of the event source mapping emulation: gathers records into batches (batch
 * size, batching window, payload limit), invokes the function with one Lambda event at a
 * time, retries a failed event unchanged with exponential backoff until it succeeds (no
 * record is skipped), and only then commits offsets and tells the record sources.
 * Records of one partition are sent in the order offered, so each partition stays ordered.
 */
export class Dispatcher {
  private readonly pending: Pending[] = [];
  private pendingBytes = 0;
  private pendingSinceMs = 0;
  private flushRequested = false;
  private stopping = false;
  private busy = false;
  private wake: (() => void) | null = null;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly capacityWaiters: { limit: number; resolve(): void }[] = [];
  private readonly loop: Promise<void>;
  private readonly batchSize: number;
  private readonly windowMs: number;
  private readonly maxBytes: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly now: () => number;

  constructor(private readonly options: DispatcherOptions) {
    this.batchSize = options.batching?.batchSize ?? LAMBDA_KAFKA_DEFAULTS.batchSize;
    this.windowMs = options.batching?.batchingWindowMs ?? LAMBDA_KAFKA_DEFAULTS.batchingWindowMs;
    this.maxBytes = options.batching?.maxPayloadBytes ?? LAMBDA_KAFKA_DEFAULTS.maxPayloadBytes;
    this.initialBackoffMs =
      options.retry?.initialBackoffMs ?? LAMBDA_KAFKA_DEFAULTS.initialBackoffMs;
    this.maxBackoffMs = options.retry?.maxBackoffMs ?? LAMBDA_KAFKA_DEFAULTS.maxBackoffMs;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10_000) {
      throw new RangeError(`batchSize must be an integer from 1 to 10000 (got ${this.batchSize})`);
    }
    if (!(this.windowMs >= 0 && this.windowMs <= 300_000)) {
      throw new RangeError(`batchingWindowMs must be from 0 to 300000 (got ${this.windowMs})`);
    }
    this.loop = this.run();
  }

  /** Queues records for the function; the same partition must not be offered again before `done`. */
  offer(records: readonly PolledRecord[]): Offer {
    let state: OfferState | undefined;
    const done = new Promise<void>((resolve, reject) => {
      state = { remaining: records.length, settled: false, resolve, reject };
    });
    const offer = state as OfferState;
    // Callers that withdraw or stop need not handle the rejection themselves.
    done.catch(() => {});
    if (this.stopping) {
      settle(offer, new DispatcherStoppedError('the poller is stopping'));
      return { done, withdraw() {} };
    }
    if (records.length === 0) {
      settle(offer);
      return { done, withdraw() {} };
    }
    if (this.pending.length === 0) this.pendingSinceMs = this.now();
    for (const record of records) {
      const bytes = lambdaRecordBytes(record);
      this.pending.push({ record, bytes, offer });
      this.pendingBytes += bytes;
    }
    this.notify();
    return {
      done,
      withdraw: () => {
        if (offer.settled) return;
        this.removePending((p) => p.offer === offer);
        settle(offer, new DispatcherStoppedError('records withdrawn'));
      },
    };
  }

  /** Sends what is pending now, without waiting for the window, and resolves once idle. */
  async flush(): Promise<void> {
    if (this.pending.length === 0 && !this.busy) return;
    this.flushRequested = true;
    this.notify();
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves once fewer than `limit` records wait to be sent (or on stop): lets a source keep
   * reading ahead during the batching window without buffering without bound.
   */
  whenBelow(limit: number): Promise<void> {
    if (this.pending.length < limit || this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => this.capacityWaiters.push({ limit, resolve }));
  }

  /** Gives back every record not yet sent (e.g. on a rebalance: the broker will redeliver them). */
  withdrawAll(): void {
    this.removePending(() => true, new DispatcherStoppedError('records withdrawn'));
    this.releaseCapacity();
  }

  get pendingRecords(): number {
    return this.pending.length;
  }

  /**
   * Stops after the invocation in flight (no further retries); records not processed are
   * given back (their offers reject), so their offsets stay uncommitted.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.notify();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (this.pending.length === 0) {
        this.flushRequested = false;
        for (const resolve of this.idleWaiters.splice(0)) resolve();
        await this.sleep();
        continue;
      }
      const full = this.pending.length >= this.batchSize || this.pendingBytes >= this.maxBytes;
      const waitMs = this.pendingSinceMs + this.windowMs - this.now();
      if (!full && !this.flushRequested && waitMs > 0) {
        await this.sleep(waitMs);
        continue;
      }
      await this.dispatch(this.cut());
    }
    this.removePending(() => true, new DispatcherStoppedError('the poller stopped'));
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    this.releaseCapacity();
  }

  private releaseCapacity(): void {
    for (let i = this.capacityWaiters.length - 1; i >= 0; i -= 1) {
      const waiter = this.capacityWaiters[i] as { limit: number; resolve(): void };
      if (this.stopping || this.pending.length < waiter.limit) {
        this.capacityWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /** Takes the oldest records that fit in one event (always at least one). */
  private cut(): Pending[] {
    let count = 0;
    let bytes = 0;
    for (const p of this.pending) {
      if (count >= this.batchSize || (count > 0 && bytes + p.bytes > this.maxBytes)) break;
      count += 1;
      bytes += p.bytes;
    }
    const batch = this.pending.splice(0, count);
    this.pendingBytes -= bytes;
    // What is left over starts a new window now, as a new poll would.
    if (this.pending.length > 0) this.pendingSinceMs = this.now();
    this.releaseCapacity();
    return batch;
  }

  private async dispatch(batch: Pending[]): Promise<void> {
    this.busy = true;
    try {
      const records = batch.map((p) => p.record);
      const event = buildLambdaEvent(records, this.options.source);
      for (let attempt = 1; ; attempt += 1) {
        const startedMs = this.now();
        try {
          const result = await this.options.invoke(event);
          this.options.hooks?.invoked?.({
            event,
            records: records.length,
            attempt,
            durationMs: this.now() - startedMs,
            result,
          });
          break;
        } catch (error) {
          const retryInMs = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (attempt - 1));
          this.options.hooks?.failed?.({
            event,
            records: records.length,
            attempt,
            error,
            retryInMs,
          });
          if (!this.stopping) await this.sleep(retryInMs, true);
          if (this.stopping) {
            for (const p of batch)
              settle(p.offer, new DispatcherStoppedError('stopped while retrying a failed batch'));
            return;
          }
        }
      }
      const offsets = nextOffsets(records);
      try {
        await this.options.commit?.(offsets);
        this.options.hooks?.committed?.(offsets);
      } catch (error) {
        // The batch did succeed; an uncommitted offset only means it may be delivered again.
        this.options.hooks?.commitFailed?.(offsets, error);
      }
      for (const p of batch) {
        p.offer.remaining -= 1;
        if (p.offer.remaining === 0) settle(p.offer);
      }
    } finally {
      this.busy = false;
    }
  }

  private removePending(match: (p: Pending) => boolean, error?: Error): void {
    for (let i = this.pending.length - 1; i >= 0; i -= 1) {
      const p = this.pending[i] as Pending;
      if (!match(p)) continue;
      this.pending.splice(i, 1);
      this.pendingBytes -= p.bytes;
      if (error !== undefined) settle(p.offer, error);
    }
  }

  private notify(): void {
    this.wake?.();
  }

  /** Waits for `ms`, or until notified (unless `onlyStop`: then only stop() cuts it short). */
  private sleep(ms?: number, onlyStop = false): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      this.wake = onlyStop ? () => this.stopping && done() : done;
      if (ms !== undefined) timer = setTimeout(done, ms);
    });
  }
}

function settle(offer: OfferState, error?: Error): void {
  if (offer.settled) return;
  offer.settled = true;
  if (error === undefined) offer.resolve();
  else offer.reject(error);
}

/** Per partition, the offset after the last record of the batch. */
export function nextOffsets(records: readonly PolledRecord[]): PartitionOffset[] {
  const last = new Map<string, PartitionOffset>();
  for (const r of records) {
    const id = `${r.topic}\u0000${r.partition}`;
    const seen = last.get(id);
    if (seen === undefined || r.offset + 1 > seen.offset) {
      last.set(id, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
    }
  }
  return [...last.values()];
}
