import fc from 'fast-check';
import { parseReading } from '../../functions/core/parse-reading.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { shardOf } from '../../functions/process-batch.ts';
import { cutAt } from './kafka-events.ts';

/** The keyed topic the repartition step writes. */
export const KEYED_TOPIC = 'sensor-data-by-sensor';

/**
 * How the repartition step (a stateless function on the unkeyed topic) met failures: each
 * source partition's records are consumed in batches (cuts); a batch may fail after it
 * produced a prefix (`retryAfter` of its records), and its retry produces the whole batch
 * again; the source partitions' productions reach the keyed topic interleaved (`mix`).
 */
export interface RepartitionRun {
  readonly cuts: readonly number[];
  readonly retryAfter: readonly (number | null)[];
  readonly mix: readonly boolean[];
  readonly partitions: number;
}

export const repartitionRunArb: fc.Arbitrary<RepartitionRun> = fc.record({
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
  retryAfter: fc.array(fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 2 }), {
    minLength: 1,
    maxLength: 5,
  }),
  mix: fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
  partitions: fc.integer({ min: 1, max: 3 }),
});

/**
 * A model of the repartition step: re-produces an unkeyed topic's records keyed by sensor id,
 * in source-offset order per source partition, with the original timestamp and the source's
 * topic, partition and offset (the `source-*` headers, here `origin`). A record without a
 * sensor id goes to partition 0. Copies of a failed batch's prefix are produced again, as
 * kafkajs does after a retry.
 */
export function repartition(source: readonly RawRecord[], run: RepartitionRun): RawRecord[] {
  const bySource = new Map<number, RawRecord[]>();
  for (const r of [...source].sort((a, b) => a.offset - b.offset)) {
    const list = bySource.get(r.partition) ?? [];
    list.push(r);
    bySource.set(r.partition, list);
  }
  // Each source partition's production sequence, duplicates included.
  const produced: RawRecord[][] = [];
  let batchNo = 0;
  for (const [, records] of [...bySource].sort(([a], [b]) => a - b)) {
    const sequence: RawRecord[] = [];
    for (const batch of cutAt(records, run.cuts)) {
      const retry = run.retryAfter[batchNo % run.retryAfter.length] ?? null;
      batchNo += 1;
      if (retry !== null) sequence.push(...batch.slice(0, Math.ceil(retry * batch.length)));
      sequence.push(...batch);
    }
    produced.push(sequence);
  }
  // Interleaved as the source partitions' invocations ran side by side.
  const next = produced.map(() => 0);
  const offsets = new Array<number>(run.partitions).fill(0);
  const out: RawRecord[] = [];
  for (let step = 0; next.some((n, i) => n < (produced[i]?.length ?? 0)); step += 1) {
    const open = produced
      .map((_, i) => i)
      .filter((i) => (next[i] ?? 0) < (produced[i]?.length ?? 0));
    const pick = open[(run.mix[step % run.mix.length] ? 1 : 0) % open.length] as number;
    const r = (produced[pick] as RawRecord[])[next[pick] as number] as RawRecord;
    next[pick] = (next[pick] as number) + 1;
    const parsed = parseReading(r);
    const sensorId = parsed.ok ? parsed.reading.sensorId : null;
    const partition = sensorId === null ? 0 : shardOf(sensorId, run.partitions);
    const offset = offsets[partition] as number;
    offsets[partition] = offset + 1;
    out.push({
      topic: KEYED_TOPIC,
      partition,
      offset,
      timestampMs: r.timestampMs,
      key: sensorId === null ? null : new TextEncoder().encode(sensorId),
      value: r.value,
      origin: { topic: r.topic, partition: r.partition, offset: r.offset },
    });
  }
  return out;
}

/** The keyed stream without the copies (the first production of each source record kept). */
export function withoutCopies(keyed: readonly RawRecord[]): RawRecord[] {
  const seen = new Set<string>();
  return keyed.filter((r) => {
    const id = `${r.origin?.topic}#${r.origin?.partition}#${r.origin?.offset}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
