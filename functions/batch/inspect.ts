import type { Aggregate } from '../core/types.ts';
import { currentBucketRefs, indexKey } from './bucket-refs.ts';
import { BUCKET_PAGE_SENSORS, DICT_PAGE_SENSORS, STATE_PAGE_SENSORS } from './layout.ts';
import type {
  BucketPage,
  DictPage,
  IndexPage,
  Page,
  PageKey,
  PartitionRoot,
  SensorState,
  StatePage,
} from './state.ts';

export interface MaterializedState {
  /** `<sensorId>\u0000<bucketStartMs>` → aggregates, summed over partitions. */
  readonly buckets: Map<string, Aggregate>;
  /** Sensor id → its state (the last partition's, if several hold it). */
  readonly sensors: Map<string, SensorState>;
}

/**
 * What the current pages of every root say, sensor by sensor: for tools and tests that look
 * at a store from outside (the use case never needs it). `page` returns a page by key, or
 * undefined when it is absent.
 */
export function materialize(
  roots: ReadonlyMap<string, PartitionRoot>,
  page: (key: PageKey) => Page | undefined,
): MaterializedState {
  const buckets = new Map<string, Aggregate>();
  const sensors = new Map<string, SensorState>();
  for (const [pid, root] of roots) {
    const t = root.pages;
    const ids: string[] = [];
    t.dict.forEach((ref, chunk) => {
      const p = page({ pid, kind: 'dict', scope: 0, chunk, gen: ref.gen }) as DictPage | undefined;
      for (let i = 0; i < DICT_PAGE_SENSORS && chunk * DICT_PAGE_SENSORS + i < t.sensors; i += 1)
        ids.push(p?.ids[i] ?? `?${chunk * DICT_PAGE_SENSORS + i}`);
    });
    const refs = currentBucketRefs(
      t,
      (ref) => page(indexKey(pid, ref)) as IndexPage | undefined,
      Number.NEGATIVE_INFINITY,
    );
    for (const b of refs.values()) {
      b.chunks.forEach((gen, chunk) => {
        if (gen === null) return;
        const p = page({ pid, kind: 'bucket', scope: b.startMs, chunk, gen }) as
          | BucketPage
          | undefined;
        if (p === undefined) return;
        p.count.forEach((count, slot) => {
          if (count === 0) return;
          const id = `${ids[chunk * BUCKET_PAGE_SENSORS + slot]}\u0000${b.startMs}`;
          const before = buckets.get(id);
          const sumSq = p.sumSq === null ? Number.NaN : (p.sumSq[slot] as number);
          buckets.set(id, {
            count: (before?.count ?? 0) + count,
            sum: (before?.sum ?? 0) + (p.sum[slot] as number),
            sumSq: (before?.sumSq ?? 0) + sumSq,
          });
        });
      });
    }
    t.state.forEach((ref, chunk) => {
      if (ref === null) return;
      const p = page({ pid, kind: 'state', scope: 0, chunk, gen: ref.gen }) as
        | StatePage
        | undefined;
      for (const [slot, s] of p?.entries ?? [])
        sensors.set(ids[chunk * STATE_PAGE_SENSORS + slot] as string, s);
    });
  }
  return { buckets, sensors };
}
