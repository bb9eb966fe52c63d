import type { MSKEvent } from 'aws-lambda';
import type { RawRecord } from '../functions/core/types.ts';
import { mulberry32 } from '../local/simulator/readings.ts';

/** A fixed start for event times, so every run judges the same stream. */
export const BENCH_T0_MS = Date.parse('2026-11-21T10:00:00Z');
export const BENCH_TOPIC = 'sensor-data';
export const BENCH_PARTITIONS = 4;

export type ReadingFormat = 'csv' | 'json';

export interface BatchShape {
  /** Label in the results table. */
  readonly name: string;
  readonly sensors: number;
  readonly readingsPerSensor: number;
  /** Event-time step between two readings of one sensor (1 Hz sensor = 1000). */
  readonly intervalMs: number;
  readonly format: ReadingFormat;
  /** Shuffle each sensor's event times within its partition (offsets stay in order). */
  readonly outOfOrder?: boolean;
  /** One reading in this many jumps by +500 (an anomaly under the default threshold 50). @default 0 (none) */
  readonly anomalyEvery?: number;
  /** Sensor-id prefix; long ids make bigger items and records. @default 'sensor_' */
  readonly sensorPrefix?: string;
  /** An unkeyed producer: each sensor's readings go round-robin over the partitions. */
  readonly unkeyed?: boolean;
}

/**
 * Readings as a keyed producer sends them: sensor s goes to partition s mod 4, sensors
 * interleaved in time order (every sensor's first reading, then every second one, …), so
 * each partition carries its sensors' readings in offset order like a real topic.
 * Deterministic: the same shape gives byte-identical records on every run.
 */
export function sensorRecords(shape: BatchShape, startMs = BENCH_T0_MS): RawRecord[] {
  const enc = new TextEncoder();
  const random = mulberry32(shape.sensors * 7919 + shape.readingsPerSensor);
  const nextOffset = new Array<number>(BENCH_PARTITIONS).fill(0);
  const prefix = shape.sensorPrefix ?? 'sensor_';
  // Per sensor, the order in which its event times are sent (shuffled when out of order).
  const order = Array.from({ length: shape.sensors }, () => {
    const steps = Array.from({ length: shape.readingsPerSensor }, (_, i) => i);
    if (shape.outOfOrder) shuffle(steps, random);
    return steps;
  });
  const records: RawRecord[] = [];
  for (let i = 0; i < shape.readingsPerSensor; i += 1) {
    for (let s = 0; s < shape.sensors; s += 1) {
      const partition = shape.unkeyed ? (s + i) % BENCH_PARTITIONS : s % BENCH_PARTITIONS;
      const step = order[s]?.[i] ?? i;
      const eventTimeMs = startMs + step * shape.intervalMs + (s % 997);
      // Drawn, not every n-th: a fixed stride would hit the same sensor every time.
      const anomalous = (shape.anomalyEvery ?? 0) > 0 && random() * (shape.anomalyEvery ?? 1) < 1;
      const value = Math.round((50 + 10 * Math.sin(s + i) + (anomalous ? 500 : 0)) * 100) / 100;
      const sensorId = `${prefix}${s}`;
      const text =
        shape.format === 'csv'
          ? `${sensorId},${value},${eventTimeMs}`
          : JSON.stringify({ sensorId, value, timestamp: eventTimeMs });
      const offset = nextOffset[partition] ?? 0;
      nextOffset[partition] = offset + 1;
      records.push({
        topic: BENCH_TOPIC,
        partition,
        offset,
        // The broker's timestamp: when the reading was produced. Out of order, the whole batch
        // is produced late (after its last event time), so no reading is "from the future".
        timestampMs: shape.outOfOrder
          ? startMs + shape.readingsPerSensor * shape.intervalMs + 1000
          : startMs + i * shape.intervalMs + 50,
        key: shape.unkeyed ? null : enc.encode(sensorId),
        value: enc.encode(text),
      });
    }
  }
  return records;
}

/** An MSK event as Lambda delivers it: the tests' builder, so bench and tests send the same. */
export { mskEvent as toMskEvent } from '../test/helpers/kafka-events.ts';

/** Bytes of the event as Lambda would receive it (its JSON), for the 6 MB payload limit. */
export function eventBytes(event: MSKEvent): number {
  return Buffer.byteLength(JSON.stringify(event));
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}
