import type { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import type {
  AlertPublisher,
  BucketShardWrite,
  ClaimRequest,
  JournalWrite,
  LoadRequest,
  Snapshot,
  StateShardWrite,
  WindowStore,
} from '../../functions/ports.ts';

export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
}

/**
 * A MemoryWindowStore and publisher that crash right after the N-th call has taken effect,
 * one item at a time, as a Lambda dying between two DynamoDB or SNS requests would.
 */
export class FaultPlan {
  calls = 0;
  constructor(public failAfterCall: number | null) {}

  tick(): void {
    this.calls += 1;
    if (this.calls === this.failAfterCall)
      throw new InjectedFault(`crash after call ${this.calls}`);
  }
}

export class FaultyStore implements WindowStore {
  constructor(
    readonly inner: MemoryWindowStore,
    private readonly plan: FaultPlan,
  ) {}

  async load(request: LoadRequest): Promise<Snapshot> {
    const snapshot = await this.inner.load(request);
    this.plan.tick();
    return snapshot;
  }
  async saveJournals(writes: readonly JournalWrite[]): Promise<void> {
    for (const w of writes) {
      await this.inner.saveJournals([w]);
      this.plan.tick();
    }
  }
  async saveBuckets(writes: readonly BucketShardWrite[], now: number): Promise<void> {
    for (const w of writes) {
      await this.inner.saveBuckets([w], now);
      this.plan.tick();
    }
  }
  async saveStates(writes: readonly StateShardWrite[], now: number): Promise<void> {
    for (const w of writes) {
      await this.inner.saveStates([w], now);
      this.plan.tick();
    }
  }
  async claimHomes(
    claims: readonly ClaimRequest[],
    now: number,
  ): Promise<ReadonlyMap<string, string>> {
    const homes = new Map<string, string>();
    for (const c of claims) {
      for (const [k, v] of await this.inner.claimHomes([c], now)) homes.set(k, v);
      this.plan.tick();
    }
    return homes;
  }
}

export function faultyPublisher(inner: AlertPublisher, plan: FaultPlan): AlertPublisher {
  return {
    async publish(alerts) {
      await inner.publish(alerts);
      plan.tick();
    },
  };
}
