import type { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import type {
  Page,
  PageKey,
  PageWrite,
  PartitionRoot,
  PartitionStore,
} from '../../functions/batch/state.ts';
import type { AlertPublisher } from '../../functions/ports.ts';

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

export class FaultyStore implements PartitionStore {
  constructor(
    readonly inner: MemoryWindowStore,
    private readonly plan: FaultPlan,
  ) {}

  get limits() {
    return this.inner.limits;
  }
  async readRoots(pids: readonly string[]): Promise<ReadonlyMap<string, PartitionRoot>> {
    const roots = await this.inner.readRoots(pids);
    this.plan.tick();
    return roots;
  }
  async readPages(keys: readonly PageKey[], now: number): Promise<ReadonlyMap<string, Page>> {
    const pages = await this.inner.readPages(keys, now);
    this.plan.tick();
    return pages;
  }
  async putPages(writes: readonly PageWrite[]): Promise<void> {
    for (const w of writes) {
      await this.inner.putPages([w]);
      this.plan.tick();
    }
  }
  async commitRoot(pid: string, root: PartitionRoot, expected: number | null): Promise<void> {
    await this.inner.commitRoot(pid, root, expected);
    this.plan.tick();
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
