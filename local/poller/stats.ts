import type { DispatchHooks } from './dispatcher.ts';

export interface PollerStats {
  /** Records read from the source (Kafka fetches or the in-process log). */
  readonly recordsReceived: number;
  /** Records in events the function processed successfully. */
  readonly recordsProcessed: number;
  /** Successful invocations. */
  readonly batches: number;
  /** Failed invocations (each one retried). */
  readonly failedInvocations: number;
  readonly commitFailures: number;
  /** Records read but not yet sent to the function. */
  readonly pendingRecords: number;
  readonly lastBatchSize: number;
  readonly lastInvokeMs: number;
}

/** Counts what the dispatcher does, passing every hook on to the caller's. */
export class StatsCounter {
  private recordsReceived = 0;
  private recordsProcessed = 0;
  private batches = 0;
  private failedInvocations = 0;
  private commitFailures = 0;
  private lastBatchSize = 0;
  private lastInvokeMs = 0;

  received(count: number): void {
    this.recordsReceived += count;
  }

  wrap(hooks: DispatchHooks): DispatchHooks {
    return {
      ...hooks,
      invoked: (info) => {
        this.batches += 1;
        this.recordsProcessed += info.records;
        this.lastBatchSize = info.records;
        this.lastInvokeMs = info.durationMs;
        hooks.invoked?.(info);
      },
      failed: (info) => {
        this.failedInvocations += 1;
        hooks.failed?.(info);
      },
      commitFailed: (offsets, error) => {
        this.commitFailures += 1;
        hooks.commitFailed?.(offsets, error);
      },
    };
  }

  snapshot(pendingRecords: number): PollerStats {
    return {
      recordsReceived: this.recordsReceived,
      recordsProcessed: this.recordsProcessed,
      batches: this.batches,
      failedInvocations: this.failedInvocations,
      commitFailures: this.commitFailures,
      pendingRecords,
      lastBatchSize: this.lastBatchSize,
      lastInvokeMs: this.lastInvokeMs,
    };
  }
}

/** Records of one topic partition not yet processed and committed. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}
