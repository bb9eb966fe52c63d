import fc from 'fast-check';
import type { RawRecord } from '../../functions/core/types.ts';
import { toRawRecord } from './kafka-events.ts';
import { TOPIC } from './stream-gen.ts';

/**
 * One poll of an event source mapping, per partition: how many new records it takes and
 * how far it rewinds first (records redelivered after a commit that did not stick).
 */
export interface DeliveryStep {
  readonly take: readonly number[];
  readonly rewind: readonly number[];
  /** Also put the batch's first record in it twice. */
  readonly repeatFirst: boolean;
}

export const deliveryStepsArb: fc.Arbitrary<DeliveryStep[]> = fc.array(
  fc.record({
    take: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 4 }),
    rewind: fc.array(fc.constantFrom(0, 0, 0, 0, 1, 2, 5, 30), { minLength: 1, maxLength: 4 }),
    repeatFirst: fc.boolean(),
  }),
  { minLength: 1, maxLength: 12 },
);

/**
 * Batches as an at-least-once event source may deliver a stream: each partition in offset
 * order without gaps, cut anywhere, partitions mixed in any proportion, ranges redelivered
 * after an earlier delivery. Every record is delivered at least once.
 */
export function deliveryBatches(
  records: readonly RawRecord[],
  steps: readonly DeliveryStep[],
): RawRecord[][] {
  const partitions = new Map<string, RawRecord[]>();
  for (const r of records) {
    const id = `${r.topic}#${r.partition}`;
    const list = partitions.get(id) ?? [];
    list.push(r);
    partitions.set(id, list);
  }
  const lists = [...partitions.values()];
  const position = lists.map(() => 0);
  const batches: RawRecord[][] = [];
  for (let i = 0; lists.some((list, k) => (position[k] ?? 0) < list.length); i += 1) {
    const step = steps[i % steps.length] as DeliveryStep;
    const batch: RawRecord[] = [];
    let fresh = 0;
    lists.forEach((list, k) => {
      const at = position[k] ?? 0;
      const take = step.take[k % step.take.length] ?? 0;
      const rewind = Math.min(step.rewind[k % step.rewind.length] ?? 0, at);
      const end = Math.min(list.length, at + take);
      batch.push(...list.slice(at - rewind, end));
      fresh += end - at;
      position[k] = end;
    });
    if (fresh === 0) {
      // Keep the stream moving: the first partition with records left gives one.
      const k = lists.findIndex((list, j) => (position[j] ?? 0) < list.length);
      const list = lists[k] as RawRecord[];
      batch.push(list[position[k] ?? 0] as RawRecord);
      position[k] = (position[k] ?? 0) + 1;
    }
    if (step.repeatFirst && batch[0] !== undefined) batch.push(batch[0]);
    batches.push(batch);
  }
  return batches;
}

const START_MS = Date.parse('2026-11-21T10:00:00Z');

interface UnkeyedGen {
  readonly sensor: number;
  readonly partition: number;
  readonly spike: boolean;
  readonly invalid: boolean;
  readonly value: number;
  readonly advanceMs: number;
  readonly lateByMs: number | null;
}

/**
 * Streams from an unkeyed producer: every sensor's readings spread over two partitions.
 * Values are integers or halves, so aggregates are exact whatever the order of addition.
 */
export const unkeyedStreamArb: fc.Arbitrary<RawRecord[]> = fc
  .array(
    fc.record({
      sensor: fc.integer({ min: 0, max: 2 }),
      partition: fc.integer({ min: 0, max: 1 }),
      spike: fc.boolean(),
      invalid: fc.constantFrom(false, false, false, false, false, false, false, true),
      value: fc.integer({ min: 40, max: 60 }),
      advanceMs: fc.integer({ min: 0, max: 2500 }),
      lateByMs: fc.option(fc.integer({ min: 0, max: 12_000 }), { freq: 4 }),
    }),
    { minLength: 2, maxLength: 50 },
  )
  .map((gens: UnkeyedGen[]) => {
    const offsets = [0, 0];
    let timeMs = START_MS;
    return gens.map((g, i) => {
      timeMs += g.advanceMs;
      const offset = offsets[g.partition] ?? 0;
      offsets[g.partition] = offset + 1;
      const sensorId = `sensor_${g.sensor}`;
      // About one reading in six is a spike.
      const value = g.spike && i % 3 === 0 ? g.value * 3 + 20.5 : g.value;
      const text = g.invalid
        ? `${sensorId},NaN`
        : g.lateByMs === null
          ? `${sensorId},${value}`
          : `${sensorId},${value},${timeMs - g.lateByMs}`;
      return toRawRecord({
        topic: TOPIC,
        partition: g.partition,
        offset,
        timestampMs: timeMs,
        key: null,
        value: text,
      });
    });
  });

/** The records of one partition, in offset order. */
export function partitionRecords(records: readonly RawRecord[], partition: number): RawRecord[] {
  return records.filter((r) => r.partition === partition).sort((a, b) => a.offset - b.offset);
}

/**
 * A fixed stream for call-by-call fault sweeps: two keyed sensors on two partitions, spikes,
 * late readings and one invalid record, cut into three batches.
 */
export function sweepStream(count = 40): { records: RawRecord[]; batches: RawRecord[][] } {
  const records: RawRecord[] = [];
  const offsets = [0, 0];
  for (let i = 0; i < count; i += 1) {
    const sensor = i % 2;
    const value = i % 7 === 3 ? 190 : 50 + (i % 5);
    const late = i % 9 === 4 ? `,${START_MS + i * 700 - 6000}` : '';
    const offset = offsets[sensor] ?? 0;
    offsets[sensor] = offset + 1;
    records.push(
      toRawRecord({
        topic: TOPIC,
        partition: sensor,
        offset,
        timestampMs: START_MS + i * 700,
        key: `sensor_${sensor}`,
        value: i === 11 ? 'sensor_1,NaN' : `sensor_${sensor},${value}${late}`,
      }),
    );
  }
  const cut = (f: number) => Math.floor(f * records.length);
  return {
    records,
    batches: [
      records.slice(0, cut(0.3)),
      records.slice(cut(0.3), cut(0.65)),
      records.slice(cut(0.65)),
    ],
  };
}

/** Detection settings of the sweep stream: the default threshold, a short cooldown. */
export const SWEEP_SETTINGS = {
  slideMs: 5000,
  windowMs: 10_000,
  defaultDetector: { kind: 'threshold', threshold: 50 },
  rules: [],
  alertCooldownMs: 3000,
  // Recorded streams replayed later and judged as live: freshness has laws of its own.
  freshnessSeconds: 0,
  retentionMarginSeconds: 3600,
} as const;
