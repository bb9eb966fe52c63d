import { MemoryWindowStore } from '../../../functions/adapters/memory-window-store.ts';
import { StoreConflictError } from '../../../functions/adapters/store-errors.ts';
import type { AlertDecision, RawRecord } from '../../../functions/core/types.ts';
import { createBatchProcessor, type DetectionSettings } from '../../../functions/process-batch.ts';
import { PipelineProbe } from '../../helpers/pipeline-probe.ts';

/** What a verdict decided, as a serial run and a concurrent one must agree on it. */
function verdict(d: AlertDecision): string {
  const a = d.anomaly;
  return JSON.stringify([a.alertId, a.value, a.mean, a.count, d.notify, d.heldBackBefore]);
}

function copyOf(store: MemoryWindowStore): MemoryWindowStore {
  const copy = new MemoryWindowStore();
  for (const [id, item] of store.buckets) copy.buckets.set(id, structuredClone(item));
  for (const [id, item] of store.states) copy.states.set(id, structuredClone(item));
  for (const [id, item] of store.journals) copy.journals.set(id, structuredClone(item));
  for (const [id, item] of store.homes) copy.homes.set(id, structuredClone(item));
  return copy;
}

/**
 * A serial order of the partitions' batches (each partition's in its own order) whose
 * verdicts, batch after batch on one store, are exactly `observed` (the anomalies a
 * concurrent run decided, by alert id); null when no order gives them: the concurrent run
 * was not serializable. A depth-first search over the merges that drops an order as soon
 * as one batch's verdicts differ.
 */
export async function serialOrderGiving(
  settings: DetectionSettings,
  nowMs: number,
  partitions: readonly (readonly RawRecord[][])[],
  observed: readonly AlertDecision[],
): Promise<string[] | null> {
  const byBatch = (batch: readonly RawRecord[]) => {
    const ids = new Set(batch.map((r) => `${r.topic}-${r.partition}-${r.offset}`));
    return observed
      .filter((d) => ids.has(d.anomaly.alertId))
      .map(verdict)
      .sort();
  };
  const run = async (store: MemoryWindowStore, batch: readonly RawRecord[]) => {
    const probe = new PipelineProbe();
    const process = createBatchProcessor(settings, {
      store,
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => nowMs,
    });
    for (let attempt = 1; ; attempt += 1) {
      try {
        await process(batch);
        break;
      } catch (error) {
        if (!(error instanceof StoreConflictError) || attempt > 4) throw error;
      }
    }
    return probe.anomalies.map(verdict).sort();
  };
  const search = async (
    store: MemoryWindowStore,
    next: readonly number[],
    order: string[],
  ): Promise<string[] | null> => {
    if (next.every((n, p) => n >= (partitions[p]?.length ?? 0))) return order;
    for (let p = 0; p < partitions.length; p += 1) {
      const batch = partitions[p]?.[next[p] ?? 0];
      if (batch === undefined) continue;
      const copy = copyOf(store);
      const got = await run(copy, batch);
      if (JSON.stringify(got) !== JSON.stringify(byBatch(batch))) continue;
      const found = await search(
        copy,
        next.map((n, q) => (q === p ? n + 1 : n)),
        [...order, `p${p}#${next[p]}`],
      );
      if (found !== null) return found;
    }
    return null;
  };
  return search(
    new MemoryWindowStore(),
    partitions.map(() => 0),
    [],
  );
}
