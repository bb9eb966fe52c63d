import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { bucketStartMs } from '../../functions/core/windows.ts';
import { createBatchProcessor, SHARD_SPLIT_BYTES } from '../../functions/process-batch.ts';
import { FaultPlan, FaultyStore, InjectedFault } from '../helpers/faulty-memory-store.ts';
import { toRawRecord } from '../helpers/kafka-events.ts';
import { memoryBuckets, unionAggregates } from '../helpers/table-state.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');
const SETTINGS = {
  slideMs: 5000,
  windowMs: 10_000,
  defaultDetector: { kind: 'threshold', threshold: 50 },
  rules: [],
  alertCooldownMs: 60_000,
  retentionMarginSeconds: 3600,
} as const;

/** `count` sensors, one reading each, from offset `from`, all in the bucket of T0. */
function readings(from: number, count: number, prefix: string, atMs = T0 + 1000): RawRecord[] {
  return Array.from({ length: count }, (_, i) =>
    toRawRecord({
      offset: from + i,
      timestampMs: atMs,
      value: `${prefix}-sensor-with-a-longer-name-${i},${50 + (i % 3)}`,
    }),
  );
}

function processor(store: FaultyStore | MemoryWindowStore) {
  return createBatchProcessor(SETTINGS, {
    store,
    publisher: { publish: async () => {} },
    nowMs: () => T0 + 60_000,
  });
}

describe('bucket shards', () => {
  it('split by doubling when a batch of new sensors overfills one, keeping them exact under retries', async () => {
    // Prepare: every sensor seen (claimed) an hour earlier; then a bucket of 100 sensors (one
    // shard), then 6,000 more sensors in the same bucket
    const earlier = [
      ...readings(0, 100, 'a', T0 - 3_600_000),
      ...readings(100, 6000, 'b', T0 - 3_600_000),
    ];
    const first = readings(6100, 100, 'a');
    const second = readings(6200, 6000, 'b');
    const all = [...earlier, ...first, ...second];
    const clean = new MemoryWindowStore();
    for (const batch of [earlier, first, second]) await processor(clean)(batch);
    // Act: the same two batches, crashing after each store call of the second in turn,
    // retried whole by a fresh container
    const counting = new FaultPlan(null);
    const counter = new FaultyStore(new MemoryWindowStore(), counting);
    await processor(counter)(earlier);
    await processor(counter)(first);
    const before = counting.calls;
    await processor(counter)(second);
    const calls = counting.calls - before;
    const outcomes: string[] = [];
    for (let failAt = 1; failAt <= calls; failAt += 1) {
      const store = new MemoryWindowStore();
      await processor(store)(earlier);
      await processor(store)(first);
      const plan = new FaultPlan(failAt);
      await expect(processor(new FaultyStore(store, plan))(second)).rejects.toThrow(InjectedFault);
      await processor(store)(second);
      await processor(store)(second.slice(2000));
      outcomes.push(JSON.stringify([...memoryBuckets(store)].sort()));
    }
    // Assess: more than one shard, each below the split size, sums exact, every retry the same
    const shards = [...clean.buckets]
      .filter(([id]) => id.includes(`\u0000${bucketStartMs(T0, SETTINGS)}\u0000`))
      .map(([, s]) => s);
    expect(shards.length).toBeGreaterThan(1);
    expect(new Set(shards.map((s) => s.shards))).toEqual(new Set([shards.length]));
    for (const s of shards) expect(s.sensors.size * 60).toBeLessThan(SHARD_SPLIT_BYTES);
    expect(memoryBuckets(clean)).toEqual(unionAggregates(all, SETTINGS.slideMs));
    const expected = JSON.stringify([...memoryBuckets(clean)].sort());
    expect(outcomes.every((o) => o === expected)).toBe(true);
    expect(calls).toBeGreaterThan(3);
  });
});
